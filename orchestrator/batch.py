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

Here: the file read and checked without the array (syntax, keys, types, references
between jobs) into the records below; any problem is one line naming the file line, and
nothing runs. Its names are checked against the array and its jobs run by
orchestrator/batch_run.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.errors import BadInput

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
