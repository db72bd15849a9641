"""FlashCopy driven over CIM only: the calls an SMI-S client makes on a plain pywbem
connection (no product adapter), the array's admin endpoint for the clock and its data
endpoint for bytes."""
from __future__ import annotations

import itertools

from pywbem import Uint16, Uint64

from tests.support.arrayproc import ArrayProcess
from tests.support.data import pattern
from tests.support.view import STATE_OF

CHUNK = 64 * 1024
SYNC = "IBMTSSVC_LocalStorageSynchronized"
OP_DETACH, OP_FRACTURE, OP_RESYNC, OP_PREPARE, OP_UNPREPARE, OP_QUIESCE = 2, 3, 4, 6, 7, 8
JOB_STARTED = 4096


class FcCim:
    """The calls an SMI-S client makes for FlashCopy, one CIM request each."""

    _names = itertools.count()

    def __init__(self, sim: ArrayProcess):
        self.sim = sim
        self.conn = sim.conn()
        self.scs = self.conn.EnumerateInstanceNames("IBMTSSVC_StorageConfigurationService")[0]
        self.pool = next(p.path for p in self.conn.EnumerateInstances("IBMTSSVC_ConcreteStoragePool")
                         if p["ElementName"] == "Pool0")

    def call(self, method: str, **params):
        return self.conn.InvokeMethod(method, self.scs, **params)

    # ------------------------------------------------------------ volumes and bytes
    def volume(self, size: int, tag: int | None = None):
        """-> (path, uid); filled with pattern(tag) when a tag is given."""
        rc, out = self.call("CreateOrModifyElementFromStoragePool", ElementName=f"fcv{next(self._names)}",
                            ElementType=Uint16(2), Size=Uint64(size), InPool=self.pool)
        assert rc == 0, rc
        path = out["TheElement"]
        uid = self.conn.GetInstance(path, PropertyList=["Name"])["Name"]
        if tag is not None:
            self.sim.write(uid, 0, pattern(tag, size))
        return path, uid

    def drop_volume(self, path) -> None:
        assert self.call("ReturnToStoragePool", TheElement=path, Force=True)[0] == 0

    def read(self, uid: str) -> bytes:
        return self.sim.read(uid)

    def write(self, uid: str, offset: int, data: bytes) -> None:
        self.sim.write(uid, offset, data)

    # ------------------------------------------------------------ time
    def freeze(self) -> None:
        self.sim.admin("PUT", "clock", {"scale": 1e-9})

    def advance(self, seconds: float) -> None:
        self.sim.admin("PUT", "clock", {"advance": seconds})

    # ------------------------------------------------------------ mappings
    def attach(self, src, tgt, rate=0, grain=64, incremental=False, copy_type=4, **extra):
        """AttachReplica -> (rc, the new mapping's path or None): the agent returns no
        mapping, so it is found as a client does, among the source's References."""
        rc, out = self.call("AttachReplica", SourceElement=src, TargetElement=tgt, CopyType=Uint16(copy_type),
                            BackgroundCopyRate=Uint16(rate), GrainSize=Uint16(grain),
                            Incremental=incremental, **extra)
        assert set(out) <= {"Job"}, out
        return rc, (self.sync_of(src, tgt) if rc == 0 else None)

    def sync_of(self, src, tgt):
        found = [r for r in self.conn.ReferenceNames(src, ResultClass=SYNC, Role="SystemElement")
                 if r["SyncedElement"]["DeviceID"] == tgt["DeviceID"]]
        assert len(found) == 1, found
        return found[0]

    def modify(self, sync, op: int, **extra):
        return self.call("ModifySynchronization", Synchronization=sync, Operation=Uint16(op), **extra)

    def modify_set(self, group, op: int, **extra):
        return self.call("ModifySynchronizedSet", SynchronizedSet=group, Operation=Uint16(op), **extra)

    def snapshot(self, src, tgt, rate=0, grain=64, **extra):
        """Attach, prepare (a Job), let the flush end, start: the image is taken now."""
        rc, sync = self.attach(src, tgt, rate=rate, grain=grain, **extra)
        assert rc == 0, rc
        rc, out = self.modify(sync, OP_PREPARE)
        assert rc == JOB_STARTED, rc
        self.advance(2)
        assert self.conn.GetInstance(out["Job"])["JobState"] == 7
        assert self.modify(sync, OP_RESYNC)[0] == 0
        return sync

    def mappings(self, *properties: str) -> dict[tuple[str, str], object]:
        """(source DeviceID, target DeviceID) -> instance (with these properties only)."""
        plist = ["SystemElementID", "SyncedElementID", *properties] if properties else None
        return {(m["SystemElementID"], m["SyncedElementID"]): m
                for m in self.conn.EnumerateInstances(SYNC, PropertyList=plist)}

    def state(self, sync) -> str:
        return STATE_OF[int(self.conn.GetInstance(sync, PropertyList=["SyncState"])["SyncState"])]
