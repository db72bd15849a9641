"""Batch files: shadow-copy work written down once and run by `vssorch batch`.

    jobs:
      - name: nightly                 # optional; default job<N>; later jobs refer to it
        create:
          volumes: [vss_src_vol, 60050760008D89C0D000000000000002]   # UIDs, names or ids
          transportable: true         # targets go to the reserved host ...
          import_to: backup_host      # ... and are imported by this array host
          expose_to: backup_host      # also show each target to this array host
          incremental: false          # default: incrementalLC
          copy_rate: 50               # default: backgroundCopy
          keep: 2                     # then delete older shadow copies of each source
          verify: true                # targets hold the sources' bytes at commit
          verify_bytes: 1048576       # how much of each volume verify compares
      - write: {volumes: [vss_src_vol], text: "changed"}   # embedded array only
      - restore: {job: nightly, verify: true}   # sources get their bytes at commit back
      - delete: {job: nightly}

The whole file is checked first, without the array (syntax, keys, types, references
between jobs), then its volume and host names against the array (reads only); any
problem is one line naming the file line, and nothing runs. Jobs then run in order;
the first failed job is undone (a create is aborted, a restore or delete rolls back)
and the jobs after it are skipped.
"""
from __future__ import annotations

import hashlib
import re
import ssl
import time
import urllib.error
import urllib.request
import uuid
from base64 import b64encode
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.errors import CASCADE_RESTORED, MESSAGES, BadInput, VssError, as_vss_error
from orchestrator.cli.listing import candidates, resolve
from orchestrator.config import Config
from core.records import SetOptions
from states.delete import DeleteLifecycle, Item

log = structlog.get_logger("vssorch.batch")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL = "tag:yaml.org,2002:null"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_HOST = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")
SECTOR = 512
MAX_JOBS = 200
MAX_VOLUMES = 64


# What is wrong with a batch file, as the manual's code that comes closest (README,
# "Batch files"); the line itself says exactly what.
UNREADABLE = 2505    # the file cannot be opened: missing, a folder, unreadable, not UTF-8
SYNTAX = 2502        # cannot be read from the file: not YAML, not the shape of a batch file
UNKNOWN_KEY = 1003   # "method not found": a key (action or option) batch files do not have
MISSING = 1002       # "some required parameters are missing": a required key is absent
VALUE = 1006         # a value of the wrong type or out of range, or values that do not go together
REFERENCE = 711      # "no matching synchronization found": a job name no earlier create job has
NO_HOST = 205        # the array has no host of that name (import_to / expose_to)
NO_VOLUME = 201      # the array has no such volume
OFFLINE = 512        # a source volume is offline


class BatchError(BadInput):
    """The batch file cannot run as written (exit 2); the detail names file:line."""

    def __init__(self, where: str, problem: str, code: int):
        super().__init__(code, f"{where}: {problem}")


# ---------------------------------------------------------------- the schema

@dataclass
class Create:
    volumes: list[str]
    transportable: bool = False
    import_to: str | None = None
    expose_to: str | None = None
    incremental: bool | None = None
    copy_rate: int | None = None
    keep: int | None = None
    verify: bool = False
    verify_bytes: int = 1 << 20


@dataclass
class Write:
    volumes: list[str]
    text: str


@dataclass
class Restore:
    job: str
    verify: bool = False


@dataclass
class Delete:
    job: str


ACTIONS = {"create": Create, "write": Write, "restore": Restore, "delete": Delete}


@dataclass
class Job:
    name: str
    action: str
    spec: Any
    line: int
    # line of each volume or host name, for errors found against the array
    lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Batch:
    source: str
    jobs: list[Job]


