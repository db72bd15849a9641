"""Creating a snapshot set: the IVssProviderCreateSnapshotSet calls and
BeginPrepareSnapshot, in the order the phase table (orchestrator/vss_phases.py) allows,
each mapped onto the lifecycle engine. A call out of order, for an unknown set or with a
LUN that is not ours fails with the HRESULT VSS would expect (VssFault) before anything
on the array changes. The engine keeps its own lifecycle files next to the phase book.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from core.log import get_logger
from orchestrator.engine import Orchestrator
from core.errors import VssError
from orchestrator.vss_book import PhaseBook
from orchestrator.vss_luns import volume_uids
from orchestrator.vss_phases import Phase, SnapshotSet, accepts, advance
from orchestrator.vss_types import (MAX_VOLUMES, HResult, LunInfo, VssFault, context_problem, fault_of,
                                    manual_error, options_of)

log = get_logger("vssorch.vss")


class SetCreation:
    """The creation calls of VssProvider (orchestrator/vss.py), which provides `book`,
    `orch` and `_engine`."""

    book: PhaseBook
    _engine: Callable[..., Any]
    if TYPE_CHECKING:
        @property
        def orch(self) -> Orchestrator: ...

    def _run(self, s: SnapshotSet, call: str, fn: Callable[[], object], write: bool = True):
        """Run one engine step; a failure leaves the set aborted (the engine rolled back).
        Without `write` the new phase is held in memory (PhaseBook.hold)."""
        try:
            out = fn()
        except Exception as exc:    # noqa: BLE001 - a bug goes on to the service's 500
            error = manual_error(exc)
            if error is None:
                raise
            advance(s, "failed")
            self.book.save(s)
            fault = fault_of(error)
            log.warning("vss call failed", call=call, set_id=s.set_id, hresult=fault.hr.name, code=fault.code,
                        error=fault.detail)
            raise fault from None
        advance(s, call)
        if write:
            self.book.save(s)
        else:
            self.book.hold(s)
        log.info("vss call", call=call, set_id=s.set_id, phase=s.phase.value)
        return out

    def _step(self, set_id: str, call: str) -> SnapshotSet:
        return self.book.step(set_id, call, self._exists)

    def BeginPrepareSnapshot(self, set_id: str, snapshot_id: str, context: int, luns: Sequence[LunInfo],
                             device_names: Sequence[str] = ()) -> dict:
        call = "BeginPrepareSnapshot"
        with self.book.lock(set_id):
            s = self.book.load(set_id)
            if s is None:
                problem = context_problem(context)
                if problem:
                    raise VssFault(HResult.VSS_E_UNSUPPORTED_CONTEXT, f"{call}: {problem}")
                if self._exists(set_id):
                    raise VssFault(HResult.VSS_E_BAD_STATE, f"{call}: snapshot set {set_id} already exists")
                s = SnapshotSet(set_id, context, Phase.NEW)
            elif not accepts(s.phase, call):
                raise VssFault(HResult.VSS_E_BAD_STATE, f"{call} for snapshot set {set_id} in phase {s.phase.value}")
            elif s.context != context:
                raise VssFault(HResult.VSS_E_BAD_STATE, f"{call}: context 0x{context:X} differs from the "
                                                        f"set's 0x{s.context:X}")
            lun_uids = volume_uids(luns, call)
            if snapshot_id in s.snapshots:
                raise VssFault(HResult.VSS_E_BAD_STATE, f"{call}: snapshot {snapshot_id} is already in the set")
            taken = set(s.snapshots.values())
            if any(u in taken for u in lun_uids) or len(set(lun_uids)) != len(lun_uids):
                raise VssFault(HResult.VSS_E_PROVIDER_VETO, f"{call}: a LUN is already in snapshot set {set_id}", 103)
            if len(s.snapshots) + 1 > MAX_VOLUMES:
                raise VssFault(HResult.VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED,
                               f"{call}: a snapshot set holds at most {MAX_VOLUMES} volumes")
            if len(lun_uids) != 1:
                # one shadow copy per volume; a volume spanning LUNs would need them all in one id
                raise VssFault(HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER,
                               f"{call}: a volume on {len(lun_uids)} LUNs is not supported", 201)
            s.snapshots[snapshot_id] = lun_uids[0]
            if device_names:
                s.devices[snapshot_id] = device_names[0]
            advance(s, call)
            self.book.save(s)
            log.info("vss call", call=call, set_id=set_id, snapshot_id=snapshot_id, volumes=len(s.snapshots))
            return {"phase": s.phase.value, "volumes": len(s.snapshots)}

    def EndPrepareSnapshots(self, set_id: str) -> dict:
        call = "EndPrepareSnapshots"
        with self.book.lock(set_id):
            s = self._step(set_id, call)
            sources = list(s.snapshots.values())
            found = self._engine(call, lambda: self.orch.supported(sources))
            missing = [u for u in sources if not found[u]]
            if missing:
                raise VssFault(HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER,
                               f"{call}: no volume on this array has UID {missing[0]}", 201)
            self._run(s, call, lambda: self.orch.prepare(set_id, sources, options_of(s.context)))
            return {"phase": s.phase.value}

    def PreCommitSnapshots(self, set_id: str) -> dict:
        # Writers are frozen from here: nothing to do, everything was prepared.
        with self.book.lock(set_id):
            s = self._step(set_id, "PreCommitSnapshots")
            self._run(s, "PreCommitSnapshots", lambda: self.orch.pre_commit(set_id))
            return {"phase": s.phase.value}

    def CommitSnapshots(self, set_id: str) -> dict:
        # The flush-and-hold window: the one array request and no file write.
        with self.book.lock(set_id):
            s = self._step(set_id, "CommitSnapshots")
            self._run(s, "CommitSnapshots", lambda: self.orch.commit(set_id), write=False)
            return {"phase": s.phase.value}

    def PostCommitSnapshots(self, set_id: str, snapshots_count: int) -> dict:
        call = "PostCommitSnapshots"
        with self.book.lock(set_id):
            s = self._step(set_id, call)
            if snapshots_count != len(s.snapshots):
                raise VssFault(HResult.VSS_E_BAD_STATE, f"{call}: {snapshots_count} snapshots announced, "
                                                        f"the set has {len(s.snapshots)}")
            self._run(s, call, lambda: self.orch.post_commit(set_id))
            return {"phase": s.phase.value}

    def PreFinalCommitSnapshots(self, set_id: str) -> dict:
        with self.book.lock(set_id):
            s = self._step(set_id, "PreFinalCommitSnapshots")
            self._run(s, "PreFinalCommitSnapshots", lambda: None)
            return {"phase": s.phase.value}

    def PostFinalCommitSnapshots(self, set_id: str) -> dict:
        with self.book.lock(set_id):
            s = self._step(set_id, "PostFinalCommitSnapshots")
            self._run(s, "PostFinalCommitSnapshots", lambda: None)
            return {"phase": s.phase.value}

    def AbortSnapshots(self, set_id: str) -> dict:
        """Undo everything done for the set so far; again is harmless. After
        PostFinalCommitSnapshots the set is finished: it goes only by OnLunEmpty (VSS's
        delete), never by an abort (the table keeps it final)."""
        call = "AbortSnapshots"
        with self.book.lock(set_id):
            s = self.book.state(set_id, call)
            was = s.phase
            if was not in (Phase.PREPARING, Phase.ABORTED, Phase.FINAL):
                self._engine(call, lambda: self._abort_engine(set_id))
            advance(s, call)
            if s.phase is not was:
                self.book.save(s)
                log.info("vss call", call=call, set_id=set_id, phase=s.phase.value)
            elif s.phase is Phase.FINAL:
                log.info("vss call", call=call, set_id=set_id, phase=s.phase.value, kept=True)
            return {"phase": s.phase.value}

    def _exists(self, set_id: str) -> bool:
        if self.orch.creating(set_id):
            return True         # no file read (CommitSnapshots runs in the hold window)
        try:
            self.orch.get_set(set_id)
        except VssError as exc:
            if exc.code == 711:
                return False
            raise fault_of(exc) from None
        return True

    def _abort_engine(self, set_id: str) -> None:
        try:
            self.orch.abort(set_id)
        except VssError as exc:
            if exc.code != 711:      # already gone (a failed step rolled it back)
                raise
