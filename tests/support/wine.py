"""The native provider under Wine: the cross compiler, the Windows host name the service
runs as, Wine's view of a path, and a headless Wine (a fresh WINEPREFIX, WINEDEBUG=-all,
no Mono/Gecko install prompts)."""
from __future__ import annotations

import fcntl
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from tests.support.commands import clean_env

CXX = "x86_64-w64-mingw32-g++-posix"
HOST = "vss_iscsi_host"


@contextmanager
def locked(path: Path):
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def winpath(path: Path) -> str:
    """Wine's Z: drive is the Unix root."""
    return str(PureWindowsPath("Z:/", *Path(path).resolve().parts[1:]))


@dataclass
class Wine:
    prefix: Path
    dll: Path
    harness: Path

    def env(self, **extra: str) -> dict:
        env = clean_env()
        env.update(WINEPREFIX=str(self.prefix), WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=",
                   WINEARCH="win64", DISPLAY="")
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(["wine", *args], env=self.env(**env), capture_output=True, text=True, timeout=timeout)
