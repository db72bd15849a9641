"""Recovery files: one JSON file per lifecycle, replaced atomically before every side effect.

The same file is first the in-flight lifecycle ("about to attach these mappings") and,
once the lifecycle is done, the record of the shadow-copy set that exists. A file is
written to a temporary name, fsynced and renamed over the old one (rename is atomic on
POSIX and on NTFS via os.replace), so a crash leaves either the old or the new content,
never a torn one. The folder is fsynced too where the OS allows it.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from orchestrator.errors import VssError

SCHEMA = 1
SUFFIX = ".json"


class RecoveryStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _ensure(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VssError(1600, f"{self.root}: {exc.strerror}") from None

    def path(self, key: str) -> Path:
        return self.root / f"{key}{SUFFIX}"

    def save(self, key: str, data: dict) -> None:
        self._ensure()
        body = json.dumps({"schema": SCHEMA, **data}, indent=1, sort_keys=True).encode()
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.root)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise VssError(1600, f"{self.path(key)}: {exc.strerror}") from None
        self._sync_dir()

    def _sync_dir(self) -> None:
        if sys.platform == "win32":      # NTFS metadata is journalled; no directory handles
            return
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def load(self, key: str) -> dict | None:
        path = self.path(key)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise VssError(2502, f"{path}: {exc}") from None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise VssError(2502, f"{path}: unknown schema {data.get('schema') if isinstance(data, dict) else '?'}")
        data.pop("schema")
        return data

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise VssError(1900, f"{self.path(key)}: {exc.strerror}") from None

    def keys(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name[:-len(SUFFIX)] for p in self.root.glob(f"*{SUFFIX}") if not p.name.startswith("."))

    def items(self) -> list[tuple[str, dict]]:
        out = []
        for key in self.keys():
            data = self.load(key)
            if data is not None:
                out.append((key, data))
        return out
