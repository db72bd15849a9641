"""`inspurvcfg`: the configuration tool the manual describes (3.1-3.4, 5.1).

Each verb is one function registered with `@verb`; it prints its result and raises
VssError when it fails. `main` turns the outcome into the exit code and one line on
stderr: 0 done, 1 the operation failed (with the manual's code), 2 bad usage or input.
Checks that must follow a successful `set` (reconnecting after new credentials,
warning about settings that strand existing shadow copies) register with `@after_set`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestrator import logs, passwords
from core.errors import BadInput, ConfigError, VssError, as_vss_error
from orchestrator.cli.listing import LISTS, VOLUME_COLUMNS, mark_unusable, resolve_all, select, volume_rows
from orchestrator.cli.secret_input import typed_secret
from orchestrator.config import PARAMS, Config, Param, config_path, find_param, load_config
from orchestrator.configedit import read_values, set_values
from orchestrator.output import emit, error_line, human_size, warn

PROG = "inspurvcfg"


class UsageError(Exception):
    """The command line does not name a verb with the arguments it takes."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:   # type: ignore[override]
        # argparse would print the usage block and exit; we report one line instead.
        raise UsageError(message)


Run = Callable[[argparse.Namespace], None]
Arguments = Callable[[argparse.ArgumentParser], None]
SetCheck = Callable[[Param, Config], None]


@dataclass(frozen=True)
class Verb:
    name: str
    summary: str
    arguments: Arguments
    run: Run


VERBS: dict[str, Verb] = {}
AFTER_SET: list[SetCheck] = []


def verb(name: str, summary: str,
         arguments: Arguments = lambda parser: None) -> Callable[[Run], Run]:
    """Register `run(args)` as the verb `name`; `arguments(parser)` declares what it takes
    (every verb also takes --config)."""
    def register(run: Run) -> Run:
        VERBS[name] = Verb(name, summary, arguments, run)
        return run
    return register


def after_set(check: SetCheck) -> SetCheck:
    """Register `check(param, config)`, run after `set` has written the file."""
    AFTER_SET.append(check)
    return check


def load(args: argparse.Namespace) -> Config:
    """The configuration the command line points at; a warning when others may read
    the passwords in it."""
    path = config_path(args.config)
    config = load_config(path)
    in_file = any(getattr(config, p.attr) and not os.environ.get(p.env or "") for p in PARAMS if p.secret)
    for problem in passwords.access_warnings(path, in_file, config.state_dir):
        warn(PROG, problem)
    return config


def _show(param: Param, config: Config) -> str:
    value = param.show(config)
    return f"{param.label}: {value}" if value else f"{param.label}:"


def _clear_text(config: Config) -> None:
    if config.password and not config.using_ssl:
        warn(PROG, "usingSSL is false: the CIMOM password goes over the network in clear text "
             "(set usingSSL true, port 5989)")


@verb("showcfg", "show every parameter and its value (passwords masked)")
def showcfg(args: argparse.Namespace) -> None:
    config = load(args)
    for param in PARAMS:
        print(_show(param, config))
    _clear_text(config)


def _set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("param", help="parameter name as the manual writes it (any case)")
    parser.add_argument("value", nargs="?",
                        help="new value; put -- before a value starting with '-'. Without it, "
                             "password and vmpassword are asked for (not shown) or read as one "
                             "line of standard input")


@verb("set", "set one parameter", _set_arguments)
def set_(args: argparse.Namespace) -> None:
    param = find_param(args.param)
    text = args.value
    if text is None:
        if not param.secret:
            raise UsageError("the following arguments are required: value")
        text = typed_secret(param.key, PROG)
    elif param.secret and text:
        warn(PROG, f"a {param.key} given on the command line is visible to other users (ps, "
             f"shell history); '{PROG} set {param.key}' without a value asks for it instead")
    # A relative path typed on the command line means one relative to where it was typed.
    values = read_values(param, text, Path.cwd())
    config = set_values(config_path(args.config), {p.key: p.kind.store(v) for p, v in values.items()})
    for changed in values:
        print(_show(changed, config))
    if {"password", "usingSSL"} & {p.key for p in values}:
        _clear_text(config)
    for check in AFTER_SET:
        check(param, config)


