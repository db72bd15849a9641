"""The embedded array's management model: cluster, I/O groups, pools, volumes, hosts
and host mappings, with the refusals the real array makes.

CIM providers translate requests into these calls; the seed loader and the admin
endpoint use them too. FlashCopy lives in flashcopy.py and is reached through
`self.engine`.
"""
from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pywbem import CIMDateTime, MinutesFromUTC

from . import returncodes as rc
from .clock import SimClock
from .flashcopy import FlashCopyEngine
from .naming import Naming
from .returncodes import ArrayError
from .schema import load_schema
from .store import Store

WWPN_RE = re.compile(r"^[0-9A-F]{16}$")
IQN_RE = re.compile(r"^(iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:.+)?|eui\.[0-9A-F]{16})$", re.I)
MAX_SCSI_ID = 2047
THIN_REAL_FRACTION = 0.02  # a thin volume reserves 2 % of its size at creation (SVC -rsize 2%)

CLOCK_RESERVE = 0.1  # real seconds the persisted clock runs ahead (Array.reserve_clock)

DEFAULT_IOGROUPS = ("io_grp0", "io_grp1", "io_grp2", "io_grp3")
DEFAULT_POOLS = (("Pool0", 64 << 40, False, False), ("ThinPool0", 64 << 40, True, True))


@dataclass(frozen=True)
class Identity:
    cluster_id: str
    cluster_name: str
    code_level: str = "8.5.0.0 (embedded)"


def normalise_port(port: str) -> tuple[str, str]:
    """Return (canonical form, 'fc'|'iscsi') or refuse: WWPNs upper-case hex, IQNs lower."""
    text = port.strip()
    compact = text.replace(":", "").upper()
    if WWPN_RE.match(compact):
        return compact, "fc"
    if IQN_RE.match(text):
        return text.lower(), "iscsi"
    raise ArrayError(rc.INVALID_INITIATOR, f"not a 16-hex-digit WWPN or an IQN: {port!r}")


