"""A Hyper-V parent and guest on the embedded array, for tests (nothing real runs Hyper-V
here). The parent has HyperVParent's surface; its disks are what the array maps to its
port, and what it attached to the VM is kept in a file, so a crashed process and the
cleanup after it see the same parent."""
from __future__ import annotations

import json
from pathlib import Path

from core.ports import Initiators
from adapters.host.simulated import SimulatedHost
from tests.support.arrayproc import PASSWORD, USER


class PassThroughGuest(SimulatedHost):
    """The VM: it sees its pass-through disks and has no initiator of its own."""

    def initiators(self) -> Initiators:
        return Initiators()


class FakeParent:
    def __init__(self, array, port: str, folder: Path):
        self.array, self.port = array, port
        self.disks = SimulatedHost(array.url, port, folder, auth=(USER, PASSWORD))
        self._file = Path(folder) / "parent.json"

    def _load(self) -> dict:
        return json.loads(self._file.read_text()) if self._file.exists() else {"attached": [], "events": []}

    def _save(self, state: dict) -> None:
        self._file.write_text(json.dumps(state))

    @property
    def attached(self) -> list[str]:
        return self._load()["attached"]

    @property
    def events(self) -> list[tuple[str, str, bool]]:
        """(what, uid, whether the array mapped the LUN then)"""
        return [tuple(e) for e in self._load()["events"]]

    def _event(self, what: str, uid: str, attached: list[str] | None = None) -> None:
        state = self._load()
        state["events"].append([what, uid, uid in {lun["uid"] for lun in self.array.host_luns(self.port)}])
        if attached is not None:
            state["attached"] = attached
        self._save(state)

    def rescan(self):
        self.disks.rescan()

    def take_offline(self, uid):
        assert self.disks.release(uid)
        self._event("offline", uid)

    def attach_passthrough(self, uid):
        """Like HyperVParent's: a disk attached already is kept, not attached twice."""
        before = self.attached
        self._event("attach", uid, before if uid in before else before + [uid])

    def detach_passthrough(self, uid):
        before = self.attached
        self._event("detach", uid, [u for u in before if u != uid])
        return int(uid in before)

    def fc_wwpns(self):
        return ()