# ---------------------------------------------------------------- the array

def _array_error(exc: Exception) -> VssError:
    """An adapter failure as the manual's error; one without a code is taken for the
    array not being reachable (3002)."""
    return as_vss_error(exc, default=3002)


def connect(config: Config, timeout_ms: int | None = None):
    """The array the configuration names (the CIM adapter)."""
    from orchestrator.engine import connect_array
    if not config.cimom_host:
        raise VssError(1004, "cimomHost is not set")
    if timeout_ms is not None:
        config = dataclasses.replace(config, cimom_timeout=timeout_ms)
    try:
        return connect_array(config)
    except Exception as exc:
        raise _array_error(exc) from None


def _free_host(array, config: Config):
    host = array.host_named(config.free_host_name)
    if host is None:
        raise VssError(3005, f"the array has no host named {config.free_host_name!r} (freeHostName)")
    return host


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _listvols_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("list", nargs="?", metavar="|".join(LISTS), help="which volumes")
    _json_option(parser)


@verb("listvols", "list the array's volumes: " + ", ".join(LISTS), _listvols_arguments)
def listvols(args: argparse.Namespace) -> None:
    config = load(args)
    if (args.list or "").lower() not in LISTS:       # before any array request
        raise BadInput(308, f"unknown list {args.list!r}" if args.list else "no list named")
    rows = volume_rows(connect(config))
    mark_unusable(rows, config)
    emit([r.as_dict() for r in select(rows, args.list, config)], VOLUME_COLUMNS, args.json,
         empty="no volumes")


def _volumes_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("volumes", nargs="+", metavar="VOLUME", help="volume UID, name or id")


def _pool_check(array, config: Config, idents: Sequence[str], adding: bool):
    """The volumes and the free host, once every volume passed the checks (nothing is
    changed when one fails)."""
    free = _free_host(array, config)
    volumes = resolve_all(array, idents)
    in_lc = {vid for m in array.fcmaps_of_volumes([v.id for v in volumes]) for vid in (m.source_id, m.target_id)}
    todo = []
    for v in volumes:
        hosts = array.volume_hosts(v.id)
        if v.id in in_lc:
            raise VssError(32816, f"{v.name} is in a localcopy mapping; delete its shadow copy "
                           "or mapping first")
        pooled = any(h.id == free.id for h in hosts)
        if adding:
            others = [h.name for h in hosts if h.id != free.id]
            if others:
                raise VssError(37883, f"{v.name} is mapped to {', '.join(others)}; only "
                               "unmapped volumes can join the free pool")
        elif not pooled:
            raise VssError(38163, f"{v.name} is not in the free pool ({config.free_host_name})")
        if adding != pooled:
            todo.append(v)
    return free, volumes, todo


@verb("add", "add volumes to the free pool of target volumes", _volumes_arguments)
def add(args: argparse.Namespace) -> None:
    config = load(args)
    array = connect(config)
    free, volumes, todo = _pool_check(array, config, args.volumes, adding=True)
    if todo:
        array.map_volumes(free.id, [v.id for v in todo])
    for v in volumes:
        state = "added to" if v in todo else "already in"
        print(f"{v.name} ({v.uid}, {human_size(v.size)}): {state} the free pool")


def _rem_arguments(parser: argparse.ArgumentParser) -> None:
    _volumes_arguments(parser)
    parser.add_argument("--drop-incremental", action="store_true",
                        help="instead: remove the incremental mapping incrementalLC kept for "
                             "these volumes (after 'set incrementalLC No')")


