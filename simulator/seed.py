"""Provisioning an array from a YAML seed: pools, I/O groups, fabric logins, hosts,
volumes and host mappings. A seed is applied once, in one transaction: a bad seed
changes nothing. Entries with `count` repeat, with `{n}` (and `{v}`, n rotated by
`shift`) in names and ports (Python format syntax): that keeps the scale seed short."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from .array import Array
from .returncodes import ArrayError

_UNITS = {"": 1, "B": 1, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
          "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


class SeedError(ValueError):
    pass


def parse_size(value, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*", str(value), re.I)
    if not m:
        raise SeedError(f"{where}: size {value!r} is not a number of bytes or like '10GiB'")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").upper()])


def _expand(entry: dict, where: str) -> list[dict]:
    if not isinstance(entry, dict):
        raise SeedError(f"{where}: expected a mapping, got {type(entry).__name__}")
    count = entry.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise SeedError(f"{where}: count must be a positive integer")
    start = entry.get("start", 0)
    shift = entry.get("shift", 0)

    def fill(v, n):
        if isinstance(v, str):
            try:
                # {n} counts from start; {v} is n rotated by `shift` within the same range.
                return v.format(n=n, v=(n - start + shift) % count + start)
            except (KeyError, IndexError, ValueError) as exc:
                raise SeedError(f"{where}: bad pattern {v!r}: {exc}") from None
        if isinstance(v, list):
            return [fill(x, n) for x in v]
        return v

    body = {k: v for k, v in entry.items() if k not in ("count", "start", "shift")}
    return [{k: fill(v, n) for k, v in body.items()} for n in range(start, start + count)]


def _known(entry: dict, allowed: set[str], where: str) -> None:
    extra = set(entry) - allowed
    if extra:
        raise SeedError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")


def _id(array: Array, table: str, name: str, where: str) -> int:
    row = array.row(table, "name", name)
    if row is None:
        raise SeedError(f"{where}: no {table[:-1]} named {name!r}")
    return row["id"]


def apply_seed(array: Array, path: Path) -> bool:
    """Apply the seed unless this array already has it. Returns True when applied."""
    text = Path(path).read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(doc, dict):
        raise SeedError(f"{path}: the seed must be a mapping")
    _known(doc, {"fabric", "iogroups", "pools", "hosts", "volumes", "mappings"}, str(path))
    with array.store.transaction():
        applied = array.store.meta_get("seed")
        if applied == digest:
            return False
        if applied is not None:
            raise SeedError(f"{path}: this array was seeded from a different file; use a fresh --state folder")
        try:
            _apply(array, doc, str(path))
        except ArrayError as exc:
            raise SeedError(f"{path}: {exc.message}") from None
        array.store.meta_set("seed", digest)
    return True


def _apply(array: Array, doc: dict, src: str) -> None:
    db = array.db
    array.add_fabric_ports([str(p) for p in doc.get("fabric", [])])
    for name in doc.get("iogroups", []):
        if array.row("iogroups", "name", name) is None:
            db.execute("INSERT INTO iogroups(name) VALUES(?)", (str(name),))
    for i, raw in enumerate(doc.get("pools", [])):
        where = f"{src}: pools[{i}]"
        for p in _expand(raw, where):
            _known(p, {"name", "capacity", "thin", "compression"}, where)
            row = array.row("pools", "name", p.get("name"))
            cap = parse_size(p.get("capacity", "64TiB"), where)
            if row is None:
                db.execute("INSERT INTO pools(name, capacity, thin, compression) VALUES(?,?,?,?)",
                           (str(p["name"]), cap, int(bool(p.get("thin"))), int(bool(p.get("compression")))))
            else:
                db.execute("UPDATE pools SET capacity=?, thin=?, compression=? WHERE id=?",
                           (cap, int(bool(p.get("thin"))), int(bool(p.get("compression"))), row["id"]))
    for i, raw in enumerate(doc.get("hosts", [])):
        where = f"{src}: hosts[{i}]"
        for h in _expand(raw, where):
            _known(h, {"name", "wwpns", "iqns", "validate"}, where)
            ports = [str(x) for x in (h.get("wwpns") or []) + (h.get("iqns") or [])]
            array.create_host(h.get("name"), ports, validate=bool(h.get("validate", False)))
    for i, raw in enumerate(doc.get("volumes", [])):
        where = f"{src}: volumes[{i}]"
        for v in _expand(raw, where):
            _known(v, {"name", "size", "pool", "iogroup", "uid", "thin", "compressed", "deduplicated",
                       "online", "map"}, where)
            vol_id = array.create_volume(
                v.get("name"), parse_size(v.get("size"), where),
                _id(array, "pools", v.get("pool", "Pool0"), where),
                _id(array, "iogroups", v.get("iogroup", "io_grp0"), where),
                space_efficient=bool(v.get("thin")), compressed=bool(v.get("compressed")),
                deduplicated=bool(v.get("deduplicated")), uid=v.get("uid"))
            for host in ([v["map"]] if isinstance(v.get("map"), str) else v.get("map") or []):
                array.map_volume(_id(array, "hosts", host, where), vol_id)
            if v.get("online") is False:
                array.set_online(vol_id, False)
    for i, raw in enumerate(doc.get("mappings", [])):
        where = f"{src}: mappings[{i}]"
        for m in _expand(raw, where):
            _known(m, {"host", "volumes", "scsi_ids", "force"}, where)
            host_id = _id(array, "hosts", m.get("host"), where)
            scsi_ids = m.get("scsi_ids") or []
            for j, vol in enumerate(m.get("volumes") or []):
                array.map_volume(host_id, _id(array, "volumes", vol, where),
                                 scsi_ids[j] if j < len(scsi_ids) else None, force=bool(m.get("force")))
