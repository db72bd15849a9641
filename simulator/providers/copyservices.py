"""FlashCopy through CIM: mappings (LocalStorageSynchronized), consistency groups
(SynchronizedSets), prepare jobs, and the StorageConfigurationService's copy methods.
The engine (flashcopy.py) owns the rules; this module only translates."""
from __future__ import annotations

from pywbem import CIMInstanceName, Uint16, Uint32

from .. import naming as N
from .. import returncodes as rc
from ..array import Array
from ..returncodes import ArrayError
from .base import AssociationProvider, Provider, make_instance
from .params import opt_bool, opt_list, opt_ref, req_ref

COPYTYPE_NORMAL, COPYTYPE_AUTODELETE = 4, 5
JOB_RUNNING, JOB_COMPLETED, JOB_EXCEPTION = 4, 7, 10


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


def mapping_instance(a: Array, m):
    src, tgt = a.volume(m.source_id), a.volume(m.target_id)
    group = a.engine.group(m.group_id) if m.group_id is not None else None
    return make_instance(a, _mapping_path(a, m), {
        "ElementName": m.name, "Name": str(m.id),
        "CopyType": COPYTYPE_AUTODELETE if m.autodelete else COPYTYPE_NORMAL,
        "SyncState": m.sync_state, "Status": m.state, "SyncMaintained": False,
        "CopyRate": m.copy_rate, "CleanRate": m.clean_rate, "Progress": m.progress,
        "Incremental": m.incremental, "Difference": m.difference, "GrainSize": m.grain_size,
        "DependentMappingCount": m.dependent_count, "IOGroupId": str(src["iogrp_id"]),
        "StartTime": a.datetime(m.start_time) if m.start_time is not None else None,
        "Restoring": m.restoring,
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
        "ElementName": g.name, "SetID": str(g.id), "Status": g.dmtf_status,
        "AutoDelete": g.autodelete, "MemberCount": len(g.members)})


class GroupProvider(Provider):
    def __init__(self, classname: str, autodelete: bool):
        self.classname = classname
        self.autodelete = autodelete

    def enumerate(self, a: Array):
        for g in a.engine.list_groups():
            if g.autodelete == self.autodelete:
                yield group_instance(a, g)

    def lookup(self, a: Array, prop, values):
        if prop == "elementname":
            groups = a.engine.find_groups(names=frozenset(str(v).lower() for v in values))
        elif prop == "setid":
            groups = a.engine.find_groups(ids=frozenset(_ints(values)))
        else:
            return None
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


# ------------------------------------------------------------------ jobs
def _job_state(a: Array, row) -> tuple[int, str | None]:
    """A prepare job runs while its mapping/group prepares, and ends with it."""
    if row["final_state"] is not None:
        return row["final_state"], row["error"]
    try:
        if row["subject_kind"] == "map":
            subject = a.engine.mapping(row["subject_id"])
        else:
            subject = a.engine.group(row["subject_id"])
    except ArrayError:  # deleted while (or after) preparing
        subject = None
    state = getattr(subject, "state", None)
    if state == "preparing":
        return JOB_RUNNING, None
    if state in ("prepared", "copying", "idle_or_copied"):
        final, error = JOB_COMPLETED, None
    else:
        final, error = JOB_EXCEPTION, f"prepare did not complete: {state or 'object deleted'}"
    a.db.execute("UPDATE jobs SET final_state=?, error=? WHERE id=?", (final, error, row["id"]))
    return final, error


def job_instance(a: Array, row):
    state, error = _job_state(a, row)
    status = {JOB_RUNNING: [2, 5], JOB_COMPLETED: [2, 17], JOB_EXCEPTION: [6, 17]}[state]
    sync = None
    if row["subject_kind"] == "map":
        try:
            sync = a.engine.mapping(row["subject_id"]).sync_state
        except ArrayError:
            sync = None
    return make_instance(a, a.naming.job(row["id"]), {
        "ElementName": f"{row['method']} {row['subject_kind']} {row['subject_id']}",
        "JobState": state, "OperationalStatus": status, "PercentComplete": 100 if state != JOB_RUNNING else 0,
        "DeleteOnCompletion": False, "ErrorCode": 0 if error is None else 1, "ErrorDescription": error,
        "SyncState": sync})


