"""Recovery files: one JSON file per lifecycle, replaced atomically before every side effect.

The same file is first the in-flight lifecycle ("about to attach these mappings") and,
once the lifecycle is done, the record of the shadow-copy set that exists. A file is
written to a temporary name, fsynced and renamed over the old one (core/files.py; rename is
atomic on POSIX and on NTFS via os.replace), so a crash leaves either the old or the new
content, never a torn one. The folder is fsynced too where the OS allows it.

Beside each file: `<key>.lock`, the lock its owner holds while it runs the lifecycle
(orchestrator/ownership.py). A file that cannot be read (truncated, garbage, empty, an
unknown schema) is skipped by every reader and moved aside as `<key>.json.corrupt` by
cleanup, so it never blocks the others. `lifecycle-ids` lists every lifecycle id this
folder ever opened: array objects named after one of them are this host's, whether or
not a file still accounts for them (cleanup --orphans).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from core.files import atomic_write
from orchestrator import ownership
from core.errors import VssError

SCHEMA = 1
SUFFIX = ".json"
CORRUPT = ".corrupt"
IDS = "lifecycle-ids"


class RecoveryStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.damaged: dict[str, str] = {}     # key -> why it cannot be read (last items())

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
            atomic_write(self.path(key), body)
        except OSError as exc:
            raise VssError(1600, f"{self.path(key)}: {exc.strerror}") from None

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
        """Every readable file; the others are noted in `damaged` and left where they are."""
        out = []
        self.damaged = {}
        for key in self.keys():
            try:
                data = self.load(key)
            except VssError as exc:
                self.damaged[key] = exc.detail
                continue
            if data is not None:
                out.append((key, data))
        return out

    def set_aside(self, key: str) -> Path:
        """Move an unreadable file out of the way (`<file>.corrupt`, never overwritten)."""
        path = self.path(key)
        aside = path.with_name(path.name + CORRUPT)
        n = 1
        while aside.exists():
            aside, n = path.with_name(f"{path.name}.{n}{CORRUPT}"), n + 1
        try:
            os.replace(path, aside)
        except OSError as exc:
            raise VssError(1900, f"{path}: {exc.strerror}") from None
        return aside

    # ------------------------------------------------------------ ownership
    def lock_path(self, key: str) -> Path:
        return self.root / f"{key}.lock"

    def claim(self, key: str, *, wait: bool = False, reenter: bool = True) -> bool:
        """Hold the lifecycle's lock (False: another owner runs it)."""
        self._ensure()
        try:
            return ownership.acquire(self.lock_path(key), wait=wait, reenter=reenter)
        except OSError as exc:
            raise VssError(1600, f"{self.lock_path(key)}: {exc.strerror}") from None

    def own(self, key: str) -> None:
        """claim(), or 4001 naming the owner that runs the lifecycle."""
        if not self.claim(key):
            try:
                owner = (self.load(key) or {}).get("owner")
            except VssError:
                owner = None
            raise VssError(4001, f"{key} is in use by {ownership.describe(owner)}")

    def let_go(self, key: str) -> None:
        """Release the lock; its file goes with it once nothing runs the lifecycle."""
        ownership.release(self.lock_path(key), remove=True)

    def note_id(self, lifecycle_id: str) -> None:
        """Record a lifecycle id before its first array object is made."""
        self._ensure()
        try:
            with open(self.root / IDS, "a", encoding="ascii") as fh:
                fh.write(lifecycle_id + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise VssError(1600, f"{self.root / IDS}: {exc.strerror}") from None

    def known_ids(self) -> set[str]:
        try:
            return set((self.root / IDS).read_text(encoding="ascii").split())
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            raise VssError(2502, f"{self.root / IDS}: {exc}") from None
