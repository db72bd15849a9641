"""The configuration writer: a config.yaml for an array process, as a user writes it."""
from __future__ import annotations

from pathlib import Path

from tests.support.arrayproc import PASSWORD, USER, ArrayProcess


def write_config(path: Path, proc: ArrayProcess | None, state: Path | None = None, **extra) -> Path:
    """The connection to `proc` (none when None), the state folder (default: `state` next
    to the file) and any other parameters by their manual names."""
    lines = [f"stateDir: {state or path.parent / 'state'}"]
    if proc is not None:
        lines += ["cimomHost: 127.0.0.1", f"cimomPort: {proc.port}", f"username: {USER}",
                  f"password: {PASSWORD}", f"usingSSL: {'false' if proc.http else 'true'}"]
        if not proc.http:
            lines.append(f"caFile: {proc.cafile}")
    lines += [f"{k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)       # it holds a password: readable by others, inspurvcfg warns
    return path
