"""Passwords at rest: the configuration file holds them sealed, never in clear.

A sealed value names its scheme: `dpapi:<base64>` on Windows (DPAPI, machine scope, so
the service account can open what an administrator stored), `fernet:<token>` elsewhere
(the `cryptography` package's Fernet with a key file beside the state folder, readable
only by its owner). A value without either prefix is a plain-text password from an older
file: it still works, and the next `inspurvcfg set` seals it.

The key and the clear text never appear in a message: errors name the file and what to do.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
import stat
import tempfile
from pathlib import Path

FERNET, DPAPI = "fernet", "dpapi"
_SEALED = re.compile(r"(fernet|dpapi):([A-Za-z0-9+/=_-]+)")


def scheme(windows: bool = os.name == "nt") -> str:
    """How this host seals a password."""
    return DPAPI if windows else FERNET


def is_sealed(stored: str) -> bool:
    return _SEALED.fullmatch(stored) is not None


def key_path(state_dir: Path) -> Path:
    """The Fernet key file: beside the state folder (not in it, so copying or cleaning
    the recovery records never carries the key along)."""
    return state_dir.with_name(state_dir.name + ".key")


def seal(plain: str, state_dir: Path, windows: bool = os.name == "nt") -> str:
    """The stored form of `plain` (created key file included, when there is none yet)."""
    data = plain.encode("utf-8")
    if scheme(windows) == DPAPI:
        return f"{DPAPI}:{base64.b64encode(_dpapi(data, protect=True)).decode('ascii')}"
    from cryptography.fernet import Fernet
    return f"{FERNET}:{Fernet(_key(key_path(state_dir), create=True)).encrypt(data).decode('ascii')}"


def reveal(stored: str, state_dir: Path, windows: bool = os.name == "nt") -> str:
    """The clear text of a stored value; a plain-text value as it is. ValueError says
    why a sealed one cannot be opened."""
    match = _SEALED.fullmatch(stored)
    if match is None:
        return stored
    kind, body = match.groups()
    again = "set it again with 'inspurvcfg set'"
    if kind == DPAPI:
        if not windows:
            raise ValueError(f"is sealed with Windows DPAPI, which only the Windows machine "
                             f"that stored it can open; {again}")
        try:
            data = _dpapi(base64.b64decode(body, validate=True), protect=False)
        except (binascii.Error, OSError) as exc:
            raise ValueError(f"cannot be opened with this machine's DPAPI ({exc}); {again}") from None
        return data.decode("utf-8")
    from cryptography.fernet import Fernet, InvalidToken
    path = key_path(state_dir)
    key = _key(path, create=False)
    try:
        return Fernet(key).decrypt(body.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeDecodeError):
        raise ValueError(f"cannot be opened with the key file {path} (it is not the key it was "
                         f"sealed with); {again}") from None


def access_warnings(config_file: Path, holds_secret: bool, state_dir: Path) -> list[str]:
    """What leaves the passwords open to other users: the configuration file (when it
    holds one) or the key file readable by group or others. No file modes on Windows."""
    checks = [(config_file, "holds a password")] if holds_secret else []
    problems = []
    for path, what in checks + [(key_path(state_dir), "is the key to the passwords")]:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if os.name != "nt" and mode & 0o077:
            problems.append(f"{path} {what} and other users can read or change it "
                            f"(mode {mode:04o}): chmod 600 {path}")
    return problems


def _key(path: Path, create: bool) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        if not create:
            raise ValueError(f"is sealed with the key file {path}, which is missing; "
                             "set it again with 'inspurvcfg set'") from None
    except OSError as exc:
        raise ValueError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
    from cryptography.fernet import Fernet
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp makes the file 0600; the link publishes the whole key at once and fails
        # if another process made one meanwhile (then theirs is the key).
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return path.read_bytes().strip()
    except OSError as exc:
        raise ValueError(f"cannot create the key file {path}: {exc.strerror or exc}") from None


# CryptProtectData flags (wincrypt.h).
_CRYPTPROTECT_UI_FORBIDDEN = 0x1
_CRYPTPROTECT_LOCAL_MACHINE = 0x4


def _dpapi(data: bytes, protect: bool) -> bytes:
    """CryptProtectData (machine scope) or CryptUnprotectData; Windows only."""
    import ctypes
    from ctypes import wintypes

    class Blob(ctypes.Structure):
        _fields_ = [("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_char))]

    buffer = ctypes.create_string_buffer(data, len(data))
    blob_in = Blob(len(data), ctypes.cast(buffer, ctypes.POINTER(ctypes.c_char)))
    blob_out = Blob()
    crypt32 = ctypes.windll.crypt32                                  # type: ignore[attr-defined]
    if protect:
        flags = _CRYPTPROTECT_UI_FORBIDDEN | _CRYPTPROTECT_LOCAL_MACHINE
        ok = crypt32.CryptProtectData(ctypes.byref(blob_in), "vssorch", None, None, None, flags,
                                      ctypes.byref(blob_out))
    else:
        ok = crypt32.CryptUnprotectData(ctypes.byref(blob_in), None, None, None, None,
                                        _CRYPTPROTECT_UI_FORBIDDEN, ctypes.byref(blob_out))
    if not ok:
        raise ctypes.WinError()                                      # type: ignore[attr-defined]
    try:
        return ctypes.string_at(blob_out.pbData, blob_out.cbData)
    finally:
        ctypes.windll.kernel32.LocalFree(blob_out.pbData)            # type: ignore[attr-defined]
