"""Running a checked batch file (orchestrator/batch.py): its names checked against the
array (reads only), then its jobs in order against one Orchestrator. The first failed
job is undone (a create is aborted, a restore or delete rolls back) and the jobs after
it are skipped. `verify` and `write` do host I/O through the embedded array's data
endpoint (adapters/host/dataendpoint.py), as this host or a host a target was shown to.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core.log import get_logger
from adapters.host.dataendpoint import DataEndpoint
from core.errors import CASCADE_RESTORED, MESSAGES, VssError, as_vss_error
from core.records import SetOptions
from orchestrator.batch import (NO_HOST, NO_VOLUME, OFFLINE, VALUE, Batch, BatchError, Create, Job,
                                Restore, Write)
from orchestrator.config import Config
from orchestrator.consumers import data_endpoint
from orchestrator.recordstore import op_key, set_key
from orchestrator.volumes import candidates, resolve
from states.delete import DeleteLifecycle, Item

log = get_logger("vssorch.batch")


def this_initiator(config: Config) -> str:
    """The initiator this host's I/O uses on the embedded array."""
    initiator = config.sim_initiator
    if not initiator:
        raise VssError(1004, "simInitiator is not set: verify and write read and write "
                       "volumes as the embedded array's simulated host")
    return initiator


@dataclass
class Outcome:
    name: str
    action: str
    result: str = "skipped"          # ok | failed | skipped
    detail: str = ""
    set_id: str | None = None
    shadows: list[dict] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    verified: bool | None = None
    code: int | None = None
    error: str | None = None
    requests: int = 0


