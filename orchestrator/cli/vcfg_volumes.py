"""`inspurvcfg listvols`, `add`, `rem` and `testsnapshot`: the array's volumes, the free
pool of targets, and a real shadow copy to check the configuration (manual 3.2-3.4, 4)."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Sequence
from contextlib import contextmanager

from core.errors import BadInput, VssError
from orchestrator.cli.listing import LISTS, VOLUME_COLUMNS, mark_unusable, resolve_all, select, volume_rows
from orchestrator.cli.vcfg_base import array_error, connect, load, verb
from orchestrator.config import Config
from orchestrator.output import emit, human_size
from states.identity import recorded


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
    from orchestrator.consumers import data_endpoint
    from orchestrator.engine import Orchestrator
    config = load(args)
    try:
        orch = Orchestrator.from_config(config)
    except Exception as exc:
        raise array_error(exc) from None
    volumes = resolve_all(orch.array, _host_volumes_to_uids(config, args.volumes))
    initiator = config.sim_initiator
    data = data_endpoint(config) if initiator else None
    length = 1 << 20
    at_commit: dict[str, bytes] = {}

    @contextmanager
    def freeze():
        if data is not None:
            for v in volumes:
                at_commit[v.uid] = data.read(initiator, v.uid, 0, length)
        yield

    names = ", ".join(v.name for v in volumes)
    print(f"creating a shadow copy of {names}")
    set_id = f"testsnapshot-{uuid.uuid4().hex[:12]}"
    try:
        record = orch.create([v.uid for v in volumes], freeze=freeze, set_id=set_id)
    except Exception as exc:
        error = array_error(exc)
        _abandon(orch, set_id)
        hint = _HINTS.get(error.code)
        raise VssError(error.code, error.detail + (f"; {hint}" if hint else "")) from None
    problem = None
    try:
        for s in record.shadows:
            where = f", shown here as {s.device}" if s.device else ""
            print(f"  {s.source_name or s.source_uid} -> target {s.target_uid} (mapping {s.fcmap_name}){where}")
            if data is not None and data.read(initiator, recorded(s.target_uid, "target UID"), 0, length) != at_commit[s.source_uid]:
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