@verb("rem", "remove volumes from the free pool", _rem_arguments)
def rem(args: argparse.Namespace) -> None:
    config = load(args)
    array = connect(config)
    if args.drop_incremental:
        from orchestrator.cli.incremental import drop_incremental
        print("\n".join(drop_incremental(array, config, resolve_all(array, args.volumes))))
        return
    free, volumes, todo = _pool_check(array, config, args.volumes, adding=False)
    array.unmap_volumes(free.id, [v.id for v in todo])
    for v in volumes:
        print(f"{v.name} ({v.uid}): removed from the free pool")


# What to do about the failures a test shadow copy typically meets.
_HINTS = {
    3007: "put unmapped volumes of each source's size in the free pool: inspurvcfg add <volume>",
    103: "put unmapped volumes of each source's size in the free pool: inspurvcfg add <volume>",
    3005: "create the free host on the array or set freeHostName",
    3006: "create the reserved host on the array or set resHostName",
    205: "map this host's initiators to an array host, or check storageProtocol",
    100: "thin targets need backgroundCopy 0",
    800: "use one copy rate for all shadow copies of a source",
    512: "bring the volume online on the array",
    5: "check username and password",
    3002: "check cimomHost, cimomPort, usingSSL and caFile",
}


def _testsnapshot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("volumes", nargs="+", metavar="VOLUME",
                        help="this host's drive letter (E:), mount point or volume path, or an array "
                             "volume's UID, name or id")


def _host_volume(ident: str) -> bool:
    return (len(ident) in (2, 3) and ident[0].isalpha() and ident[1] == ":" and ident[2:] in ("", "\\")
            or ident.startswith(("/", "\\\\?\\")))


def _host_volumes_to_uids(config: Config, idents: Sequence[str]) -> list[str]:
    """Drive letters, mount points and volume paths are this host's: its host adapter
    names the array disk under each (manual 3.2: `testsnapshot E:`)."""
    from adapters.host.base import HostError
    from orchestrator.consumers import local_storage
    if not any(_host_volume(i) for i in idents):
        return list(idents)
    storage = local_storage(config)
    out = []
    for ident in idents:
        if not _host_volume(ident):
            out.append(ident)
            continue
        try:
            disk = storage.volume_to_disk(ident)
        except HostError as exc:
            raise BadInput(201, f"{ident}: {exc}") from None
        if not disk.naa_uid:
            raise BadInput(201, f"{ident} is on disk {disk.number_or_device}, which has no array "
                                "identifier: not an array volume (manual 5.1, unsupported volume)")
        out.append(disk.naa_uid)
    return out


def _abandon(orch, set_id: str) -> None:
    """A create that failed where the engine does not undo it (the reads at the freeze)
    leaves its set prepared: abort it, so that nothing stays on the array."""
    try:
        orch.get_set(set_id)
    except VssError:
        return          # the engine rolled it back already
    orch.abort(set_id)


@verb("testsnapshot", "create, check and remove a real shadow copy of volumes", _testsnapshot_arguments)
def testsnapshot(args: argparse.Namespace) -> None:
    from orchestrator.batch import HostData
    from orchestrator.engine import Orchestrator
    config = load(args)
    try:
        orch = Orchestrator.from_config(config)
    except Exception as exc:
        raise _array_error(exc) from None
    volumes = resolve_all(orch.array, _host_volumes_to_uids(config, args.volumes))
    initiator = config.sim_initiator
    data = HostData(config) if initiator else None
    length = 1 << 20
    at_commit: dict[str, bytes] = {}

    @contextmanager
    def freeze():
        if data is not None:
            for v in volumes:
                at_commit[v.uid] = data.read(initiator, v.uid, length)
        yield

    names = ", ".join(v.name for v in volumes)
    print(f"creating a shadow copy of {names}")
    set_id = f"testsnapshot-{uuid.uuid4().hex[:12]}"
    try:
        record = orch.create([v.uid for v in volumes], freeze=freeze, set_id=set_id)
    except Exception as exc:
        error = _array_error(exc)
        _abandon(orch, set_id)
        hint = _HINTS.get(error.code)
        raise VssError(error.code, error.detail + (f"; {hint}" if hint else "")) from None
    problem = None
    try:
        for s in record.shadows:
            where = f", shown here as {s.device}" if s.device else ""
            print(f"  {s.source_name or s.source_uid} -> target {s.target_uid} (mapping {s.fcmap_name}){where}")
            if data is not None and data.read(initiator, s.target_uid, length) != at_commit[s.source_uid]:
                problem = f"target {s.target_uid} does not hold what {s.source_uid} held at commit"
        if data is not None and problem is None:
            print(f"  the first {human_size(length)} of each target equals its source at commit")
        elif data is None:
            print("  bytes not compared: simInitiator is not set (the embedded array's host I/O)")
    finally:
        orch.delete(set_id=set_id)
        print("removed the test shadow copy")
    if problem:
        raise VssError(4001, problem)
    print("testsnapshot: the configuration works")


