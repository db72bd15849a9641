"""FlashCopy through CIM: mappings (LocalStorageSynchronized), consistency groups
(FlashCopy/CloneCopy sets) and the StorageConfigurationService's copy methods, with
the signatures of IBM's 6.4 agent (BlockServices.mof, CopyServices.mof). The engine
(flashcopy.py) owns the rules; this module translates, and checks what only the CIM
layer knows (which StopDependentMaps value an operation takes). Jobs: fcjobs.py."""
from __future__ import annotations

from pywbem import CIMInstanceName, Sint64, Uint32

from .. import naming as N
from .. import returncodes as rc
from ..array import Array
from ..returncodes import ArrayError
from . import fcjobs
from .base import AssociationProvider, Provider, make_instance
from .params import opt_bool, opt_list, opt_ref, req_ref

COPYTYPE_NORMAL, COPYTYPE_AUTODELETE = 4, 5


# ------------------------------------------------------------------ mappings
def _ints(values) -> list[int]:
    """Query literals that can be object ids (ids are numbers; anything else matches none)."""
    out = []
    for v in values:
        try:
            out.append(int(str(v)))
        except ValueError:
            continue
    return out


def _mapping_path(a: Array, m) -> CIMInstanceName:
    src, tgt = a.volume(m.source_id), a.volume(m.target_id)
    return CIMInstanceName(N.FCMAP, namespace=a.namespace, keybindings={
        "SystemElement": a.naming.volume(src["id"], src["iogrp_id"]),
        "SyncedElement": a.naming.volume(tgt["id"], tgt["iogrp_id"])})


def _cli_time(a: Array, sim_seconds: float | None) -> str | None:
    """A simulated instant as the CLI shows a start time (YYMMDDHHMMSS)."""
    return None if sim_seconds is None else a.datetime(sim_seconds).datetime.strftime("%y%m%d%H%M%S")


def mapping_instance(a: Array, m):
    src, tgt = a.volume(m.source_id), a.volume(m.target_id)
    group = a.engine.group(m.group_id) if m.group_id is not None else None
    iogrp = a.row("iogroups", "id", src["iogrp_id"])
    return make_instance(a, _mapping_path(a, m), {
        "ElementName": m.name, "Name": str(m.id),
        "CopyType": COPYTYPE_AUTODELETE if m.autodelete else COPYTYPE_NORMAL,
        "AutoDelete": m.autodelete, "SyncState": m.sync_state, "SyncMaintained": False,
        "CopyRate": m.copy_rate, "CleanRate": m.clean_rate, "Progress": m.progress,
        "Incremental": m.incremental, "Difference": m.difference, "GrainSize": m.grain_size,
        "DependentMappingCount": m.dependent_count, "IOGroupId": src["iogrp_id"],
        "IOGroupName": iogrp["name"] if iogrp else None,
        "StartTime": _cli_time(a, m.start_time), "Restoring": m.restoring,
        "SynchronizedSet": a.naming.fcset(group.id, group.autodelete) if group else None,
        "SynchronizedSetID": str(group.id) if group else None,
        "SynchronizedSetName": group.name if group else None,
        "SystemElementID": str(src["id"]), "SystemElementName": src["name"],
        "SyncedElementID": str(tgt["id"]), "SyncedElementName": tgt["name"]})


def mapping_of_path(a: Array, path: CIMInstanceName):
    src_id, tgt_id = a.naming.fcmap_ends(path)
    for m in a.engine.mappings_of_volume(tgt_id):
        if m.source_id == src_id and m.target_id == tgt_id:
            return m
    raise ArrayError(rc.INVALID_PARAMETER, f"no FlashCopy mapping from volume {src_id} to {tgt_id}")


