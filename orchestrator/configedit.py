"""`set <param> <value>`: change keys of the configuration file in place.

The file is the user's: comments, key order, quoting and line endings stay as they were
(ruamel.yaml round trip). The edited text is checked as a whole before it is written,
and it replaces the old file atomically, so a failed `set` leaves the old file intact.
Passwords are written sealed (orchestrator.passwords), a plain-text one from an older
file included, and a file that holds one is never left readable by group or others.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from core.files import atomic_write
from orchestrator import passwords
from orchestrator.config import (PARAMS, Config, Param, default_state_dir, find_param,
                                 parse_config, read_text, read_value, syntax_error)
from core.errors import ConfigError, VssError

_SECRET_KEYS = tuple(p.key for p in PARAMS if p.secret)
_STR_TAG = "tag:yaml.org,2002:str"


def read_values(param: Param, text: str, base: Path) -> dict[Param, Any]:
    """A `set` argument's values: one, or three for the installer's URL form of
    cimomHost (`https://host:5989` sets cimomHost, cimomPort and usingSSL)."""
    if param.key != "cimomHost" or "://" not in text:
        return {param: read_value(param, text, base)}
    problem = ("cimomHost: must be a host name or IP address, or a URL such as "
               "https://host:5989 (http or https, host and port only)")
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(problem) from None
    ssl = parts.scheme.lower() == "https"
    if (parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or parts.username is not None or parts.path not in ("", "/")
            or parts.query or parts.fragment):
        raise ConfigError(problem)
    port_param, ssl_param = find_param("cimomPort"), find_param("usingSSL")
    port_text = str(port if port is not None else 5989 if ssl else 5988)
    return {param: read_value(param, parts.hostname, base),
            port_param: read_value(port_param, port_text, base), ssl_param: ssl}


def set_value(path: Path, key: str, value: object,
              env: Mapping[str, str] = os.environ) -> Config:
    """Write `key: value` into the file at `path` (created if missing) and return the
    resulting configuration. `key` is a parameter's canonical name; `value` is what
    its kind stores (int, bool or str)."""
    return set_values(path, {key: value}, env)


def set_values(path: Path, changes: Mapping[str, object],
               env: Mapping[str, str] = os.environ) -> Config:
    """`set_value` for several keys at once (all written, or none)."""
    target = path.resolve()      # through a symlink: replace the file, not the link
    old = read_text(target) if target.exists() else ""
    crlf = "\r\n" in old
    source, base = str(path), path.absolute().parent
    doc, prefix = _loaded(old.replace("\r\n", "\n"), source)
    # A password being replaced need not open (its key may be lost); the others must.
    stored = {k: v for k, v in _secret_texts(old, source).items() if k not in changes}
    old_state: Path | None = None
    plain = dict(stored)         # a plain-text password is its own clear text
    if any(passwords.is_sealed(v) for v in stored.values()):
        old_state = _state_dir(doc, base, source)
        plain = {k: _reveal(v, old_state, source, k) for k, v in stored.items()}
    for key, value in changes.items():
        doc[key] = _stored(value)
        if key in _SECRET_KEYS:
            plain[key] = str(value)
    # The clear text is checked in memory only; what is written holds it sealed.
    for key, value in plain.items():
        doc[key] = _stored(value)
    config = parse_config(prefix + _dumped(doc), source, base, env)
    for key, value in plain.items():
        keep = stored.get(key) if config.state_dir == old_state else None
        doc[key] = keep if keep and passwords.is_sealed(keep) else _seal(value, config.state_dir)
    text = prefix + _dumped(doc)
    holds_secret = any(plain.values())
    _replace(target, text.replace("\n", "\r\n") if crlf else text, holds_secret)
    return config


def _secret_texts(old: str, source: str) -> dict[str, str]:
    """The passwords in the file as written (ruamel.yaml would turn `password: 0x1F`
    into 31): the value text PyYAML sees, as parse_config reads it."""
    try:
        root = pyyaml.compose(old, Loader=getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader))
    except (pyyaml.YAMLError, RecursionError) as exc:
        raise ConfigError(f"{source}: {exc}") from None
    pairs = root.value if isinstance(root, pyyaml.MappingNode) else ()
    return {k.value: v.value for k, v in pairs
            if k.value in _SECRET_KEYS and isinstance(v, pyyaml.ScalarNode)
            and v.tag != "tag:yaml.org,2002:null" and v.value}


def _stored(value: object) -> object:
    """A text YAML would read as another type (`yes`, `1e3`, `null`, `12:30`) or as a tag
    (`!abc`) is stored quoted; ruamel.yaml quotes only for YAML 1.2, PyYAML reads 1.1."""
    if isinstance(value, str) and value and (
            value[0] in "!&*" or pyyaml.resolver.Resolver().resolve(
                pyyaml.ScalarNode, value, (True, False)) != _STR_TAG):
        return SingleQuotedScalarString(value)
    return value


def _seal(plain: str, state_dir: Path) -> object:
    if not plain:
        return ""
    try:
        return passwords.seal(plain, state_dir)
    except (ValueError, OSError) as exc:
        raise VssError(2506, f"cannot seal the password: {exc}") from None


def _reveal(stored: str, state_dir: Path, source: str, key: str) -> str:
    try:
        return passwords.reveal(stored, state_dir)
    except ValueError as exc:
        raise ConfigError(f"{source}: {key}: {exc}") from None


def _state_dir(doc: CommentedMap, base: Path, source: str) -> Path:
    """The state folder the file names now (its key file opens the sealed passwords)."""
    value = doc.get("stateDir")
    if value in (None, ""):
        return default_state_dir()
    try:
        return find_param("stateDir").kind.parse(str(value), base)
    except ValueError as exc:
        raise ConfigError(f"{source}: stateDir: {exc}") from None


def _round_trip() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096            # never fold a long value onto a second line
    return yaml


def _loaded(old: str, source: str) -> tuple[CommentedMap, str]:
    """The file's mapping, and the text to keep before it (a file of only comments)."""
    yaml = _round_trip()
    try:
        doc = yaml.load(old)
    except YAMLError as exc:
        raise syntax_error(source, exc) from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply") from None
    if doc is None:
        # Nothing but comments (or nothing): a fresh mapping would drop them, so the
        # new lines go after the old text instead.
        return CommentedMap(), old if not old or old.endswith("\n") else old + "\n"
    if not isinstance(doc, CommentedMap):
        raise ConfigError(f"{source}: the file must be a mapping of 'parameter: value' lines")
    return doc, ""


def _dumped(doc: CommentedMap) -> str:
    out = io.StringIO()
    _round_trip().dump(doc, out)
    return out.getvalue()


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
        atomic_write(target, text, mode=mode)
    except OSError as exc:
        raise VssError(2506, f"{target}: {exc.strerror or exc}") from None
