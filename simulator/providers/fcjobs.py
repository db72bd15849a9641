"""The FlashCopy jobs of the StorageConfigurationService (JobControl.mof): a prepare
answers 4096 with one IBMTSSVC_FlashCopyJob per mapping; the job runs while its
mapping prepares and ends with it. Jobs stay until deleted (DeleteOnCompletion false)."""
from __future__ import annotations

from pywbem import CIMInstanceName

from .. import naming as N
from ..array import Array
from ..returncodes import ArrayError
from .base import AssociationProvider, Provider, make_instance

JOB_RUNNING, JOB_COMPLETED, JOB_EXCEPTION = 4, 7, 10


def _job_state(a: Array, row) -> tuple[int, str | None]:
    """A prepare job runs while its mapping prepares, and ends with it."""
    if row["final_state"] is not None:
        return row["final_state"], row["error"]
    try:
        subject = a.engine.mapping(row["subject_id"])
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


def new_job(a: Array, method: str, kind: str, subject_id: int, volume_ids: list[int]) -> CIMInstanceName:
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


PROVIDERS = [JobProvider(), OwningJobProvider(), AffectedVolumeProvider()]