class JobProvider(Provider):
    classname = N.JOB

    def enumerate(self, a: Array):
        for row in a.db.execute("SELECT * FROM jobs ORDER BY id").fetchall():
            yield job_instance(a, row)

    def get(self, a: Array, path):
        row = a.row("jobs", "id", a.naming.job_id(path))
        return job_instance(a, row) if row else None


def _new_job(a: Array, method: str, kind: str, subject_id: int, volume_ids: list[int]) -> CIMInstanceName:
    cur = a.db.execute("INSERT INTO jobs(method, subject_kind, subject_id, volume_ids, created) VALUES(?,?,?,?,?)",
                       (method, kind, subject_id, ",".join(map(str, volume_ids)), a.clock()))
    return a.naming.job(cur.lastrowid)


def delete_job(a: Array, path: CIMInstanceName) -> None:
    a.db.execute("DELETE FROM jobs WHERE id=?", (a.naming.job_id(path),))


class OwningJobProvider(AssociationProvider):
    classname = "IBMTSSVC_OwningJobFlashCopy"
    roles = {"OwningElement": N.SCS, "OwnedElement": N.JOB}

    def _inst(self, a: Array, job_id: int):
        path = CIMInstanceName(self.classname, namespace=a.namespace, keybindings={
            "OwningElement": a.naming.service(N.SCS), "OwnedElement": a.naming.job(job_id)})
        return make_instance(a, path, {})

    def enumerate(self, a: Array):
        for (job_id,) in a.db.execute("SELECT id FROM jobs ORDER BY id").fetchall():
            yield self._inst(a, job_id)

    def references(self, a: Array, path, role):
        roles = self.roles_for(a, path, role)
        if "OwningElement" in roles:
            yield from self.enumerate(a)
        if "OwnedElement" in roles and a.row("jobs", "id", a.naming.job_id(path)):
            yield self._inst(a, a.naming.job_id(path))


class AffectedVolumeProvider(AssociationProvider):
    classname = "IBMTSSVC_AffectedFlashJobStorageVolume"
    roles = {"AffectedElement": N.VOLUME, "AffectingElement": N.JOB}

    def _insts(self, a: Array, row):
        for vid in filter(None, row["volume_ids"].split(",")):
            vol = a.row("volumes", "id", int(vid))
            if vol is None:
                continue
            path = CIMInstanceName(self.classname, namespace=a.namespace, keybindings={
                "AffectedElement": a.naming.volume(vol["id"], vol["iogrp_id"]),
                "AffectingElement": a.naming.job(row["id"])})
            yield make_instance(a, path, {})

    def enumerate(self, a: Array):
        for row in a.db.execute("SELECT * FROM jobs ORDER BY id").fetchall():
            yield from self._insts(a, row)

    def references(self, a: Array, path, role):
        roles = self.roles_for(a, path, role)
        if "AffectingElement" in roles:
            row = a.row("jobs", "id", a.naming.job_id(path))
            if row:
                yield from self._insts(a, row)
        if "AffectedElement" in roles:
            vid = str(a.naming.volume_id(path))
            for row in a.db.execute("SELECT * FROM jobs ORDER BY id").fetchall():
                if vid in row["volume_ids"].split(","):
                    yield from (i for i in self._insts(a, row)
                                if a.naming.volume_id(i.path.keybindings["AffectedElement"]) == int(vid))


# ------------------------------------------------------------------ methods
def _copy_options(params) -> dict:
    copy_type = int(params.get("CopyType") or COPYTYPE_NORMAL)
    if copy_type not in (COPYTYPE_NORMAL, COPYTYPE_AUTODELETE):
        raise ArrayError(rc.COPYTYPE_NOT_SUPPORTED, f"CopyType {copy_type} is not supported (4 or 5)")
    rate = params.get("BackgroundCopyRate")
    grain = params.get("GrainSize")
    clean = params.get("CleanRate")
    return {"copy_rate": 50 if rate is None else int(rate),
            "grain_size": 256 if grain is None else int(grain),
            "clean_rate": 50 if clean is None else int(clean),
            "incremental": opt_bool(params, "Incremental"),
            "autodelete": copy_type == COPYTYPE_AUTODELETE}


