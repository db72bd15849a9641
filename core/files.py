"""One atomic file write: a crash or a failure leaves the old content or the new, never a
torn file, and no temporary file behind."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o600) -> None:
    """Write a temporary file in the same folder, fsync it, rename it over `path`, fsync
    the folder (so the rename itself survives a crash). The file is created 0600, so the
    content is never readable by others meanwhile, and gets `mode` before the rename.
    Windows: no mode bits, and NTFS journals the rename (no folder handle to fsync).
    Raises OSError; the caller says what the file was."""
    body = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        if os.name != "nt" and mode != 0o600:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if os.name != "nt":
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