class MappingProvider(AssociationProvider):
    classname = N.FCMAP
    roles = {"SystemElement": N.VOLUME, "SyncedElement": N.VOLUME}

    def enumerate(self, a: Array):
        for m in a.engine.list_mappings():
            yield mapping_instance(a, m)

    def get(self, a: Array, path):
        try:
            return mapping_instance(a, mapping_of_path(a, path))
        except ArrayError:
            return None

    def lookup(self, a: Array, prop, values):
        # ExecQuery by a mapping's ends, name or id builds only the matches: an array
        # with thousands of mappings must not build them all for one lifecycle's few
        if prop in ("systemelementid", "syncedelementid"):
            source = prop == "systemelementid"
            found = {m.id: m for v in _ints(values) for m in a.engine.mappings_of_volume(v)
                     if (m.source_id if source else m.target_id) == v}
        elif prop == "elementname":
            found = {m.id: m for m in a.engine.find_mappings(names=frozenset(str(v).lower() for v in values))}
        elif prop == "name":
            found = {m.id: m for m in a.engine.find_mappings(ids=frozenset(_ints(values)))}
        else:
            return None
        return [mapping_instance(a, m) for _, m in sorted(found.items())]

    def references(self, a: Array, path, role):
        roles = self.roles_for(a, path, role)
        if not roles:
            return
        vol_id = a.naming.volume_id(path)
        for m in a.engine.mappings_of_volume(vol_id):
            if ("SystemElement" in roles and m.source_id == vol_id) or \
                    ("SyncedElement" in roles and m.target_id == vol_id):
                yield mapping_instance(a, m)


# ------------------------------------------------------------------ groups
def group_instance(a: Array, g):
    return make_instance(a, a.naming.fcset(g.id, g.autodelete), {
        "ElementName": g.name, "Status": g.dmtf_status})


class GroupProvider(Provider):
    def __init__(self, classname: str, autodelete: bool):
        self.classname = classname
        self.autodelete = autodelete

    def enumerate(self, a: Array):
        for g in a.engine.list_groups():
            if g.autodelete == self.autodelete:
                yield group_instance(a, g)

    def lookup(self, a: Array, prop, values):
        if prop != "elementname":
            return None
        groups = a.engine.find_groups(frozenset(str(v).lower() for v in values))
        return [group_instance(a, g) for g in groups if g.autodelete == self.autodelete]

    def get(self, a: Array, path):
        try:
            g = a.engine.group(a.naming.group_id(path))
        except ArrayError:
            return None
        if g is None or g.autodelete != self.autodelete:
            return None
        inst = group_instance(a, g)
        return inst if inst.path.keybindings == path.keybindings else None


def group_of_path(a: Array, path: CIMInstanceName):
    g = a.engine.group(a.naming.group_id(path))
    if g is None:
        raise ArrayError(rc.INVALID_SET, f"no consistency group {path}")
    return g


# ------------------------------------------------------------------ methods
def _copy_type(params) -> int:
    copy_type = params.get("CopyType")
    if copy_type is None:
        raise ArrayError(rc.INVALID_PARAMETER, "CopyType is required")
    if int(copy_type) not in (COPYTYPE_NORMAL, COPYTYPE_AUTODELETE):
        raise ArrayError(rc.COPYTYPE_NOT_SUPPORTED, f"CopyType {copy_type} is not supported (4 or 5)")
    return int(copy_type)


def _copy_options(params) -> dict:
    copy_type = _copy_type(params)
    rate = params.get("BackgroundCopyRate")
    grain = params.get("GrainSize")
    clean = params.get("CleanRate")
    return {"copy_rate": 50 if rate is None else int(rate),
            "grain_size": 256 if grain is None else int(grain),
            "clean_rate": 50 if clean is None else int(clean),
            "incremental": opt_bool(params, "Incremental"),
            "autodelete": copy_type == COPYTYPE_AUTODELETE}


def _attach(a: Array, src_path, tgt_path, name, group_id, opts) -> None:
    try:
        src_id = a.naming.volume_id(src_path)
    except ArrayError as exc:
        raise ArrayError(rc.INVALID_SOURCE, exc.message) from None
    try:
        tgt_id = a.naming.volume_id(tgt_path)
    except ArrayError as exc:
        raise ArrayError(rc.INVALID_TARGET, exc.message) from None
    if a.row("volumes", "id", src_id) is None:
        raise ArrayError(rc.INVALID_SOURCE, f"no source volume {src_id}")
    if a.row("volumes", "id", tgt_id) is None:
        raise ArrayError(rc.INVALID_TARGET, f"no target volume {tgt_id}")
    a.engine.create_mapping(src_id, tgt_id, name=name, group_id=group_id, **opts)


def _group_id(a: Array, params, name: str = "Set") -> int | None:
    path = opt_ref(params, name)
    return None if path is None else group_of_path(a, path).id