def _attach(a: Array, src_path, tgt_path, name, group_id, opts) -> CIMInstanceName:
    try:
        src_id, tgt_id = a.naming.volume_id(src_path), a.naming.volume_id(tgt_path)
    except ArrayError as exc:
        raise ArrayError(rc.INVALID_SOURCE, exc.message) from None
    if a.row("volumes", "id", src_id) is None:
        raise ArrayError(rc.INVALID_SOURCE, f"no source volume {src_id}")
    if a.row("volumes", "id", tgt_id) is None:
        raise ArrayError(rc.INVALID_TARGET, f"no target volume {tgt_id}")
    map_id = a.engine.create_mapping(src_id, tgt_id, name=name, group_id=group_id, **opts)
    return _mapping_path(a, a.engine.mapping(map_id))


def _group_id(a: Array, params, name: str = "Set") -> int | None:
    path = opt_ref(params, name)
    return None if path is None else group_of_path(a, path).id


def attach_replica(a: Array, target, params):
    path = _attach(a, req_ref(params, "SourceElement"), req_ref(params, "TargetElement"),
                   params.get("ElementName"), _group_id(a, params), _copy_options(params))
    return rc.OK, {"Synchronization": path}


def attach_replicas(a: Array, target, params):
    sources, targets = opt_list(params, "SourceElements"), opt_list(params, "TargetElements")
    names = opt_list(params, "ElementNames")
    if not sources or len(sources) != len(targets) or (names and len(names) != len(sources)):
        raise ArrayError(rc.INVALID_PARAMETER, "SourceElements, TargetElements (and ElementNames) must pair up")
    group_id, opts = _group_id(a, params), _copy_options(params)
    results, paths = [], []
    for i, (src, tgt) in enumerate(zip(sources, targets)):
        try:
            paths.append(_attach(a, src, tgt, names[i] if names else None, group_id, opts))
            results.append(rc.OK)
        except ArrayError as exc:
            results.append(exc.rc)
    if any(results):
        # All or nothing: the transaction rolls back, ReturnValues says which pair failed.
        first = next(r for r in results if r)
        raise ArrayError(first, "AttachReplicas refused", out={"ReturnValues": [Uint32(r) for r in results]})
    return rc.OK, {"ReturnValues": [Uint32(r) for r in results], "Synchronizations": paths}


OP_DETACH, OP_FRACTURE, OP_RESYNC, OP_PREPARE, OP_UNPREPARE, OP_QUIESCE = 2, 3, 4, 6, 7, 8
SET_ADD, SET_REMOVE, SET_DETACH_ALL = 0, 1, 2


def _stop_dependent(params):
    value = params.get("StopDependentMaps")
    return None if value is None else int(value)


def modify_synchronization(a: Array, target, params):
    m = mapping_of_path(a, req_ref(params, "Synchronization"))
    op = int(params.get("Operation") or 0)
    restore, force = opt_bool(params, "Restore"), opt_bool(params, "Force")
    if op == OP_PREPARE:
        a.engine.prepare_mapping(m.id, restore=restore)
        return rc.JOB_STARTED, {"Job": _new_job(a, "Prepare", "map", m.id, [m.source_id, m.target_id])}
    if op == OP_RESYNC:
        a.engine.start_mapping(m.id, restore=restore)
    elif op in (OP_QUIESCE, OP_FRACTURE, OP_UNPREPARE):
        a.engine.stop_mapping(m.id, stop_dependent=_stop_dependent(params), force=force,
                              split=opt_bool(params, "Split"))
    elif op == OP_DETACH:
        a.engine.delete_mapping(m.id, force=force, stop_dependent=_stop_dependent(params))
    else:
        raise ArrayError(rc.INVALID_OPERATION, f"Operation {op} is not supported")
    return rc.OK, {}