# ---------------------------------------------------------------- after set

_CONNECTION = {"cimomHost", "cimomPort", "username", "password", "usingSSL", "caFile",
               "namespace", "targetMCS", "cimomTimeout"}
_HOST_SIDE = {"storageProtocol", "vmhost", "vmusername", "vmpassword", "vmcredential",
              "vmdomain"}
CHECK_TIMEOUT_MS = 5000


@after_set
def connection_test(param: Param, config: Config) -> None:
    """New connection settings are tried at once; a failure is a warning (the setting is
    saved and the next `set` may complete it), not an error."""
    if param.key not in _CONNECTION or os.environ.get("VSSORCH_SET_CHECK", "1") == "0":
        return
    try:
        timeout = min(config.cimom_timeout or CHECK_TIMEOUT_MS, CHECK_TIMEOUT_MS)
        who = connect(config, timeout).identity()
    except Exception as exc:
        warn(PROG, f"connection test failed: {_array_error(exc)}")
        return
    print(f"connected: {who.product} {who.version}, cluster {who.cluster_name} ({who.cluster_id})")


@after_set
def stranded_copies(param: Param, config: Config) -> None:
    """Manual 5.2: shadow copies made under the old host-side settings may not be
    deletable under the new ones."""
    if param.key not in _HOST_SIDE:
        return
    from orchestrator.engine import Orchestrator
    from orchestrator.recovery import RecoveryStore
    try:
        sets = Orchestrator(config, None, RecoveryStore(config.state_dir)).sets()  # type: ignore[arg-type]
    except VssError as exc:
        warn(PROG, f"cannot tell whether shadow copies exist: {exc}")
        return
    if sets:
        count = sum(len(s.shadows) for s in sets)
        warn(PROG, f"{count} shadow copies exist (see 'vssorch list'); they were made with the "
             f"previous {param.key} and deleting, importing or restoring them may now fail "
             "(manual 5.2): change it back or delete them first")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, allow_abbrev=False,
                     description="Configure the VSS hardware provider.")
    config_help = "configuration file (default: $VSSORCH_CONFIG, else the system's location)"
    parser.add_argument("--config", metavar="FILE", help=config_help)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for v in VERBS.values():
        sub = verbs.add_parser(v.name, help=v.summary, description=v.summary, allow_abbrev=False)
        # SUPPRESS: a --config before the verb must survive the sub-parser's defaults.
        sub.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=config_help)
        v.arguments(sub)
    return parser


def _fail(message: str, code: int) -> int:
    error_line(PROG, message)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        logs.check()                # VSSORCH_LOG_FILE / VSSORCH_LOG_LEVEL: 2500, exit 2
        VERBS[args.verb].run(args)
    except SystemExit as exc:       # --help
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        return _fail(f"error: {exc} (see '{PROG} --help')", 2)
    except ConfigError as exc:      # a value to correct; none of the manual's codes says which
        return _fail(f"error: {exc.detail}", 2)
    except BadInput as exc:
        return _fail(str(exc), 2)
    except VssError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`showcfg | head -1`); there is no one left to tell. Point
        # stdout at the null device so the flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:        # an adapter's error, or a bug: still one line, never a traceback
        return _fail(str(as_vss_error(exc)), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
