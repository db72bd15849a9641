"""The shadow-copy records in the state folder: which file holds what, and how records
are read, written and listed. The engine writes through it; `vssorch list` and the
configuration tool read through it without an engine or an array.

Files (orchestrator/recovery.py: atomic JSON, locks), one per lifecycle:
    set-<set id>       a shadow-copy set: {"set": record, "op": in-flight lifecycle or null}
                       (create, then expose/import/unexpose run in the same file)
    delete-<id>, restore-<id>   deletes and restores, which may span several sets
Every file also names its last writer ("owner": pid, start time, host), and the process
running a lifecycle holds the file's lock (orchestrator/ownership.py) until it is over.
"""
from __future__ import annotations

from typing import Any

from core.errors import VssError
from core.records import Shadow, ShadowSet
from orchestrator import ownership
from orchestrator.recovery import RecoveryStore

SET_PREFIX = "set-"


def set_key(set_id: str) -> str:
    return f"{SET_PREFIX}{set_id}"


def op_key(kind: str, lifecycle_id: str) -> str:
    """The file of a delete or restore, which has none of its sets' files to run in."""
    return f"{kind}-{lifecycle_id}"


def is_unfinished(key: str, data: dict[str, Any]) -> bool:
    """A lifecycle is under way in this file: a delete or restore, or a set with an op."""
    return not key.startswith(SET_PREFIX) or bool(data.get("op"))


class RecordStore(RecoveryStore):
    """The recovery files of one state folder, read and written as records."""

    def save_set(self, record: ShadowSet, op: dict[str, Any] | None) -> None:
        """The set's record, with the lifecycle running in its file (None once it is over)."""
        self.save(set_key(record.set_id), {"set": record.to_json(), "owner": ownership.me(), "op": op})

    def save_op(self, key: str, snapshot: dict[str, Any]) -> None:
        self.save(key, {**snapshot, "owner": ownership.me()})

    def load_set(self, set_id: str) -> tuple[ShadowSet, dict[str, Any] | None]:
        """The set's record and the lifecycle under way in its file, if any (711: no such set)."""
        data = self.load(set_key(set_id))
        if data is None:
            raise VssError(711, f"no shadow-copy set {set_id}")
        return ShadowSet.from_json(data["set"]), data.get("op")

    def sets(self) -> list[ShadowSet]:
        """Every readable set record; the unreadable ones are in `damaged` (cleanup moves
        them aside)."""
        out = []
        for key, data in self.items():
            if key.startswith(SET_PREFIX):
                try:
                    out.append(ShadowSet.from_json(data["set"]))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    self.damaged[key] = f"{type(exc).__name__}: {exc}"
        return out

    def find_shadow(self, shadow_id: str) -> tuple[ShadowSet, Shadow]:
        for record in self.sets():
            for s in record.shadows:
                if s.shadow_id == shadow_id:
                    return record, s
        raise VssError(711, f"no shadow copy {shadow_id}")

    def owner_of_fcmap(self, fcmap_id: str, name: str | None) -> tuple[str, Shadow] | None:
        """The shadow copy of that mapping; by its name too, as the array reuses ids (a
        record whose delete withdrew its mapping still names the old id)."""
        for record in self.sets():
            if record.state != "done":
                continue
            for s in record.shadows:
                if s.fcmap_id == fcmap_id and name in (None, s.fcmap_name):
                    return record.set_id, s
        return None

    def forget(self, gone: list[tuple[str, str]]) -> None:
        """Remove shadow copies, (set id, shadow id), from their sets' records; a set left
        empty goes."""
        for set_id in {sid for sid, _ in gone}:
            key = set_key(set_id)
            data = self.load(key)
            if data is None:
                continue
            record = ShadowSet.from_json(data["set"])
            ids = {shadow_id for sid, shadow_id in gone if sid == set_id}
            record.shadows = [s for s in record.shadows if s.shadow_id not in ids]
            if record.shadows:
                self.save(key, {**data, "set": record.to_json()})
            else:
                self.delete(key)

    def unfinished(self) -> list[tuple[str, dict[str, Any]]]:
        """The readable files of lifecycles still under way (whoever runs them)."""
        return [(k, d) for k, d in self.items() if is_unfinished(k, d)]
