"""Volumes as the array shows them (`inspurvcfg listvols`, and the volume names that
`add`, `rem`, `testsnapshot` and batch files accept), and `vssorch list`: the shadow
copies this host's records know of."""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.ids import volume_uid
from core.model import Volume
from orchestrator.config import Config, config_path, load_config
from core.errors import BadInput
from orchestrator.output import Column, emit, guarded, human_size, warn
from core.ports import ArrayPort

LISTS = ("all", "free", "reserved", "assigned", "unassigned", "inlc")


def all_volumes(array: ArrayPort) -> list[Volume]:
    """Every volume of the array (one request)."""
    return array.volumes_named("")


def resolve(volumes: Sequence[Volume], ident: str) -> Volume | None:
    """The volume an identifier names: its UID (any NAA spelling), array name or id."""
    uid = volume_uid(ident)
    for v in volumes:
        if v.name == ident or v.id == ident or (uid and v.uid == uid):
            return v
    return None


def candidates(array: ArrayPort, idents: Sequence[str]) -> list[Volume]:
    """The volumes that identifiers may name, in the array's order: one indexed
    request, whatever the array's size (an identifier is looked up as a name, a UID
    in the array's spelling, or an id)."""
    values = set(idents) | {u for u in map(volume_uid, idents) if u}
    return array.volumes_matching(sorted(values))


def resolve_all(array: ArrayPort, idents: Sequence[str]) -> list[Volume]:
    """Volumes named on a command line, in order, each once; BadInput (201) naming the
    first that the array does not have."""
    volumes = candidates(array, idents)
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
    unusable: list[str] = field(default_factory=list)   # why a free target cannot serve

    def as_dict(self) -> dict:
        v = self.volume
        return {"id": v.id, "name": v.name, "uid": v.uid, "size": v.size,
                "size_text": human_size(v.size), "pool": v.pool, "iogroup": v.iogroup,
                "thin": v.thin, "online": v.online, "status": "online" if v.online else "offline",
                "hosts": self.hosts, "localcopy": self.localcopy, "unusable": self.unusable}


VOLUME_COLUMNS: tuple[Column, ...] = (
    ("id", "ID"), ("name", "NAME"), ("uid", "UID"), ("size_text", "SIZE"), ("status", "STATUS"),
    ("pool", "POOL"), ("hosts", "HOSTS"), ("localcopy", "LOCALCOPY"), ("unusable", "NOT USABLE"))


def mark_unusable(rows: Sequence[VolumeRow], config: Config) -> None:
    """Say why a volume in the free pool would not be chosen as a target: the same
    tests as the create lifecycle's choice (online, the source's size, thin only with
    copy rate 0, not already a mapping's target)."""
    pools = {config.free_host_name, config.res_host_name}
    sizes = {r.volume.size for r in rows if not pools & set(r.hosts)}
    for row in rows:
        v = row.volume
        if config.free_host_name not in row.hosts:
            continue
        if not v.online:
            row.unusable.append("offline")
        if v.size not in sizes:
            row.unusable.append(f"wrong size: no volume outside the pools has {human_size(v.size)}")
        if v.thin and config.background_copy:
            row.unusable.append("thin: needs backgroundCopy 0")
        row.unusable += [role for role in row.localcopy if role.startswith("target of")]


def volume_rows(array: ArrayPort) -> list[VolumeRow]:
    """Every volume with its hosts and localcopy roles: four requests whatever the
    array holds (volumes, localcopy mappings, host views, host mappings)."""
    volumes = all_volumes(array)
    hosts = array.mapped_hosts()
    roles: dict[str, list[str]] = {v.id: [] for v in volumes}
    for m in array.fcmaps_named(""):
        kind = " (incremental)" if m.incremental else ""      # kept by incrementalLC
        roles.setdefault(m.source_id, []).append(f"source of {m.name}{kind}")
        roles.setdefault(m.target_id, []).append(f"target of {m.name}{kind}")
    return [VolumeRow(v, [h.name for h in hosts.get(v.id, [])], roles[v.id]) for v in volumes]


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
    rows = shadow_rows(config, damaged)
    _host_names(config, rows)
    emit(rows, SHADOW_COLUMNS, args.json, empty="no shadow copies")
    for path, why in damaged.items():
        warn("vssorch", f"{path} cannot be read ({why}); vssorch cleanup moves it aside")
    return 0


def _host_names(config: Config, rows: list[dict]) -> None:
    """SHOWN TO by the array's host names (the records keep ids: names may change);
    one request, and only when a copy is shown somewhere. Ids stay if the array cannot
    be asked."""
    if not any(r["shown_to"] for r in rows):
        return
    try:
        from orchestrator.engine import connect_array
        names = {h.id: h.name for h in connect_array(config).hosts()}
    except Exception as exc:    # noqa: BLE001 - the list is still worth showing
        warn("vssorch", f"host ids shown, not names: the array did not answer ({getattr(exc, 'detail', exc)})")
        return
    for r in rows:
        r["shown_to_ids"], r["shown_to"] = r["shown_to"], sorted(names.get(h, h) for h in r["shown_to"])
