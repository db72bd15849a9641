"""`set <param> <value>`: change one key of the configuration file in place.

The file is the user's: comments, key order, quoting and line endings stay as they were
(ruamel.yaml round trip). The edited text is checked as a whole before it is written,
and it replaces the old file atomically, so a failed `set` leaves the old file intact.
A file that holds a password is never left readable by group or others.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from orchestrator.config import PARAMS, Config, parse_config, read_text, syntax_error
from orchestrator.errors import ConfigError, VssError

_SECRET_KEYS = frozenset(p.key for p in PARAMS if p.secret)


def set_value(path: Path, key: str, value: object,
              env: Mapping[str, str] = os.environ) -> Config:
    """Write `key: value` into the file at `path` (created if missing) and return the
    resulting configuration. `key` is a parameter's canonical name; `value` is what
    its kind stores (int, bool or str)."""
    target = path.resolve()      # through a symlink: replace the file, not the link
    old = read_text(target) if target.exists() else ""
    crlf = "\r\n" in old
    text, holds_secret = _edited(old.replace("\r\n", "\n"), key, value, str(path))
    config = parse_config(text, str(path), path.absolute().parent, env)
    _replace(target, text.replace("\n", "\r\n") if crlf else text, holds_secret)
    return config


def _round_trip() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096            # never fold a long value onto a second line
    return yaml


def _edited(old: str, key: str, value: object, source: str) -> tuple[str, bool]:
    """The new text, and whether it holds a secret."""
    yaml = _round_trip()
    try:
        doc = yaml.load(old)
    except YAMLError as exc:
        raise syntax_error(source, exc) from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply") from None
    prefix = ""
    if doc is None:
        # Nothing but comments (or nothing): a fresh mapping would drop them, so the
        # new line goes after the old text instead.
        doc = CommentedMap()
        prefix = old if not old or old.endswith("\n") else old + "\n"
    elif not isinstance(doc, CommentedMap):
        raise ConfigError(f"{source}: the file must be a mapping of 'parameter: value' lines")
    doc[key] = value
    out = io.StringIO()
    yaml.dump(doc, out)
    holds_secret = any(doc.get(k) not in (None, "") for k in _SECRET_KEYS)
    return prefix + out.getvalue(), holds_secret


def _replace(target: Path, text: str, holds_secret: bool) -> None:
    """Write a temporary file beside `target`, flush it to disk, rename it over `target`."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
        if holds_secret:
            mode &= 0o700
        # mkstemp creates the file 0600, so the text is never readable by others meanwhile.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            if os.name != "nt":      # Windows has no mode bits to set
                os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if os.name != "nt":          # make the rename itself durable
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        raise VssError(2506, f"{target}: {exc.strerror or exc}") from None
