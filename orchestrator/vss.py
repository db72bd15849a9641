"""The VSS hardware-provider callbacks, mapped onto the lifecycle engine (F4).

Each method is named after the interface call it serves (IVssHardwareSnapshotProvider[Ex],
IVssProviderCreateSnapshotSet, IVssProviderNotifications). Creating a set is
orchestrator/vss_create.py, in the order the phase table of orchestrator/vss_phases.py
allows, each set's phase kept by the phase book (orchestrator/vss_book.py) in
<stateDir>/vss/; here are the notifications, the LUN questions and what VSS asks of a
set once it exists (LUN descriptions: orchestrator/vss_luns.py). A LUN that is not ours
or an unknown shadow copy fails with the HRESULT VSS would expect (VssFault) before
anything on the array changes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from core.log import get_logger
from core.errors import CASCADE_RESTORED, MESSAGES
from core.records import Shadow, ShadowSet
from orchestrator.engine import Orchestrator
from orchestrator.vss_book import PhaseBook
from orchestrator.vss_create import SetCreation
from orchestrator.vss_luns import LunChange, describe, volume_uids
from orchestrator.vss_phases import FINISHED, Phase
from orchestrator.vss_types import MAX_VOLUMES, Attr, HResult, LunInfo, VssFault, context_problem, fault_of, manual_error

log = get_logger("vssorch.vss")

PROVIDER_ID = "{d90dd826-87cf-42ce-a88d-b32caa82025b}"    # the manual's provider (figure 4-6)
PROVIDER_NAME = "Inspur Storage Volume Shadow Copy Service Hardware Provider"
PROVIDER_VERSION = "1.00.0.0"


class VssProvider(SetCreation):
    """One provider instance per service. `orchestrator` is called for the current engine
    (the service swaps it when the configuration changes); `host_name` is the array host
    standing for this machine when LocateLuns maps targets here (None: the engine's host
    adapter finds it from this machine's initiators)."""

    def __init__(self, orchestrator: Callable[[], Orchestrator], state_dir: Path, host_name: str | None = None):
        self._orch = orchestrator
        self.host_name = host_name
        self.book = PhaseBook(Path(state_dir) / "vss")
        self.loaded = False

    # ------------------------------------------------------------ plumbing
    @property
    def orch(self) -> Orchestrator:
        orch = self._orch()
        orch.ctx.home = self.host_name      # whose volumes sets may copy (the engine may be new)
        return orch

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
            error = manual_error(exc)
            if error is None:
                raise
            fault = fault_of(error)
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
            for _key, s in self.book.sets():
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
        vol = self._engine("FillInLunInfo", lambda: self.orch.volumes([uid])).get(uid) if uid else None
        if uid is None or vol is None:
            return {"supported": False, "lun": lun.to_json()}
        return {"supported": True, "lun": describe(uid, lun).to_json(), "volume": vol.name}

    # ------------------------------------------------------------ after creation
    def _snapshot_ids(self, set_id: str) -> dict[str, str]:
        """source UID -> VSS snapshot id, for the sets created through this provider."""
        s = self.book.load(set_id)
        return {uid: sid for sid, uid in s.snapshots.items()} if s else {}

    def GetTargetLuns(self, source_luns: Sequence[LunInfo], device_names: Sequence[str] = (),
                      set_id: str | None = None) -> dict:
        """One destination LUN per source, same order: what VSS keeps to find the copy again.
        Without `set_id`, each source's newest shadow copy (VSS asks right after PostCommit)."""
        call = "GetTargetLuns"
        uids = volume_uids(source_luns, call)
        records = [r for r in self.orch.sets() if r.state == "done" and (set_id is None or r.set_id == set_id)]
        if set_id is not None and not records:
            raise VssFault(HResult.VSS_E_OBJECT_NOT_FOUND, f"{call}: unknown snapshot set {set_id}", 711)
        records.sort(key=lambda r: r.commit_time or 0, reverse=True)
        out = []
        for uid in uids:
            target = next((s.target_uid for r in records for s in r.shadows if s.source_uid == uid and s.target_uid),
                          None)
            if target is None:
                raise VssFault(HResult.VSS_E_OBJECT_NOT_FOUND, f"{call}: LUN {uid} has no shadow copy", 711)
            out.append(describe(target).to_json())
        return {"luns": out}

    def LocateLuns(self, luns: Sequence[LunInfo]) -> dict:
        """Make these shadow-copy LUNs visible to this machine (import, or surfacing locally)."""
        call = "LocateLuns"
        hits = self._shadows_by_target(volume_uids(luns, call), call)
        located = []
        with self.book.locked([r.set_id for r, _ in hits]):
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
        uid = volume_uids([lun], call)[0]
        try:
            [(record, shadow)] = self._shadows_by_target([uid], call)
        except VssFault:
            log.info("vss call", call=call, lun=uid, deleted=0)
            return {"deleted": []}
        with self.book.lock(record.set_id):
            deleted = self._engine(call, lambda: self.orch.delete(shadow_id=shadow.shadow_id))
        self._forget_gone()
        log.info("vss call", call=call, lun=uid, deleted=len(deleted))
        return {"deleted": deleted}

    def OnLunStateChange(self, snapshot_luns: Sequence[LunInfo], original_luns: Sequence[LunInfo] = (),
                         flags: int = 0) -> dict:
        call = "OnLunStateChange"
        if not isinstance(flags, int) or flags & ~LunChange.ALL:
            raise VssFault(HResult.E_INVALIDARG, f"{call}: unknown flags {flags!r}")
        uids = volume_uids(snapshot_luns, call)
        # only masking acts on the array; a notification may name LUNs whose shadow copy is
        # gone already (POST_RECOVERY after a resync removed it): fine, as for OnLunEmpty
        hits = self._shadows_by_target(uids, call) if flags & LunChange.DO_MASK_LUNS else []
        masked = []
        if flags & LunChange.DO_MASK_LUNS:
            with self.book.locked([r.set_id for r, _ in hits]):
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
        hits = self._shadows_by_target(volume_uids(source_luns, call), call)
        dests = volume_uids(target_luns, call)
        for (_, shadow), dest in zip(hits, dests):
            if shadow.source_uid != dest:
                raise VssFault(HResult.VSS_E_PROVIDER_VETO, f"{call}: {dest} is not the original LUN "
                                                            f"of shadow copy {shadow.shadow_id}", 713)
        removed: list[str] = []
        with self.book.locked([r.set_id for r, _ in hits]):
            for _, shadow in hits:
                if shadow.shadow_id not in removed:
                    removed += self._engine(call, lambda: self.orch.restore(shadow.shadow_id))
        self._forget_gone()
        out: dict[str, object] = {"status": "finished", "removed": removed}
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
        self.book.forget_gone({r.set_id for r in self.orch.sets()}, at_load)