def create_synchronized_set(a: Array, target, params):
    copy_type = int(params.get("CopyType") or COPYTYPE_NORMAL)
    if copy_type not in (COPYTYPE_NORMAL, COPYTYPE_AUTODELETE):
        raise ArrayError(rc.COPYTYPE_NOT_SUPPORTED, f"CopyType {copy_type} is not supported (4 or 5)")
    gid = a.engine.create_group(params.get("ElementName"), autodelete=copy_type == COPYTYPE_AUTODELETE)
    return rc.OK, {"Set": a.naming.fcset(gid, copy_type == COPYTYPE_AUTODELETE)}


def modify_synchronized_set(a: Array, target, params):
    g = group_of_path(a, req_ref(params, "SynchronizedSet"))
    op = int(params.get("Operation") if params.get("Operation") is not None else -1)
    restore, force = opt_bool(params, "Restore"), opt_bool(params, "Force")
    if op in (SET_ADD, SET_REMOVE):
        m = mapping_of_path(a, req_ref(params, "Synchronization"))
        if op == SET_ADD:
            a.engine.add_to_group(g.id, m.id)
        else:
            a.engine.remove_from_group(g.id, m.id)
    elif op == OP_PREPARE:
        a.engine.prepare_group(g.id, restore=restore)
        volumes = [v for mid in g.members for m in [a.engine.mapping(mid)] for v in (m.source_id, m.target_id)]
        return rc.JOB_STARTED, {"Job": _new_job(a, "PrepareAll", "group", g.id, volumes)}
    elif op == OP_RESYNC:
        a.engine.start_group(g.id, restore=restore)
    elif op in (OP_QUIESCE, OP_FRACTURE, OP_UNPREPARE):
        a.engine.stop_group(g.id, stop_dependent=_stop_dependent(params), force=force)
    elif op == SET_DETACH_ALL:
        for mid in list(g.members):
            a.engine.delete_mapping(mid, force=force, stop_dependent=_stop_dependent(params), via_group=True)
    else:
        raise ArrayError(rc.IN_USE, f"Operation {op} is not supported on a set")
    return rc.OK, {}


def delete_synchronized_set(a: Array, target, params):
    g = group_of_path(a, req_ref(params, "Set"))
    a.engine.delete_group(g.id, force=opt_bool(params, "Force"))
    return rc.OK, {}


def get_dependent_mapping_names(a: Array, target, params):
    m = mapping_of_path(a, req_ref(params, "Mapping"))
    deps = [a.engine.mapping(d) for d in a.engine.dependent_mappings(m.id)]
    return rc.OK, {"Names": [d.name for d in deps], "IDs": [str(d.id) for d in deps]}


def list_vdisk_flashcopy_map_copies(a: Array, target, params):
    vid = str(params.get("ID") or "")
    if not vid.isdigit() or a.row("volumes", "id", int(vid)) is None:
        raise ArrayError(rc.INVALID_PARAMETER, f"no volume with id {vid!r}")
    copies = a.engine.copies_of(int(vid))
    out = {k: [] for k in ("MapID", "MapName", "Status", "Progress", "Difference", "TargetVdiskID",
                           "TargetVdiskName", "SetID", "SetName")}
    for m in copies:
        tgt = a.volume(m.target_id)
        group = a.engine.group(m.group_id) if m.group_id is not None else None
        out["MapID"].append(str(m.id))
        out["MapName"].append(m.name)
        out["Status"].append(m.state)
        out["Progress"].append(Uint16(m.progress))
        out["Difference"].append(Uint16(m.difference))
        out["TargetVdiskID"].append(str(tgt["id"]))
        out["TargetVdiskName"].append(tgt["name"])
        out["SetID"].append(str(group.id) if group else "")
        out["SetName"].append(group.name if group else "")
    return rc.OK, out


PROVIDERS = [MappingProvider(), GroupProvider(N.FCSET, False), GroupProvider(N.CLONESET, True),
             JobProvider(), OwningJobProvider(), AffectedVolumeProvider()]
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
DELETABLE = {N.JOB: delete_job}