class _Reader:
    """Turns the composed YAML nodes into the records above, naming the line of each problem."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, node: Node, problem: str, code: int) -> BatchError:
        return BatchError(f"{self.source}:{node.start_mark.line + 1}", problem, code)

    def mapping(self, node: Node, what: str, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping of key: value", SYNTAX)
        out: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name not in allowed:
                shown = name if name is not None else "<complex key>"
                raise self.fail(key, f"{what}: unknown key {shown!r} (allowed: {', '.join(allowed)})", UNKNOWN_KEY)
            if name in out:
                raise self.fail(key, f"{what}: {name} given twice", SYNTAX)
            out[name] = (key, value)
        return out

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag == _NULL:
            raise self.fail(node, f"{what} must be a single value", VALUE)
        return node.value

    def flag(self, node: Node, what: str) -> bool:
        word = self.scalar(node, what).strip().lower()
        if word in ("true", "yes"):
            return True
        if word in ("false", "no"):
            return False
        raise self.fail(node, f"{what} must be true or false", VALUE)

    def integer(self, node: Node, what: str, lo: int, hi: int) -> int:
        text = self.scalar(node, what).strip()
        if not re.fullmatch(r"[0-9]{1,10}", text) or not lo <= int(text) <= hi:
            raise self.fail(node, f"{what} must be an integer {lo}..{hi}", VALUE)
        return int(text)

    def name(self, node: Node, what: str, pattern: re.Pattern) -> str:
        text = self.scalar(node, what).strip()
        if not pattern.match(text):
            raise self.fail(node, f"{what}: {text[:40]!r} is not a valid name", VALUE)
        return text

    def volumes(self, node: Node, what: str, lines: dict[str, int]) -> list[str]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a list of 1..{MAX_VOLUMES} volume UIDs or names", VALUE)
        if len(node.value) > MAX_VOLUMES:
            raise self.fail(node, f"{what}: at most {MAX_VOLUMES} volumes", VALUE)
        out = []
        for item in node.value:
            text = self.scalar(item, f"{what} entry").strip()
            if not text or any(c < " " for c in text) or len(text) > 80:
                raise self.fail(item, f"{what}: {text[:40]!r} is not a volume UID or name", VALUE)
            if text in out:
                raise self.fail(item, f"{what}: {text} given twice", VALUE)
            out.append(text)
            lines.setdefault(text, item.start_mark.line + 1)
        return out


def parse(text: str, source: str) -> Batch:
    """Check a batch file's text without the array; BatchError names the first problem."""
    r = _Reader(source)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise BatchError(f"{source}:{mark.line + 1}" if mark else source, problem, SYNTAX) from None
    except RecursionError:
        raise BatchError(source, "nested too deeply", SYNTAX) from None
    if root is None:
        raise BatchError(source, "the file is empty; it needs a list of jobs", SYNTAX)
    top = r.mapping(root, "the file", ("jobs",))
    if "jobs" not in top:
        raise r.fail(root, "the file needs a 'jobs' list", MISSING)
    key, seq = top["jobs"]
    if not isinstance(seq, SequenceNode) or not seq.value:
        raise r.fail(seq if seq.tag != _NULL else key, f"jobs must be a list of 1..{MAX_JOBS} jobs", SYNTAX)
    if len(seq.value) > MAX_JOBS:
        raise r.fail(seq, f"at most {MAX_JOBS} jobs", VALUE)
    jobs: list[Job] = []
    creates: dict[str, Job] = {}
    for index, node in enumerate(seq.value, 1):
        job = _job(r, node, index, creates)
        if any(j.name == job.name for j in jobs):
            raise r.fail(node, f"job name {job.name} is used twice", REFERENCE)
        jobs.append(job)
        if job.action == "create":
            creates[job.name] = job
    return Batch(source, jobs)


def _job(r: _Reader, node: Node, index: int, creates: dict[str, Job]) -> Job:
    keys = r.mapping(node, f"job {index}", ("name", *ACTIONS))
    name = r.name(keys["name"][1], f"job {index} name", _NAME) if "name" in keys else f"job{index}"
    actions = [k for k in keys if k in ACTIONS]
    if len(actions) != 1:
        raise r.fail(node, f"job {name} needs exactly one of {', '.join(ACTIONS)}", SYNTAX if actions else MISSING)
    action = actions[0]
    what = f"job {name} {action}"
    body = keys[action][1]
    job = Job(name, action, None, node.start_mark.line + 1)
    if action in ("restore", "delete"):
        allowed = ("job", "verify") if action == "restore" else ("job",)
        fields = r.mapping(body, what, allowed)
        if "job" not in fields:
            raise r.fail(body, f"{what} needs 'job': the name of an earlier create job", MISSING)
        target = r.name(fields["job"][1], f"{what} job", _NAME)
        if target not in creates:
            raise r.fail(fields["job"][1], f"{what}: no earlier create job named {target}", REFERENCE)
        if action == "delete":
            job.spec = Delete(target)
            return job
        verify = r.flag(fields["verify"][1], f"{what} verify") if "verify" in fields else False
        if verify and not creates[target].spec.verify:
            raise r.fail(fields["verify"][1], f"{what}: verify needs verify: true on job {target}, "
                         "which records the bytes at commit", REFERENCE)
        job.spec = Restore(target, verify)
        return job
    if action == "write":
        fields = r.mapping(body, what, ("volumes", "text"))
        for needed in ("volumes", "text"):
            if needed not in fields:
                raise r.fail(body, f"{what} needs '{needed}'", MISSING)
        text = r.scalar(fields["text"][1], f"{what} text")
        if not text or len(text.encode()) > 4096:
            raise r.fail(fields["text"][1], f"{what} text must be 1..4096 bytes", VALUE)
        job.spec = Write(r.volumes(fields["volumes"][1], f"{what} volumes", job.lines), text)
        return job
    fields = r.mapping(body, what, tuple(Create.__dataclass_fields__))
    if "volumes" not in fields:
        raise r.fail(body, f"{what} needs 'volumes'", MISSING)
    spec = Create(r.volumes(fields["volumes"][1], f"{what} volumes", job.lines))
    for key, (_, value) in fields.items():
        label = f"{what} {key}"
        if key in ("transportable", "incremental", "verify"):
            setattr(spec, key, r.flag(value, label))
        elif key in ("import_to", "expose_to"):
            setattr(spec, key, r.name(value, label, _HOST))
            job.lines[f"host:{spec.__dict__[key]}"] = value.start_mark.line + 1
        elif key == "copy_rate":
            spec.copy_rate = r.integer(value, label, 0, 100)
        elif key == "keep":
            spec.keep = r.integer(value, label, 1, 1000)
        elif key == "verify_bytes":
            spec.verify_bytes = r.integer(value, label, SECTOR, 64 << 20)
            if spec.verify_bytes % SECTOR:
                raise r.fail(value, f"{label} must be a multiple of {SECTOR}", VALUE)
    if spec.import_to and not spec.transportable:
        raise r.fail(fields["import_to"][1], f"{what}: import_to needs transportable: true "
                     "(other shadow copies are shown on this host)", VALUE)
    job.spec = spec
    return job