def attach_replica(a: Array, target, params):
    """The mapping is not returned (Job only, null when done): a client finds it by
    the References of its volumes or by its ElementName."""
    _attach(a, req_ref(params, "SourceElement"), req_ref(params, "TargetElement"),
            params.get("ElementName"), _group_id(a, params), _copy_options(params))
    return rc.OK, {}


def attach_replicas(a: Array, target, params):
    """Each pair on its own: ReturnValues[i] is pair i's code, the pairs that succeeded
    stay made; the method's code is the first refused pair's (0 when none)."""
    sources, targets = opt_list(params, "SourceElements"), opt_list(params, "TargetElements")
    names = opt_list(params, "ElementNames")
    if not sources or len(sources) != len(targets) or (names and len(names) != len(sources)):
        raise ArrayError(rc.INVALID_PARAMETER, "SourceElements, TargetElements (and ElementNames) must pair up")
    group_id, opts = _group_id(a, params), _copy_options(params)
    results = []
    for i, (src, tgt) in enumerate(zip(sources, targets)):
        try:
            _attach(a, src, tgt, names[i] if names else None, group_id, opts)
            results.append(rc.OK)
        except ArrayError as exc:
            results.append(exc.rc)
    first = next((r for r in results if r), rc.OK)
    return first, {"ReturnValues": [Uint32(r) for r in results]}


OP_DETACH, OP_RESYNC, OP_PREPARE, OP_UNPREPARE, OP_QUIESCE = 2, 4, 6, 7, 8
SET_ADD, SET_REMOVE, SET_DETACH_ALL = 0, 1, 2
_RESTORE_STOPS = {1, 2, 3, 6}   # StopDependentMaps valid only with Restore true
_STOP_ONLY = {4, 5}             # valid only when the operation is a stop (Quiesce)


def _stop_dependent(params, op: int) -> int | None:
    """StopDependentMaps, in the combinations BlockServices.mof allows; the array
    models them on a stop (Quiesce) and a delete (Detach) only."""
    value = params.get("StopDependentMaps")
    if value is None:
        return None
    value = int(value)
    if value in _STOP_ONLY and op == OP_QUIESCE:
        return value
    if value in _RESTORE_STOPS and opt_bool(params, "Restore") and op in (OP_QUIESCE, OP_DETACH):
        return value
    raise ArrayError(rc.STOP_DEPENDENT_INVALID, f"StopDependentMaps {value} is not valid with Operation "
                                                f"{op} and Restore {opt_bool(params, 'Restore')}")


def _stop_flags(params) -> tuple[bool, bool]:
    force, split = opt_bool(params, "Force"), opt_bool(params, "Split")
    if force and split:
        raise ArrayError(rc.MUTUALLY_EXCLUSIVE, "Split and Force are mutually exclusive")
    return force, split


def modify_synchronization(a: Array, target, params):
    m = mapping_of_path(a, req_ref(params, "Synchronization"))
    op = int(params.get("Operation") if params.get("Operation") is not None else -1)
    restore, force = opt_bool(params, "Restore"), opt_bool(params, "Force")
    stop_dependent = _stop_dependent(params, op)
    if op == OP_PREPARE:
        a.engine.prepare_mapping(m.id, restore=restore)
        return rc.JOB_STARTED, {"Job": fcjobs.new_job(a, "Prepare", "map", m.id, [m.source_id, m.target_id])}
    if op == OP_RESYNC:
        a.engine.start_mapping(m.id, restore=restore, prepare=force)
    elif op == OP_UNPREPARE:
        a.engine.unprepare_mapping(m.id)
    elif op == OP_QUIESCE:
        force, split = _stop_flags(params)
        a.engine.stop_mapping(m.id, stop_dependent=stop_dependent, force=force, split=split)
    elif op == OP_DETACH:
        a.engine.delete_mapping(m.id, force=force, stop_dependent=stop_dependent)
    else:
        raise ArrayError(rc.INVALID_OPERATION, f"Operation {op} is not supported on a FlashCopy mapping")
    return rc.OK, {}


def create_synchronized_set(a: Array, target, params):
    copy_type = _copy_type(params)
    gid = a.engine.create_group(params.get("ElementName"), autodelete=copy_type == COPYTYPE_AUTODELETE)
    return rc.OK, {"Set": a.naming.fcset(gid, copy_type == COPYTYPE_AUTODELETE)}