class Array:
    def __init__(self, state_dir: Path | str | None, namespace: str = "root/ibm",
                 time_scale: float = 1.0, cluster_name: str = "vssorch-array"):
        db = ":memory:" if state_dir is None else Path(state_dir) / "array.db"
        if state_dir is not None:
            Path(state_dir).mkdir(parents=True, exist_ok=True)
        self.store = Store(db)
        self.schema = load_schema(namespace)
        self.namespace = namespace
        with self.store.transaction():
            self._bootstrap(cluster_name)
            start = float(self.store.meta_get("sim_time", "0"))
            if self.store.meta_get("sim_epoch") is None:
                self.store.meta_set("sim_epoch", repr(time.time()))
            # Simulated second 0 is this wall-clock instant: dates the array reports
            # (a mapping's StartTime) are sim_epoch + simulated seconds.
            self.sim_epoch = float(self.store.meta_get("sim_epoch"))
        self.clock = SimClock(start=start, scale=time_scale)
        self._clock_reserved = start      # what sim_time holds: reserve_clock's high-water mark
        self.engine = FlashCopyEngine(self.store.conn, self.clock)
        with self.store.transaction():
            self.engine.ensure_schema()
        self.identity = Identity(self.store.meta_get("cluster_id"), self.store.meta_get("cluster_name"))
        self.naming = Naming(self.identity.cluster_id, namespace)
        # Instances built per class since the last reset: tests read it (admin stats)
        # to check that a lookup builds what it returns and nothing else.
        self.built: Counter[str] = Counter()

    # ------------------------------------------------------------ bootstrap
    def _bootstrap(self, cluster_name: str) -> None:
        if self.store.meta_get("cluster_id"):
            return
        self.store.meta_set("cluster_id", "0000020" + secrets.token_hex(5).upper()[:9])
        self.store.meta_set("cluster_name", cluster_name)
        self.store.meta_set("next_uid", "1")
        for i, name in enumerate(DEFAULT_IOGROUPS):
            self.store.conn.execute("INSERT INTO iogroups(id, name) VALUES(?, ?)", (i, name))
        for i, (name, cap, thin, compression) in enumerate(DEFAULT_POOLS):
            self.store.conn.execute(
                "INSERT INTO pools(id, name, capacity, thin, compression) VALUES(?,?,?,?,?)",
                (i, name, cap, int(thin), int(compression)))

    def datetime(self, sim_seconds: float) -> CIMDateTime:
        """A simulated instant as a CIM timestamp in UTC."""
        return CIMDateTime.fromtimestamp(self.sim_epoch + sim_seconds, MinutesFromUTC(0))

    def reserve_clock(self) -> None:
        """Keep the persisted clock at or ahead of every time the array has shown.

        A restarted array resumes from it, so it must never show an earlier time; writing
        it on every request cost a write transaction per read. Instead a reservation
        CLOCK_RESERVE real seconds ahead is written (in its own transaction, before the
        request's, so a refused request cannot roll it back) whenever the clock reaches
        the last one: a restart may skip forward by at most that much, never back."""
        if self.clock() < self._clock_reserved:
            return
        with self.store.transaction():
            now = self.clock()
            if now >= self._clock_reserved:
                reserved = now + CLOCK_RESERVE * self.clock.scale
                self.store.meta_set("sim_time", repr(reserved))
                self._clock_reserved = reserved

    def persist_clock(self) -> None:
        """The clock as it stands (a clean stop): a restart resumes exactly here."""
        self.store.meta_set("sim_time", repr(self.clock()))

    @property
    def db(self):
        return self.store.conn

    # ------------------------------------------------------------ lookups
    def row(self, table: str, key: str, value):
        return self.db.execute(f"SELECT * FROM {table} WHERE {key}=?", (value,)).fetchone()

    def volume(self, vol_id: int):
        row = self.row("volumes", "id", vol_id)
        if row is None:
            raise ArrayError(rc.INVALID_PARAMETER, f"no volume with id {vol_id}")
        return row

    def volume_by_uid(self, uid: str):
        return self.row("volumes", "uid", uid.strip().upper())

    def host(self, host_id: int):
        row = self.row("hosts", "id", host_id)
        if row is None:
            raise ArrayError(rc.INVALID_PARAMETER, f"no host with id {host_id}")
        return row

    def host_ports(self, host_id: int) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT port FROM host_ports WHERE host_id=? ORDER BY port", (host_id,))]

    def host_of_port(self, port: str):
        canon, _ = normalise_port(port)
        return self.db.execute(
            "SELECT h.* FROM hosts h JOIN host_ports p ON p.host_id=h.id WHERE p.port=?",
            (canon,)).fetchone()

    def pool_used(self, pool_id: int) -> int:
        return self.db.execute("SELECT used FROM pools WHERE id=?", (pool_id,)).fetchone()[0]

    @staticmethod
    def _consumed(size: int, thin: int) -> int:
        return -(-int(size * THIN_REAL_FRACTION) // 512) * 512 if thin else size

    def _new_id(self, table: str) -> int:
        """The next object id: from 0 as on a real cluster. A freed id is not given
        again (the reference does not say whether SVC reuses them)."""
        key = f"next_{table}_id"
        top = self.db.execute(f"SELECT COALESCE(MAX(id) + 1, 0) FROM {table}").fetchone()[0]
        new = max(int(self.store.meta_get(key, "0")), top)
        self.store.meta_set(key, str(new + 1))
        return new

    # ------------------------------------------------------------ volumes
    def _next_uid(self) -> str:
        n = int(self.store.meta_get("next_uid"))
        self.store.meta_set("next_uid", str(n + 1))
        return f"60050768{self.identity_cluster_hex()}{n:016X}"

    def identity_cluster_hex(self) -> str:
        return self.store.meta_get("cluster_id")[-8:]

    def create_volume(self, name: str | None, size: int, pool_id: int, iogrp_id: int,
                      space_efficient: bool = False, compressed: bool = False,
                      deduplicated: bool = False, uid: str | None = None) -> int:
        pool = self.row("pools", "id", pool_id)
        if pool is None:
            raise ArrayError(rc.INVALID_POOL, f"no storage pool with id {pool_id}")
        if self.row("iogroups", "id", iogrp_id) is None:
            raise ArrayError(rc.INVALID_IOGROUP, f"no I/O group with id {iogrp_id}")
        if size <= 0 or size % 512:
            raise ArrayError(rc.SIZE_NOT_SUPPORTED, f"size {size} is not a positive multiple of 512 bytes")
        if pool["thin"]:
            space_efficient = True  # a data-reduction pool only holds thin volumes
        if (compressed or deduplicated) and not pool["thin"]:
            raise ArrayError(rc.COMPRESSION_NOT_SUPPORTED,
                             f"pool {pool['name']} is not a data-reduction pool: no compression or deduplication")
        if compressed and not pool["compression"]:
            raise ArrayError(rc.COMPRESSION_NOT_SUPPORTED, f"compression is not enabled in pool {pool['name']}")
        if self.pool_used(pool_id) + self._consumed(size, space_efficient) > pool["capacity"]:
            raise ArrayError(rc.POOL_FULL, f"not enough free capacity in pool {pool['name']}")
        if name is not None:
            if not name or len(name) > 63 or not re.match(r"^[A-Za-z0-9_.-]+$", name) or name[0].isdigit():
                raise ArrayError(rc.INVALID_PARAMETER, f"invalid volume name {name!r}")
            if self.row("volumes", "name", name):
                raise ArrayError(rc.NAME_EXISTS, f"a volume named {name!r} exists")
        uid = (uid or self._next_uid()).upper()
        if not re.match(r"^[0-9A-F]{32}$", uid) or self.volume_by_uid(uid):
            raise ArrayError(rc.INVALID_PARAMETER, f"UID {uid} is malformed or taken")
        vol_id = self._new_id("volumes")
        self.db.execute(
            "INSERT INTO volumes(id, name, uid, size, pool_id, iogrp_id, space_efficient, compressed, deduplicated)"
            " VALUES(?,?,?,?,?,?,?,?,?)",
            (vol_id, name or f"tmp-{uid}", uid, size, pool_id, iogrp_id, int(space_efficient),
             int(compressed), int(deduplicated)))
        self.db.execute("UPDATE pools SET used=used+? WHERE id=?",
                        (self._consumed(size, space_efficient), pool_id))
        if name is None:
            self.db.execute("UPDATE volumes SET name=? WHERE id=?", (f"vdisk{vol_id}", vol_id))
        return vol_id

    def delete_volume(self, vol_id: int, force: bool = False) -> None:
        row = self.volume(vol_id)
        mapped = self.db.execute("SELECT COUNT(*) FROM host_mappings WHERE volume_id=?", (vol_id,)).fetchone()[0]
        if mapped and not force:
            raise ArrayError(rc.VOLUME_MAPPED, f"volume {vol_id} is mapped to {mapped} host(s)")
        if self.engine.volume_in_mapping(vol_id):
            if not force:   # rmvdisk's own refusal (CMMVC5840E) covers mapped and in-a-mapping alike
                raise ArrayError(rc.VOLUME_MAPPED, f"volume {vol_id} is in a FlashCopy mapping")
            for view in self.engine.mappings_of_volume(vol_id):
                self.engine.delete_mapping(view.id, force=True)
        self.db.execute("DELETE FROM host_mappings WHERE volume_id=?", (vol_id,))
        self.engine.delete_volume_data(vol_id)
        self.db.execute("DELETE FROM volumes WHERE id=?", (vol_id,))
        self.db.execute("UPDATE pools SET used=used-? WHERE id=?",
                        (self._consumed(row["size"], row["space_efficient"]), row["pool_id"]))

    def set_online(self, vol_id: int, online: bool) -> None:
        self.volume(vol_id)
        self.db.execute("UPDATE volumes SET online=? WHERE id=?", (int(online), vol_id))

    # ------------------------------------------------------------ hosts
    def create_host(self, name: str | None, ports: list[str], validate: bool = True) -> int:
        if not ports:
            raise ArrayError(rc.INVALID_PARAMETER, "a host needs at least one port")
        canon = [normalise_port(p) for p in ports]
        kinds = {k for _, k in canon}
        if len(kinds) != 1:
            raise ArrayError(rc.INVALID_IDTYPE, "a host has either FC or iSCSI ports, not both")
        kind = kinds.pop()
        for port, _ in canon:
            if self.row("host_ports", "port", port):
                raise ArrayError(rc.HARDWARE_ID_EXISTS, f"port {port} already belongs to a host")
            if validate and kind == "fc" and not self.row("fabric_ports", "port", port):
                raise ArrayError(rc.PORT_NOT_LOGGED_IN,
                                 f"WWPN {port} is not logged in to the fabric (use Validate=false for a virtual port)")
        if name is not None:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$", name):
                raise ArrayError(rc.INVALID_PARAMETER, f"invalid host name {name!r}")
            if self.row("hosts", "name", name):
                raise ArrayError(rc.NAME_EXISTS, f"a host named {name!r} exists")
        host_id = self._new_id("hosts")
        self.db.execute("INSERT INTO hosts(id, name, port_type) VALUES(?, ?, ?)",
                        (host_id, name or f"tmp-host-{secrets.token_hex(4)}", kind))
        if name is None:
            self.db.execute("UPDATE hosts SET name=? WHERE id=?", (f"host{host_id}", host_id))
        self.db.executemany("INSERT INTO host_ports(port, host_id) VALUES(?, ?)",
                            [(p, host_id) for p, _ in canon])
        return host_id

    def delete_host(self, host_id: int, force: bool = False) -> None:
        self.host(host_id)
        n = self.db.execute("SELECT COUNT(*) FROM host_mappings WHERE host_id=?", (host_id,)).fetchone()[0]
        if n and not force:
            raise ArrayError(rc.IN_USE, f"host {host_id} still has {n} volume mapping(s)")
        self.db.execute("DELETE FROM host_mappings WHERE host_id=?", (host_id,))
        self.db.execute("DELETE FROM host_ports WHERE host_id=?", (host_id,))
        self.db.execute("DELETE FROM hosts WHERE id=?", (host_id,))

    def add_fabric_ports(self, ports: list[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO fabric_ports(port) VALUES(?)",
                            [(normalise_port(p)[0],) for p in ports])

    # ------------------------------------------------------------ host mappings
    def map_volume(self, host_id: int, vol_id: int, scsi_id: int | None = None,
                   force: bool = False) -> int:
        self.host(host_id)
        self.volume(vol_id)
        if self.db.execute("SELECT 1 FROM host_mappings WHERE host_id=? AND volume_id=?",
                           (host_id, vol_id)).fetchone():
            raise ArrayError(rc.ALREADY_EXPOSED, f"volume {vol_id} is already mapped to host {host_id}")
        if not force:
            other = self.db.execute(
                "SELECT h.name FROM host_mappings m JOIN hosts h ON h.id=m.host_id WHERE m.volume_id=? LIMIT 1",
                (vol_id,)).fetchone()
            if other:
                raise ArrayError(rc.VOLUME_MAPPED_TO_OTHER_HOST,
                                 f"volume {vol_id} is already mapped to host {other[0]} (Force to share it)")
        used = {r[0] for r in self.db.execute("SELECT scsi_id FROM host_mappings WHERE host_id=?", (host_id,))}
        if scsi_id is None:
            scsi_id = next((i for i in range(MAX_SCSI_ID + 1) if i not in used), None)
            if scsi_id is None:
                raise ArrayError(rc.LUN_IN_USE, f"host {host_id} has no free SCSI id")
        elif not 0 <= scsi_id <= MAX_SCSI_ID:
            raise ArrayError(rc.INVALID_PARAMETER, f"SCSI id {scsi_id} is outside 0..{MAX_SCSI_ID}")
        elif scsi_id in used:
            raise ArrayError(rc.LUN_IN_USE, f"SCSI id {scsi_id} is in use on host {host_id}")
        self.db.execute("INSERT INTO host_mappings(host_id, volume_id, scsi_id) VALUES(?,?,?)",
                        (host_id, vol_id, scsi_id))
        return scsi_id

    def unmap_volume(self, host_id: int, vol_id: int) -> None:
        cur = self.db.execute("DELETE FROM host_mappings WHERE host_id=? AND volume_id=?", (host_id, vol_id))
        if cur.rowcount == 0:
            raise ArrayError(rc.NOT_EXPOSED, f"volume {vol_id} is not mapped to host {host_id}")

    def mapping_row(self, host_id: int, vol_id: int):
        return self.db.execute("SELECT * FROM host_mappings WHERE host_id=? AND volume_id=?",
                               (host_id, vol_id)).fetchone()

    def hosts_of_volume(self, vol_id: int) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT host_id FROM host_mappings WHERE volume_id=?", (vol_id,))]
