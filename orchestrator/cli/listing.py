"""Volumes as the array shows them (`inspurvcfg listvols`, and the volume names that
`add`, `rem`, `testsnapshot` and batch files accept), and `vssorch list`: the shadow
copies this host's records know of."""
from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.cim.model import Volume
from adapters.host.base import normalize_naa
from orchestrator.config import Config, config_path, load_config
from orchestrator.errors import VssError
from orchestrator.output import Column, emit, guarded, human_size
from states.ports import ArrayPort

LISTS = ("all", "free", "reserved", "assigned", "unassigned", "inlc")


class BadInput(VssError):
    """The user named something that does not exist or cannot be meant: exit 2, like a
    usage error, although the array had to be asked to know it."""


def all_volumes(array: ArrayPort) -> list[Volume]:
    """Every volume of the array (one request)."""
    return array.volumes_named("")


def resolve(volumes: Sequence[Volume], ident: str) -> Volume | None:
    """The volume an identifier names: its UID (any NAA spelling), array name or id."""
    uid = normalize_naa(ident)
    for v in volumes:
        if v.name == ident or v.id == ident or (uid and v.uid == uid):
            return v
    return None


def resolve_all(array: ArrayPort, idents: Sequence[str]) -> list[Volume]:
    """Volumes named on a command line, in order, each once; BadInput (201) naming the
    first that the array does not have."""
    volumes = all_volumes(array)
    found: dict[str, Volume] = {}
    for ident in idents:
        v = resolve(volumes, ident)
        if v is None:
            raise BadInput(201, f"the array has no volume with UID, name or id {ident!r}")
        found.setdefault(v.id, v)
    return list(found.values())


@dataclass
class VolumeRow:
    volume: Volume
    hosts: list[str]           # array host names the volume is mapped to
    localcopy: list[str]       # "source of <fcmap>" / "target of <fcmap>"

    def as_dict(self) -> dict:
        v = self.volume
        return {"id": v.id, "name": v.name, "uid": v.uid, "size": v.size,
                "size_text": human_size(v.size), "pool": v.pool, "iogroup": v.iogroup,
                "thin": v.thin, "online": v.online, "hosts": self.hosts,
                "localcopy": self.localcopy}


VOLUME_COLUMNS: tuple[Column, ...] = (
    ("id", "ID"), ("name", "NAME"), ("uid", "UID"), ("size_text", "SIZE"), ("pool", "POOL"),
    ("hosts", "HOSTS"), ("localcopy", "LOCALCOPY"))


def volume_rows(array: ArrayPort) -> list[VolumeRow]:
    """Every volume with its hosts and localcopy roles: 2 + one request per volume (the
    port has no call that lists all mappings at once)."""
    volumes = all_volumes(array)
    roles: dict[str, list[str]] = {v.id: [] for v in volumes}
    for m in array.fcmaps_named(""):
        roles.setdefault(m.source_id, []).append(f"source of {m.name}")
        roles.setdefault(m.target_id, []).append(f"target of {m.name}")
    return [VolumeRow(v, [h.name for h in array.volume_hosts(v.id)], roles[v.id]) for v in volumes]


def select(rows: Sequence[VolumeRow], kind: str, config: Config) -> list[VolumeRow]:
    """The manual's listvols lists (raises BadInput 308 for any other word)."""
    tests = {
        "all": lambda r: True,
        "free": lambda r: config.free_host_name in r.hosts,
        "reserved": lambda r: config.res_host_name in r.hosts,
        "assigned": lambda r: bool(r.hosts),
        "unassigned": lambda r: not r.hosts,
        "inlc": lambda r: bool(r.localcopy),
    }
    wanted = tests.get(kind.lower())
    if wanted is None:
        raise BadInput(308, f"unknown list {kind!r}")
    return [r for r in rows if wanted(r)]


# ---------------------------------------------------------------- vssorch list

SHADOW_COLUMNS: tuple[Column, ...] = (
    ("set_id", "SET"), ("shadow_id", "SHADOW"), ("state", "STATE"), ("source", "SOURCE"),
    ("target_uid", "TARGET UID"), ("shown_to", "SHOWN TO"), ("created", "CREATED"))


def shadow_rows(config: Config, damaged: dict[str, str] | None = None) -> list[dict]:
    """One row per shadow copy in the recovery records (no array request); files that
    cannot be read are skipped and named in `damaged`."""
    from orchestrator.engine import Orchestrator
    from orchestrator.recovery import RecoveryStore
    # Reading the records needs no array: the port is never used here.
    orch = Orchestrator(config, None, RecoveryStore(config.state_dir))  # type: ignore[arg-type]
    rows = []
    for record in sorted(orch.sets(), key=lambda r: (r.created_at, r.set_id)):
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created_at))
        for s in record.shadows:
            rows.append({"set_id": record.set_id, "shadow_id": s.shadow_id, "state": record.state,
                         "transportable": record.options.transportable,
                         "source": s.source_name or s.source_uid, "source_uid": s.source_uid,
                         "target_uid": s.target_uid, "fcmap": s.fcmap_name,
                         "shown_to": sorted({*s.exposed_to, *record.imported_by}),
                         "device": s.device, "created": created,
                         "created_at": record.created_at})
    if damaged is not None:
        damaged.update({str(orch.store.path(k)): why for k, why in orch.store.damaged.items()})
    return rows


def register(sub) -> None:
    p = sub.add_parser("list", help="list the shadow copies this host's records know of")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=guarded(run_list))


def run_list(args) -> int:
    config = load_config(config_path(args.config))
    damaged: dict[str, str] = {}
    emit(shadow_rows(config, damaged), SHADOW_COLUMNS, args.json, empty="no shadow copies")
    for path, why in damaged.items():
        print(f"vssorch: warning: {path} cannot be read ({why}); vssorch cleanup moves it aside",
              file=sys.stderr)
    return 0