def modify_synchronized_set(a: Array, target, params):
    """Prepare All answers 4096 with one FlashCopyJob per member mapping."""
    g = group_of_path(a, req_ref(params, "SynchronizedSet"))
    op = int(params.get("Operation") if params.get("Operation") is not None else -1)
    restore, force = opt_bool(params, "Restore"), opt_bool(params, "Force")
    stop_dependent = _stop_dependent(params, op)
    out = {"SynchronizedSet": a.naming.fcset(g.id, g.autodelete)}
    if op in (SET_ADD, SET_REMOVE):
        m = mapping_of_path(a, req_ref(params, "Synchronization"))
        if op == SET_ADD:
            a.engine.add_to_group(g.id, m.id)
        else:
            a.engine.remove_from_group(g.id, m.id)
    elif op == OP_PREPARE:
        a.engine.prepare_group(g.id, restore=restore)
        members = [a.engine.mapping(mid) for mid in g.members]
        out["Job"] = [fcjobs.new_job(a, "PrepareAll", "map", m.id, [m.source_id, m.target_id]) for m in members]
        return rc.JOB_STARTED, out
    elif op == OP_RESYNC:
        a.engine.start_group(g.id, restore=restore, prepare=force)
    elif op == OP_UNPREPARE:
        a.engine.unprepare_group(g.id)
    elif op == OP_QUIESCE:
        force, _ = _stop_flags(params)
        a.engine.stop_group(g.id, stop_dependent=stop_dependent, force=force)
    elif op == SET_DETACH_ALL:
        for mid in list(g.members):
            a.engine.delete_mapping(mid, force=force, stop_dependent=stop_dependent, via_group=True)
    else:
        raise ArrayError(rc.IN_USE, f"Operation {op} is not supported on a FlashCopy set")
    return rc.OK, out


def delete_synchronized_set(a: Array, target, params):
    g = group_of_path(a, req_ref(params, "Set"))
    a.engine.delete_group(g.id, force=opt_bool(params, "Force"))
    return rc.OK, {}


def get_dependent_mapping_names(a: Array, target, params):
    m = mapping_of_path(a, req_ref(params, "Mapping"))
    return rc.OK, {"Dependentnames": [a.engine.mapping(d).name for d in a.engine.dependent_mappings(m.id)]}


def list_vdisk_flashcopy_map_copies(a: Array, target, params):
    vid = params.get("ID")
    if vid is None or a.row("volumes", "id", int(vid)) is None:
        raise ArrayError(rc.INVALID_PARAMETER, f"no volume with id {vid!r}")
    out = {k: [] for k in ("FCID", "FCName", "Status", "Progress", "Difference", "Start_Time",
                           "TargetVdiskID", "TargetVdiskName", "SetID", "SetName")}
    for m in a.engine.copies_of(int(vid)):
        tgt = a.volume(m.target_id)
        group = a.engine.group(m.group_id) if m.group_id is not None else None
        out["FCID"].append(Sint64(m.id))
        out["FCName"].append(m.name)
        out["Status"].append(m.state)
        out["Progress"].append(Uint32(m.progress))
        out["Difference"].append(Uint32(m.difference or 0))
        out["Start_Time"].append(_cli_time(a, m.start_time) or "")
        out["TargetVdiskID"].append(Sint64(tgt["id"]))
        out["TargetVdiskName"].append(tgt["name"])
        out["SetID"].append(str(group.id) if group else "")
        out["SetName"].append(group.name if group else "")
    return rc.OK, out


PROVIDERS = [MappingProvider(), GroupProvider(N.FCSET, False), GroupProvider(N.CLONESET, True),
             *fcjobs.PROVIDERS]
METHODS = {
    (N.SCS, "AttachReplica"): attach_replica,
    (N.SCS, "AttachReplicas"): attach_replicas,
    (N.SCS, "ModifySynchronization"): modify_synchronization,
    (N.SCS, "CreateSynchronizedSet"): create_synchronized_set,
    (N.SCS, "ModifySynchronizedSet"): modify_synchronized_set,
    (N.SCS, "DeleteSynchronizedSet"): delete_synchronized_set,
    (N.SCS, "GetDependentMappingNames"): get_dependent_mapping_names,
    (N.SCS, "ListVDiskFlashCopyMapCopies"): list_vdisk_flashcopy_map_copies,
}
DELETABLE = {N.JOB: fcjobs.delete_job}
