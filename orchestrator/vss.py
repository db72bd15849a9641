"""The VSS hardware-provider callbacks, mapped onto the lifecycle engine (F4).

Each method is named after the interface call it serves (IVssHardwareSnapshotProvider[Ex],
IVssProviderCreateSnapshotSet, IVssProviderNotifications). Creating a set is a
per-set state machine that enforces VSS's order of calls:

    BeginPrepareSnapshot xN   collect the LUNs (no array change)
    EndPrepareSnapshots       Orchestrator.prepare: every heavy step, before the freeze
    PreCommitSnapshots        Orchestrator.pre_commit: the set's file says "about to commit"
    CommitSnapshots           Orchestrator.commit: one array request (flush-and-hold), no write
    PostCommitSnapshots       Orchestrator.post_commit: dissolve the group, reserve targets
    Pre/PostFinalCommit       nothing (auto-recovery is done by VSS on the surfaced LUNs)
    AbortSnapshots            Orchestrator.abort, from any phase

A call out of order, for an unknown set or with a LUN that is not ours fails with the
HRESULT VSS would expect (VssFault) before anything on the array changes. The phase of
each set is kept in <stateDir>/vss/ so the service may restart between two callbacks;
the engine keeps its own lifecycle files next to it.
"""
from __future__ import annotations

import threading
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Sequence

import structlog

from orchestrator.engine import Orchestrator
from core.errors import CASCADE_RESTORED, MESSAGES, VssError
from orchestrator.recovery import RecoveryStore
from core.records import SetOptions, Shadow, ShadowSet
from orchestrator.vss_types import (ALL_ATTRS, ORDER, RESULT_ONLY, Attr, HResult, Identifier, LunInfo,
                                    Phase, SnapshotSet, VssFault)

log = structlog.get_logger("vssorch.vss")

MAX_VOLUMES = 64               # VSS's own limit for one snapshot set
# phases in which the engine holds the set's create lifecycle, and those after creation
ENGINE_PHASES = (Phase.PREPARED, Phase.PRECOMMITTED, Phase.COMMITTED)
FINISHED = (Phase.POSTCOMMITTED, Phase.FINAL)
PROVIDER_ID = "{d90dd826-87cf-42ce-a88d-b32caa82025b}"    # the manual's provider (figure 4-6)
PROVIDER_NAME = "Inspur Storage Volume Shadow Copy Service Hardware Provider"
PROVIDER_VERSION = "1.00.0.0"
# What an SVC-family LUN answers to INQUIRY; FillInLunInfo/GetTargetLuns report it.
VENDOR, PRODUCT, REVISION = "IBM", "2145", "0000"


class LunChange:
    """OnLunStateChange flags (_VSS_HARDWARE_OPTIONS)."""

    NOTIFY_READ_WRITE = 0x100
    NOTIFY_LUN_PRE_RECOVERY = 0x200
    NOTIFY_LUN_POST_RECOVERY = 0x400
    DO_MASK_LUNS = 0x800
    ALL = 0xF00


def _failures(exc: BaseException) -> VssError | None:
    """The manual's error an engine or array failure carries (array errors reach us
    directly from lookups such as supported()), or None for a bug."""
    if isinstance(exc, VssError):
        return exc
    code = getattr(exc, "code", None)
    if isinstance(code, int) and code in MESSAGES:
        return VssError(code, getattr(exc, "detail", None) or str(exc))
    return None


def _fault_of(exc: VssError) -> VssFault:
    hr = {3007: HResult.VSS_E_INSUFFICIENT_STORAGE, 711: HResult.VSS_E_OBJECT_NOT_FOUND,
          201: HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER}.get(exc.code, HResult.VSS_E_PROVIDER_VETO)
    return VssFault(hr, exc.detail or exc.message, exc.code)


def options_of(context: int) -> SetOptions:
    """The engine's set options for a VSS context (attribute bits)."""
    attrs = Attr(context)
    return SetOptions(transportable=bool(attrs & Attr.TRANSPORTABLE),
                      persistent=bool(attrs & (Attr.PERSISTENT | Attr.NO_AUTO_RELEASE)),
                      # a copy-on-write (differential) copy is our rate-0 mapping
                      copy_rate=0 if attrs & Attr.DIFFERENTIAL else None)