class Runner:
    """Runs a checked batch against one Orchestrator."""

    def __init__(self, batch: Batch, orch, data: DataEndpoint | None = None,
                 say: Callable[[str], None] = print, progress: Callable[[str], None] = lambda t: None):
        self.batch, self.orch = batch, orch
        self.data = data or data_endpoint(orch.config)
        self.say, self.progress = say, progress
        self.volumes: dict[str, Any] = {}      # identifier -> Volume
        self.hosts: dict[str, Any] = {}        # host name -> Host
        self.sets: dict[str, str] = {}         # create job -> set id
        self.digests: dict[str, dict[str, str]] = {}   # create job -> source uid -> digest at commit

    # ---- the second check: names against the array (reads only)
    def check_names(self) -> None:
        array = self.orch.array
        volumes = candidates(array, [i for job in self.batch.jobs for i in getattr(job.spec, "volumes", [])])
        for job in self.batch.jobs:
            for ident in getattr(job.spec, "volumes", []):
                v = resolve(volumes, ident)
                where = f"{self.batch.source}:{job.lines[ident]}"
                if v is None:
                    raise BatchError(where, f"job {job.name}: the array has no volume {ident!r}", NO_VOLUME)
                if not v.online:
                    raise BatchError(where, f"job {job.name}: volume {ident} is offline", OFFLINE)
                self.volumes[ident] = v
            spec = job.spec
            shown = (getattr(spec, "import_to", None), getattr(spec, "expose_to", None))
            for host in dict.fromkeys(h for h in shown if h):      # in file order, each once
                if host not in self.hosts:
                    found = array.host_named(host)
                    if found is None:
                        raise BatchError(f"{self.batch.source}:{job.lines['host:' + host]}",
                                         f"job {job.name}: the array has no host {host!r}", NO_HOST)
                    self.hosts[host] = found
            uids = [self.volumes[i].uid for i in getattr(spec, "volumes", [])]
            if job.action == "create" and len(uids) != len(set(uids)):
                raise BatchError(f"{self.batch.source}:{job.line}",
                                 f"job {job.name}: a volume is named twice", VALUE)

    def run(self) -> list[Outcome]:
        outcomes = [Outcome(j.name, j.action) for j in self.batch.jobs]
        for index, (job, out) in enumerate(zip(self.batch.jobs, outcomes), 1):
            self.progress(f"job {index}/{len(self.batch.jobs)} {job.name}: {job.action}")
            before = self.orch.array.requests
            try:
                getattr(self, f"_{job.action}")(job, out)
                out.result = "ok"
            except Exception as exc:        # noqa: BLE001 - reported, then undone
                error = as_vss_error(exc)
                out.result, out.code, out.error = "failed", error.code, str(error)
                log.warning("batch job failed", job=job.name, code=error.code, error=error.detail)
                self._undo(job, out)
            out.requests = self.orch.array.requests - before
            self.say(f"{job.name}: {out.result}: {out.detail or out.error or ''}".rstrip(": "))
            if out.result == "failed":
                for rest in outcomes[index:]:
                    rest.detail = f"not run: job {job.name} failed"
                break
        return outcomes

    def _undo(self, job: Job, out: Outcome) -> None:
        """Leave nothing half done: abort the set a create job made, and let cleanup
        finish whatever a failed rollback left in the recovery files."""
        if job.action == "create" and out.set_id:
            try:
                self.orch.get_set(out.set_id)
            except VssError:
                pass                         # the engine already rolled it back
            else:
                try:
                    self.orch.abort(out.set_id)
                    out.detail = f"set {out.set_id} aborted"
                except VssError as exc:
                    log.error("abort failed", set_id=out.set_id, error=exc.detail)
                    self._leave_delete(out.set_id)
            self.sets.pop(job.name, None)
        if self.orch.unfinished():
            for row in self.orch.cleanup(own=True):     # never another process's live work
                log.info("batch cleanup", **row)

    def _leave_delete(self, set_id: str) -> None:
        """The abort of a finished set failed (the array went away): record its delete,
        asked and not begun, so that `vssorch cleanup` finishes it. A set with a lifecycle
        still in its file is left to that lifecycle's own recovery."""
        if any(key == set_key(set_id) for key, _ in self.orch.unfinished()):
            return
        record = self.orch.get_set(set_id)
        lcid = uuid.uuid4().hex[:8]
        # Only its snapshot is written here; the lifecycle runs under cleanup, which gives
        # it the engine's persist, find and forget.
        lc = DeleteLifecycle(lcid, [Item(set_id, s) for s in record.shadows], self.orch.ctx,
                             persist=None, find=None, forget=None)  # type: ignore[arg-type]
        self.orch.store.save(op_key("delete", lcid), lc.snapshot())
        log.warning("set left for cleanup to delete", set_id=set_id, lifecycle=lcid)

    # ---- the actions
    def _read(self, initiator: str, uid: str, length: int) -> str:
        return hashlib.sha256(self.data.read(initiator, uid, 0, length)).hexdigest()

    def _create(self, job: Job, out: Outcome) -> None:
        spec: Create = job.spec
        uids = [self.volumes[i].uid for i in spec.volumes]
        options = SetOptions(transportable=spec.transportable, copy_rate=spec.copy_rate,
                             incremental=spec.incremental)
        out.set_id = set_id = str(uuid.uuid4())
        digests: dict[str, str] = {}

        @contextmanager
        def at_commit():
            # What each source holds at the point in time: read between prepare and commit.
            if spec.verify:
                mine = this_initiator(self.orch.config)
                for uid in uids:
                    digests[uid] = self._read(mine, uid, spec.verify_bytes)
            yield

        record = self.orch.create(uids, options, freeze=at_commit, set_id=set_id)
        out.shadows = [{"shadow_id": s.shadow_id, "source": s.source_name or s.source_uid,
                        "source_uid": s.source_uid, "target_uid": s.target_uid} for s in record.shadows]
        done = [f"set {set_id}: " + ", ".join(f"{s['source']} -> {s['target_uid']}" for s in out.shadows)]
        if spec.import_to:
            self.orch.import_set(set_id, spec.import_to)
            done.append(f"imported to {spec.import_to}")
        if spec.expose_to:
            for s in record.shadows:
                self.orch.expose(s.shadow_id, spec.expose_to)
            done.append(f"exposed to {spec.expose_to}")
        if spec.verify:
            reader = self._target_reader(spec)
            for s in record.shadows:
                if self._read(reader, s.target_uid, spec.verify_bytes) != digests[s.source_uid]:
                    out.verified = False
                    raise VssError(4001, f"verify: target {s.target_uid} does not hold the bytes "
                                   f"source {s.source_uid} had at commit")
            out.verified = True
            done.append(f"verified {spec.verify_bytes} bytes of each target")
        self.sets[job.name], self.digests[job.name] = set_id, digests
        if spec.keep:
            out.deleted = self._keep(uids, spec.keep)
            if out.deleted:
                done.append(f"deleted {len(out.deleted)} older shadow copies (keep {spec.keep})")
        out.detail = "; ".join(done)

    def _target_reader(self, spec: Create) -> str:
        """An initiator of a host the targets are shown to."""
        shown = spec.expose_to or spec.import_to
        if shown:
            host = self.hosts[shown]
            return (*host.wwpns, *host.iqns)[0]
        if spec.transportable:
            return self.orch.config.vss_reserved_initiator
        return this_initiator(self.orch.config)

    def _keep(self, uids: list[str], keep: int) -> list[str]:
        deleted: list[str] = []
        for uid in uids:
            mine = sorted((r.created_at, s.shadow_id) for r in self.orch.sets() if r.state == "done"
                          for s in r.shadows if s.source_uid == uid)
            for _, shadow_id in mine[:-keep]:
                if shadow_id not in deleted:
                    deleted += self.orch.delete(shadow_id=shadow_id)
        return deleted

    def _write(self, job: Job, out: Outcome) -> None:
        spec: Write = job.spec
        mine = this_initiator(self.orch.config)
        for ident in spec.volumes:
            self.data.write(mine, self.volumes[ident].uid, 0, spec.text.encode())
        out.detail = f"wrote {len(spec.text.encode())} bytes at the start of {', '.join(spec.volumes)}"

    def _set_of(self, job: Job) -> str | None:
        set_id = self.sets.get(job.spec.job)
        if set_id is None:
            return None
        try:
            self.orch.get_set(set_id)
        except VssError:
            return None
        return set_id

    def _restore(self, job: Job, out: Outcome) -> None:
        spec: Restore = job.spec
        out.set_id = set_id = self._set_of(job)
        if set_id is None:
            raise VssError(711, f"job {spec.job}'s shadow copies no longer exist")
        record = self.orch.get_set(set_id)
        for s in record.shadows:
            out.deleted += self.orch.restore(s.shadow_id)
        done = [f"restored {len(record.shadows)} sources from set {set_id}"]
        newer = [i for i in out.deleted if i not in {s.shadow_id for s in record.shadows}]
        if newer:       # manual 5.1: restoring in a cascade deletes the newer shadow copies too
            out.code = CASCADE_RESTORED
            done.append(f"code {CASCADE_RESTORED}: {MESSAGES[CASCADE_RESTORED]} ({', '.join(newer)})")
        if spec.verify:
            mine = this_initiator(self.orch.config)
            for uid, digest in self.digests[spec.job].items():
                if self._read(mine, uid, self._verify_bytes(spec.job)) != digest:
                    out.verified = False
                    raise VssError(730, f"verify: source {uid} does not hold its bytes at commit")
            out.verified = True
            done.append("verified the sources hold their bytes at commit")
        out.detail = "; ".join(done)

    def _verify_bytes(self, name: str) -> int:
        return next(j.spec.verify_bytes for j in self.batch.jobs if j.name == name)

    def _delete(self, job: Job, out: Outcome) -> None:
        out.set_id = set_id = self._set_of(job)
        if set_id is None:
            out.detail = f"job {job.spec.job}'s shadow copies are already gone"
            return
        out.deleted = self.orch.delete(set_id=set_id)
        out.detail = f"deleted {len(out.deleted)} shadow copies"


def report(batch: Batch, outcomes: list[Outcome], started: float) -> dict:
    return {"file": batch.source, "started": started, "finished": time.time(),
            "ok": all(o.result == "ok" for o in outcomes),
            "jobs": [o.__dict__ for o in outcomes]}