def load(path: Path) -> Batch:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise BatchError(str(path), "no such file", UNREADABLE) from None
    except IsADirectoryError:
        raise BatchError(str(path), "is a folder, not a batch file", UNREADABLE) from None
    except OSError as exc:
        raise BatchError(str(path), f"cannot read: {exc.strerror or exc}", UNREADABLE) from None
    except UnicodeDecodeError:
        raise BatchError(str(path), "not UTF-8 text", UNREADABLE) from None
    return parse(text, str(path))


# ---------------------------------------------------------------- host data

class HostData:
    """Block I/O as an array host sees it, through the embedded array's data endpoint
    (a real array has none: there the bytes are read from the host's disks)."""

    def __init__(self, config: Config):
        scheme = "https" if config.using_ssl else "http"
        self.base = f"{scheme}://{config.cimom_host}:{config.cimom_port}/data"
        self._auth = "Basic " + b64encode(f"{config.username}:{config.password}".encode()).decode()
        self._ctx = None
        if config.using_ssl:
            self._ctx = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)

    def _call(self, method: str, initiator: str, uid: str, query: str, body: bytes | None = None) -> bytes:
        req = urllib.request.Request(f"{self.base}/{uid}?{query}", data=body, method=method)
        req.add_header("Authorization", self._auth)
        req.add_header("X-Initiator", initiator)
        try:
            with urllib.request.urlopen(req, context=self._ctx, timeout=60) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            why = exc.read(200).decode(errors="replace")
            raise VssError(4001, f"host {initiator} cannot {method} volume {uid}: {exc.code} {why}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise VssError(3002, f"the array's data endpoint: {getattr(exc, 'reason', exc)}") from None

    def read(self, initiator: str, uid: str, length: int) -> bytes:
        return self._call("GET", initiator, uid, f"offset=0&length={length}")

    def write(self, initiator: str, uid: str, data: bytes) -> None:
        self._call("PUT", initiator, uid, "offset=0", data)


def this_initiator(config: Config) -> str:
    """The initiator this host's I/O uses on the embedded array."""
    initiator = config.sim_initiator
    if not initiator:
        raise VssError(1004, "simInitiator is not set: verify and write read and write "
                       "volumes as the embedded array's simulated host")
    return initiator


# ---------------------------------------------------------------- running

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

    def __init__(self, batch: Batch, orch, data: HostData | None = None,
                 say: Callable[[str], None] = print, progress: Callable[[str], None] = lambda t: None):
        self.batch, self.orch = batch, orch
        self.data = data or HostData(orch.config)
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
            for host in {getattr(spec, "import_to", None), getattr(spec, "expose_to", None)} - {None}:
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
        if any(key == f"set-{set_id}" for key, _ in self.orch.unfinished()):
            return
        record = self.orch.get_set(set_id)
        lcid = uuid.uuid4().hex[:8]
        lc = DeleteLifecycle(lcid, [Item(set_id, s) for s in record.shadows], self.orch.ctx,
                             persist=None, find=None, forget=None)
        self.orch.store.save(f"delete-{lcid}", lc.snapshot())
        log.warning("set left for cleanup to delete", set_id=set_id, lifecycle=lcid)

    # ---- the actions
    def _read(self, initiator: str, uid: str, length: int) -> str:
        return hashlib.sha256(self.data.read(initiator, uid, length)).hexdigest()

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
            self.data.write(mine, self.volumes[ident].uid, spec.text.encode())
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