def context_problem(context) -> str | None:
    if not isinstance(context, int) or isinstance(context, bool) or context < 0:
        return "the context must be a non-negative integer of attribute bits"
    if context & ~ALL_ATTRS:
        return f"unknown attribute bits 0x{context & ~ALL_ATTRS:X}"
    if context & RESULT_ONLY:
        return f"attributes {Attr(context & RESULT_ONLY)!s} describe existing shadow copies"
    if context & Attr.DIFFERENTIAL and context & Attr.PLEX:
        return "a shadow copy is either differential or plex"
    return None


class VssProvider:
    """One provider instance per service. `orchestrator` is called for the current engine
    (the service swaps it when the configuration changes); `host_name` is the array host
    standing for this machine when LocateLuns maps targets here (None: the engine's host
    adapter finds it from this machine's initiators)."""

    def __init__(self, orchestrator: Callable[[], Orchestrator], state_dir: Path, host_name: str | None = None):
        self._orch = orchestrator
        self.host_name = host_name
        self.files = RecoveryStore(Path(state_dir) / "vss")
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        # sets whose newest phase is not written yet: CommitSnapshots writes nothing in the
        # hold window, PostCommitSnapshots (or an abort) writes it. A service restarted in
        # between finds them precommitted and refuses PostCommit (the engine rolls back).
        self._held: dict[str, SnapshotSet] = {}
        self.loaded = False

    # ------------------------------------------------------------ plumbing
    @property
    def orch(self) -> Orchestrator:
        orch = self._orch()
        orch.ctx.home = self.host_name      # whose volumes sets may copy (the engine may be new)
        return orch

    def _lock(self, set_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(set_id, threading.Lock())

    def _locked(self, set_ids: Sequence[str]) -> ExitStack:
        """Hold several sets' locks, always in the same order (no deadlock between calls)."""
        stack = ExitStack()
        for sid in sorted(set(set_ids)):
            stack.enter_context(self._lock(sid))
        return stack

    def _key(self, set_id: str) -> str:
        return "set-" + uuid.uuid5(uuid.NAMESPACE_OID, set_id).hex   # any GUID spelling is a safe file name

    def _load(self, set_id: str) -> SnapshotSet | None:
        if set_id in self._held:
            return self._held[set_id]
        data = self.files.load(self._key(set_id))
        return SnapshotSet.from_json(data) if data else None

    def _save(self, s: SnapshotSet) -> None:
        self._held.pop(s.set_id, None)
        self.files.save(self._key(s.set_id), s.to_json())

    def _state(self, set_id: str, call: str) -> SnapshotSet:
        s = self._load(set_id)
        if s is None:
            raise VssFault(HResult.VSS_E_OBJECT_NOT_FOUND, f"{call}: unknown snapshot set {set_id}", 711)
        return s

    def _step(self, set_id: str, call: str) -> SnapshotSet:
        s = self._state(set_id, call)
        allowed, _ = ORDER[call]
        if s.phase in ENGINE_PHASES and not self._exists(set_id):
            self._mark_aborted(s)       # a cleanup rolled it back while the service was down
        if s.phase not in allowed:
            raise VssFault(HResult.VSS_E_BAD_STATE,
                           f"{call} for snapshot set {set_id} in phase {s.phase.value} "
                           f"(needs {' or '.join(p.value for p in allowed if p)})")
        return s

    def _mark_aborted(self, s: SnapshotSet) -> None:
        log.warning("vss set rolled back outside the service", set_id=s.set_id, phase=s.phase.value)
        s.phase = Phase.ABORTED
        self._save(s)

    def _run(self, s: SnapshotSet, call: str, fn: Callable[[], object], write: bool = True):
        """Run one engine step; a failure leaves the set aborted (the engine rolled back).
        Without `write` the new phase is held in memory (see _held)."""
        try:
            out = fn()
        except Exception as exc:    # noqa: BLE001 - a bug goes on to the service's 500
            error = _failures(exc)
            if error is None:
                raise
            s.phase = Phase.ABORTED
            self._save(s)
            fault = _fault_of(error)
            log.warning("vss call failed", call=call, set_id=s.set_id, hresult=fault.hr.name, code=fault.code,
                        error=fault.detail)
            raise fault from None
        s.phase = ORDER[call][1]
        if write:
            self._save(s)
        else:
            self._held[s.set_id] = s
        log.info("vss call", call=call, set_id=s.set_id, phase=s.phase.value)
        return out

    def _uids(self, luns: Sequence[LunInfo], call: str) -> list[str]:
        out = []
        for lun in luns:
            if lun.virtual:
                raise VssFault(HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER,
                               f"{call}: {lun.vendor} {lun.product} is a virtual disk", 201)
            if lun.uid is None:
                raise VssFault(HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER,
                               f"{call}: a LUN without a page 0x83 NAA identifier", 201)
            out.append(lun.uid)
        return out

    def _shadows_by_target(self, uids: Sequence[str], call: str) -> list[tuple[ShadowSet, Shadow]]:
        by_target = {s.target_uid: (record, s) for record in self.orch.sets() if record.state == "done"
                     for s in record.shadows if s.target_uid}
        missing = [u for u in uids if u not in by_target]
        if missing:
            raise VssFault(HResult.VSS_E_OBJECT_NOT_FOUND, f"{call}: LUN {missing[0]} holds no shadow copy", 711)
        return [by_target[u] for u in uids]

    def _host_id(self) -> str:
        ctx = self.orch.ctx
        return ctx.host(self.host_name, 3004).id if self.host_name else ctx.consumer_host().id

    def _engine(self, call: str, fn: Callable[[], object]):
        try:
            return fn()
        except Exception as exc:    # noqa: BLE001 - a bug goes on to the service's 500
            error = _failures(exc)
            if error is None:
                raise
            fault = _fault_of(error)
            log.warning("vss call failed", call=call, hresult=fault.hr.name, code=fault.code, error=fault.detail)
            raise fault from None

    # ------------------------------------------------------------ notifications
    def OnLoad(self) -> dict:
        """The provider is loaded: finish or roll back what a crash left (engine cleanup),
        then bring the phase files in line: a set being created whose lifecycle is gone
        was rolled back (its next callback is VSS_E_BAD_STATE); the files of sets aborted
        before this start, or finished and deleted since, go."""
        report = self._engine("OnLoad", self.orch.cleanup)
        self._forget_gone(at_load=True)
        self.loaded = True
        return {"cleanup": report}

    def OnUnload(self, force: bool = False) -> dict:
        """Unloading: with `force`, sets still being created are aborted (VSS is going away)."""
        aborted = []
        if force:
            for _key, data in self.files.items():
                s = SnapshotSet.from_json(data)
                if s.phase not in (*FINISHED, Phase.ABORTED):
                    self.AbortSnapshots(s.set_id)
                    aborted.append(s.set_id)
        self.loaded = False
        return {"aborted": aborted}

    def GetProviderCapabilities(self) -> dict:
        """Reserved by Microsoft; we describe ourselves for the driver's `list providers`."""
        return {"provider_id": PROVIDER_ID, "name": PROVIDER_NAME, "version": PROVIDER_VERSION,
                "type": "VSS_PROV_HARDWARE", "max_volumes": MAX_VOLUMES,
                "attributes": [a.name for a in (Attr.PERSISTENT, Attr.NO_AUTO_RELEASE, Attr.TRANSPORTABLE,
                                                Attr.DIFFERENTIAL, Attr.PLEX, Attr.NO_WRITERS)],
                "resync": True}

    # ------------------------------------------------------------ LUN questions
    def AreLunsSupported(self, context: int, luns: Sequence[LunInfo], device_names: Sequence[str] = ()) -> dict:
        """Can these LUNs be shadow-copied together in this context? One array request; no change."""
        reasons: dict[str, str] = {}
        problem = context_problem(context)
        if problem:
            reasons["context"] = problem
        if len(luns) > MAX_VOLUMES:
            reasons["count"] = f"{len(luns)} LUNs; a snapshot set holds at most {MAX_VOLUMES}"
        names = list(device_names) or [f"lun{i}" for i in range(len(luns))]
        wanted = {}
        for name, lun in zip(names, luns):
            if lun.virtual:
                reasons[name] = "a virtual disk (VHD, vRDM, VMFS)"
            elif lun.uid is None:
                reasons[name] = "no page 0x83 NAA identifier"
            else:
                wanted[name] = lun.uid
        if wanted and not reasons:
            found = self._engine("AreLunsSupported", lambda: self.orch.supported(list(wanted.values())))
            reasons.update({n: "not a volume of this array" for n, u in wanted.items() if not found[u]})
        return {"supported": not reasons, "reasons": reasons}

    def FillInLunInfo(self, device_name: str, lun: LunInfo) -> dict:
        """Complete the LUN information of a disk VSS sees, if the disk is ours."""
        uid = None if lun.virtual else lun.uid
        vol = None
        if uid:
            vol = self._engine("FillInLunInfo", lambda: self.orch.volumes([uid])).get(uid)
        if vol is None:
            return {"supported": False, "lun": lun.to_json()}
        return {"supported": True, "lun": self._describe(uid, lun).to_json(), "volume": vol.name}

    @staticmethod
    def _describe(uid: str, base: LunInfo | None = None) -> LunInfo:
        lun = base or LunInfo()
        ids = [i for i in lun.identifiers if not (i.type == "naa" and i.association == "lun")]
        return LunInfo(vendor=lun.vendor or VENDOR, product=lun.product or PRODUCT,
                       revision=lun.revision or REVISION, serial=lun.serial or uid,
                       bus_type=lun.bus_type, device_type=lun.device_type,
                       device_type_modifier=lun.device_type_modifier, command_queueing=lun.command_queueing,
                       disk_signature=lun.disk_signature,
                       identifiers=[Identifier(id=uid), *ids], interconnects=lun.interconnects)

    # ------------------------------------------------------------ creating a set
    def BeginPrepareSnapshot(self, set_id: str, snapshot_id: str, context: int, luns: Sequence[LunInfo],
                             device_names: Sequence[str] = ()) -> dict:
        call = "BeginPrepareSnapshot"
        with self._lock(set_id):
            s = self._load(set_id)
            if s is None:
                problem = context_problem(context)
                if problem:
                    raise VssFault(HResult.VSS_E_UNSUPPORTED_CONTEXT, f"{call}: {problem}")
                if self._exists(set_id):
                    raise VssFault(HResult.VSS_E_BAD_STATE, f"{call}: snapshot set {set_id} already exists")
                s = SnapshotSet(set_id, context, Phase.PREPARING)
            elif s.phase not in ORDER[call][0]:
                raise VssFault(HResult.VSS_E_BAD_STATE, f"{call} for snapshot set {set_id} in phase {s.phase.value}")
            elif s.context != context:
                raise VssFault(HResult.VSS_E_BAD_STATE, f"{call}: context 0x{context:X} differs from the "
                                                        f"set's 0x{s.context:X}")
            uids = self._uids(luns, call)
            if snapshot_id in s.snapshots:
                raise VssFault(HResult.VSS_E_BAD_STATE, f"{call}: snapshot {snapshot_id} is already in the set")
            taken = set(s.snapshots.values())
            if any(u in taken for u in uids) or len(set(uids)) != len(uids):
                raise VssFault(HResult.VSS_E_PROVIDER_VETO, f"{call}: a LUN is already in snapshot set {set_id}", 103)
            if len(s.snapshots) + 1 > MAX_VOLUMES:
                raise VssFault(HResult.VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED,
                               f"{call}: a snapshot set holds at most {MAX_VOLUMES} volumes")
            if len(uids) != 1:
                # one shadow copy per volume; a volume spanning LUNs would need them all in one id
                raise VssFault(HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER,
                               f"{call}: a volume on {len(uids)} LUNs is not supported", 201)
            s.snapshots[snapshot_id] = uids[0]
            if device_names:
                s.devices[snapshot_id] = device_names[0]
            self._save(s)
            log.info("vss call", call=call, set_id=set_id, snapshot_id=snapshot_id, volumes=len(s.snapshots))
            return {"phase": s.phase.value, "volumes": len(s.snapshots)}

    def EndPrepareSnapshots(self, set_id: str) -> dict:
        call = "EndPrepareSnapshots"
        with self._lock(set_id):
            s = self._step(set_id, call)
            uids = list(s.snapshots.values())
            found = self._engine(call, lambda: self.orch.supported(uids))
            missing = [u for u in uids if not found[u]]
            if missing:
                raise VssFault(HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER,
                               f"{call}: no volume on this array has UID {missing[0]}", 201)
            self._run(s, call, lambda: self.orch.prepare(set_id, uids, options_of(s.context)))
            return {"phase": s.phase.value}

    def PreCommitSnapshots(self, set_id: str) -> dict:
        # Writers are frozen from here: nothing to do, everything was prepared.
        with self._lock(set_id):
            s = self._step(set_id, "PreCommitSnapshots")
            self._run(s, "PreCommitSnapshots", lambda: self.orch.pre_commit(set_id))
            return {"phase": s.phase.value}

    def CommitSnapshots(self, set_id: str) -> dict:
        # The flush-and-hold window: the one array request and no file write.
        with self._lock(set_id):
            s = self._step(set_id, "CommitSnapshots")
            self._run(s, "CommitSnapshots", lambda: self.orch.commit(set_id), write=False)
            return {"phase": s.phase.value}

    def PostCommitSnapshots(self, set_id: str, snapshots_count: int) -> dict:
        call = "PostCommitSnapshots"
        with self._lock(set_id):
            s = self._step(set_id, call)
            if snapshots_count != len(s.snapshots):
                raise VssFault(HResult.VSS_E_BAD_STATE, f"{call}: {snapshots_count} snapshots announced, "
                                                        f"the set has {len(s.snapshots)}")
            self._run(s, call, lambda: self.orch.post_commit(set_id))
            return {"phase": s.phase.value}

    def PreFinalCommitSnapshots(self, set_id: str) -> dict:
        with self._lock(set_id):
            s = self._step(set_id, "PreFinalCommitSnapshots")
            self._run(s, "PreFinalCommitSnapshots", lambda: None)
            return {"phase": s.phase.value}

    def PostFinalCommitSnapshots(self, set_id: str) -> dict:
        with self._lock(set_id):
            s = self._step(set_id, "PostFinalCommitSnapshots")
            self._run(s, "PostFinalCommitSnapshots", lambda: None)
            return {"phase": s.phase.value}

    def AbortSnapshots(self, set_id: str) -> dict:
        """Undo everything done for the set so far; again is harmless. After
        PostFinalCommitSnapshots the set is finished: it goes only by OnLunEmpty (VSS's
        delete), never by an abort."""
        call = "AbortSnapshots"
        with self._lock(set_id):
            s = self._state(set_id, call)
            if s.phase is Phase.FINAL:
                log.info("vss call", call=call, set_id=set_id, phase=s.phase.value, kept=True)
            elif s.phase is not Phase.ABORTED:
                if s.phase is not Phase.PREPARING:
                    self._engine(call, lambda: self._abort_engine(set_id))
                s.phase = Phase.ABORTED
                self._save(s)
                log.info("vss call", call=call, set_id=set_id, phase=s.phase.value)
            return {"phase": s.phase.value}

    def _exists(self, set_id: str) -> bool:
        if self.orch.creating(set_id):
            return True         # no file read (CommitSnapshots runs in the hold window)
        try:
            self.orch.get_set(set_id)
        except VssError as exc:
            if exc.code == 711:
                return False
            raise _fault_of(exc) from None
        return True

    def _abort_engine(self, set_id: str) -> None:
        try:
            self.orch.abort(set_id)
        except VssError as exc:
            if exc.code != 711:      # already gone (a failed step rolled it back)
                raise

    # ------------------------------------------------------------ after creation
    def _snapshot_ids(self, set_id: str) -> dict[str, str]:
        """source UID -> VSS snapshot id, for the sets created through this provider."""
        s = self._load(set_id)
        return {uid: sid for sid, uid in s.snapshots.items()} if s else {}

    def GetTargetLuns(self, source_luns: Sequence[LunInfo], device_names: Sequence[str] = (),
                      set_id: str | None = None) -> dict:
        """One destination LUN per source, same order: what VSS keeps to find the copy again.
        Without `set_id`, each source's newest shadow copy (VSS asks right after PostCommit)."""
        call = "GetTargetLuns"
        uids = self._uids(source_luns, call)
        records = [r for r in self.orch.sets() if r.state == "done" and (set_id is None or r.set_id == set_id)]
        if set_id is not None and not records:
            raise VssFault(HResult.VSS_E_OBJECT_NOT_FOUND, f"{call}: unknown snapshot set {set_id}", 711)
        records.sort(key=lambda r: r.commit_time or 0, reverse=True)
        out = []
        for uid in uids:
            hit = next(((r, s) for r in records for s in r.shadows if s.source_uid == uid and s.target_uid), None)
            if hit is None:
                raise VssFault(HResult.VSS_E_OBJECT_NOT_FOUND, f"{call}: LUN {uid} has no shadow copy", 711)
            out.append(self._describe(hit[1].target_uid).to_json())
        return {"luns": out}

    def LocateLuns(self, luns: Sequence[LunInfo]) -> dict:
        """Make these shadow-copy LUNs visible to this machine (import, or surfacing locally)."""
        call = "LocateLuns"
        hits = self._shadows_by_target(self._uids(luns, call), call)
        located = []
        with self._locked([r.set_id for r, _ in hits]):
            host_id = self._engine(call, self._host_id)
            by_set: dict[str, tuple[ShadowSet, list[Shadow]]] = {}
            for record, shadow in hits:
                by_set.setdefault(record.set_id, (record, []))[1].append(shadow)
            for set_id, (record, shadows) in by_set.items():
                todo = [s for s in shadows if host_id not in s.exposed_to]
                if todo and len(todo) == len(record.shadows):
                    self._engine(call, lambda: self.orch.import_set(set_id, self.host_name))
                else:
                    for s in todo:
                        self._engine(call, lambda: self.orch.expose(s.shadow_id, self.host_name))
                located += [s.target_uid for s in shadows]
        log.info("vss call", call=call, luns=len(located))
        return {"located": located}

    def OnLunEmpty(self, lun: LunInfo, device_name: str = "") -> dict:
        """The LUN holds no shadow copy any more: delete that copy (unmap, return or delete
        the target). A LUN that holds none of ours (a cascade took it already) is fine."""
        call = "OnLunEmpty"
        uid = self._uids([lun], call)[0]
        try:
            [(record, shadow)] = self._shadows_by_target([uid], call)
        except VssFault:
            log.info("vss call", call=call, lun=uid, deleted=0)
            return {"deleted": []}
        with self._lock(record.set_id):
            deleted = self._engine(call, lambda: self.orch.delete(shadow_id=shadow.shadow_id))
        self._forget_gone()
        log.info("vss call", call=call, lun=uid, deleted=len(deleted))
        return {"deleted": deleted}

    def OnLunStateChange(self, snapshot_luns: Sequence[LunInfo], original_luns: Sequence[LunInfo] = (),
                         flags: int = 0) -> dict:
        call = "OnLunStateChange"
        if not isinstance(flags, int) or flags & ~LunChange.ALL:
            raise VssFault(HResult.E_INVALIDARG, f"{call}: unknown flags {flags!r}")
        uids = self._uids(snapshot_luns, call)
        # only masking acts on the array; a notification may name LUNs whose shadow copy is
        # gone already (POST_RECOVERY after a resync removed it): fine, as for OnLunEmpty
        hits = self._shadows_by_target(uids, call) if flags & LunChange.DO_MASK_LUNS else []
        masked = []
        if flags & LunChange.DO_MASK_LUNS:
            with self._locked([r.set_id for r, _ in hits]):
                host_id = self._engine(call, self._host_id)
                for _, shadow in hits:
                    if host_id in shadow.exposed_to:
                        self._engine(call, lambda: self.orch.unexpose(shadow.shadow_id, self.host_name))
                        masked.append(shadow.target_uid)
        # NOTIFY_READ_WRITE (broken into ordinary disks) and the recovery notifications need
        # nothing on the array: the mappings stay until OnLunEmpty.
        log.info("vss call", call=call, flags=f"0x{flags:X}", luns=len(uids), masked=len(masked))
        return {"masked": masked}

    def ResyncLuns(self, source_luns: Sequence[LunInfo], target_luns: Sequence[LunInfo]) -> dict:
        """Copy shadow copies back onto their original LUNs (our restore). Only the original
        LUN can be the destination: the array's reverse mapping needs the pair."""
        call = "ResyncLuns"
        if len(source_luns) != len(target_luns):
            raise VssFault(HResult.E_INVALIDARG, f"{call}: {len(source_luns)} shadow-copy LUNs "
                                                  f"for {len(target_luns)} destinations")
        hits = self._shadows_by_target(self._uids(source_luns, call), call)
        dests = self._uids(target_luns, call)
        for (_, shadow), dest in zip(hits, dests):
            if shadow.source_uid != dest:
                raise VssFault(HResult.VSS_E_PROVIDER_VETO, f"{call}: {dest} is not the original LUN "
                                                            f"of shadow copy {shadow.shadow_id}", 713)
        removed: list[str] = []
        with self._locked([r.set_id for r, _ in hits]):
            for _, shadow in hits:
                if shadow.shadow_id not in removed:
                    removed += self._engine(call, lambda: self.orch.restore(shadow.shadow_id))
        self._forget_gone()
        out = {"status": "finished", "removed": removed}
        newer = [i for i in removed if i not in {s.shadow_id for _, s in hits}]
        if newer:       # manual 5.1: restoring in a cascade deletes the newer shadow copies too
            out.update(code=CASCADE_RESTORED, message=MESSAGES[CASCADE_RESTORED], cascaded=newer)
        log.info("vss call", call=call, luns=len(hits), removed=len(removed), code=out.get("code"))
        return out

    # ------------------------------------------------------------ for the requestor driver
    def ListSnapshots(self, set_id: str | None = None) -> dict:
        """Not a VSS call: what exists, for `vssorch shadow list` (VSS keeps its own list)."""
        out = []
        for r in self.orch.sets():
            if set_id is not None and r.set_id != set_id:
                continue
            ids = self._snapshot_ids(r.set_id)
            out.append({"set_id": r.set_id, "state": r.state, "created_at": r.created_at,
                        "commit_time": r.commit_time, "transportable": r.options.transportable,
                        "persistent": r.options.persistent, "imported_by": r.imported_by,
                        "shadows": [{"shadow_id": s.shadow_id, "snapshot_id": ids.get(s.source_uid),
                                     "source_uid": s.source_uid, "source_name": s.source_name,
                                     "target_uid": s.target_uid, "exposed_to": s.exposed_to,
                                     "device": s.device} for s in r.shadows]})
        if set_id is not None and not out:
            raise VssFault(HResult.VSS_E_OBJECT_NOT_FOUND, f"ListSnapshots: unknown snapshot set {set_id}", 711)
        return {"sets": out}

    def _forget_gone(self, at_load: bool = False) -> None:
        """Drop the phase files of finished sets the engine no longer has; at load also
        those aborted before, and mark a set being created whose lifecycle is gone as
        aborted (a cleanup rolled it back)."""
        alive = {r.set_id for r in self.orch.sets()}
        for key, data in self.files.items():
            s = SnapshotSet.from_json(data)
            if (s.phase in FINISHED and s.set_id not in alive) or (at_load and s.phase is Phase.ABORTED):
                self.files.delete(key)
            elif at_load and s.phase in ENGINE_PHASES and s.set_id not in alive:
                self._mark_aborted(s)
