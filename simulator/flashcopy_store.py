"""Where the FlashCopy engine keeps its state: the mapping records, their rows and
bitmaps in the array's SQLite file, the generation counter that tells a cache whether
it still matches the file, and the ids it hands out."""
from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from .cascade import full_mask
from .voldata import CHUNK, chunk_count
from .voldata import ensure_schema as _ensure_chunk_schema


@dataclass(eq=False)
class MapRecord:
    id: int
    name: str
    source_id: int
    target_id: int
    size: int
    copy_rate: int
    clean_rate: int
    incremental: bool
    grain_size: int
    autodelete: bool
    group_id: int | None
    state: str
    restore: bool            # restore flag given at prepare/start
    restoring: bool          # started while its target was an active source
    start_pending: bool      # start once prepared
    start_time: float | None
    until: float | None      # end of preparing / stopping
    copy_time: float         # background copy accounted (in `held`) up to here
    upstream: int | None     # cascade link (copying only)
    held: int = 0            # chunk bitmask of grains the target holds
    dirty: int = 0           # incremental: grains written on source/target since start
    nchunks: int = field(init=False)
    cpg: int = field(init=False)         # chunks per grain

    def __post_init__(self):
        self.nchunks = chunk_count(self.size)
        self.cpg = self.grain_size * 1024 // CHUNK

    def missing(self) -> int:
        return full_mask(self.nchunks) & ~self.held

    def complete(self) -> bool:
        return self.held == full_mask(self.nchunks)


COLUMNS = ("id", "name", "source_id", "target_id", "size", "copy_rate", "clean_rate",
           "incremental", "grain_size", "autodelete", "group_id", "state", "restore",
           "restoring", "start_pending", "start_time", "until", "copy_time", "upstream")
_FLAGS = ("incremental", "autodelete", "restore", "restoring", "start_pending")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS fc_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO fc_meta(key, value) VALUES ('generation', 0)",
    "INSERT OR IGNORE INTO fc_meta(key, value) VALUES ('next_hidden', -1)",
    "CREATE TABLE IF NOT EXISTS fc_groups ("
    " id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, autodelete INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS fc_maps ("
    " id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    " source_id INTEGER NOT NULL, target_id INTEGER UNIQUE NOT NULL, size INTEGER NOT NULL,"
    " copy_rate INTEGER NOT NULL, clean_rate INTEGER NOT NULL, incremental INTEGER NOT NULL,"
    " grain_size INTEGER NOT NULL, autodelete INTEGER NOT NULL, group_id INTEGER,"
    " state TEXT NOT NULL, restore INTEGER NOT NULL, restoring INTEGER NOT NULL,"
    " start_pending INTEGER NOT NULL, start_time REAL, until REAL, copy_time REAL NOT NULL,"
    " upstream INTEGER)",
    "CREATE INDEX IF NOT EXISTS fc_maps_source ON fc_maps(source_id)",
    # Bitmaps apart from the rows: a 100 GiB volume's bitmap is 200 KB, rewritten only
    # when it changes.
    "CREATE TABLE IF NOT EXISTS fc_bitmaps ("
    " map_id INTEGER NOT NULL, kind TEXT NOT NULL, bits BLOB NOT NULL,"
    " PRIMARY KEY (map_id, kind))",
)


def ensure_schema(conn: sqlite3.Connection) -> None:
    _ensure_chunk_schema(conn)
    for stmt in _SCHEMA:
        conn.execute(stmt)


def _row(m: MapRecord) -> tuple:
    return tuple(int(v) if isinstance(v, bool) else v for v in (getattr(m, c) for c in COLUMNS))


class MapStore:
    """The tables; the caller runs everything in its request's transaction."""

    def __init__(self, conn: sqlite3.Connection, work: Counter):
        self.conn = conn
        self._work = work         # mapping records written: the cost test counts them

    def generation(self) -> int:
        return self.conn.execute("SELECT value FROM fc_meta WHERE key='generation'").fetchone()[0]

    def bump(self) -> None:
        self.conn.execute("UPDATE fc_meta SET value=value+1 WHERE key='generation'")

    def load(self) -> tuple[dict[int, MapRecord], dict[int, tuple[str, bool]]]:
        bits: dict[tuple[int, str], int] = {
            (map_id, kind): int.from_bytes(blob, "little")
            for map_id, kind, blob in self.conn.execute("SELECT map_id, kind, bits FROM fc_bitmaps")}
        maps = {}
        for row in self.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM fc_maps"):
            values = dict(zip(COLUMNS, row))
            for flag in _FLAGS:
                values[flag] = bool(values[flag])
            maps[row[0]] = MapRecord(**values, held=bits.get((row[0], "held"), 0),
                                     dirty=bits.get((row[0], "dirty"), 0))
        groups = {gid: (name, bool(auto)) for gid, name, auto in self.conn.execute(
            "SELECT id, name, autodelete FROM fc_groups")}
        return maps, groups

    def insert(self, m: MapRecord) -> None:
        self.conn.execute(f"INSERT INTO fc_maps({', '.join(COLUMNS)}) VALUES "
                          f"({', '.join('?' * len(COLUMNS))})", _row(m))

    def update(self, m: MapRecord) -> None:
        self._work["written"] += 1
        assignments = ", ".join(f"{c}=?" for c in COLUMNS[1:])
        self.conn.execute(f"UPDATE fc_maps SET {assignments} WHERE id=?", _row(m)[1:] + (m.id,))
        size = (m.nchunks + 7) // 8
        self.conn.executemany(
            "INSERT OR REPLACE INTO fc_bitmaps(map_id, kind, bits) VALUES(?, ?, ?)",
            [(m.id, "held", m.held.to_bytes(size, "little")),
             (m.id, "dirty", m.dirty.to_bytes(size, "little"))])

    def delete(self, map_id: int) -> None:
        self.conn.execute("DELETE FROM fc_maps WHERE id=?", (map_id,))
        self.conn.execute("DELETE FROM fc_bitmaps WHERE map_id=?", (map_id,))

    def of_volume(self, vol_id: int) -> list[int]:
        """Ids of the mappings with vol as source or target (indexed)."""
        return [i for (i,) in self.conn.execute(
            "SELECT id FROM fc_maps WHERE source_id=? OR target_id=? ORDER BY id", (vol_id, vol_id))]

    def mapping_named(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM fc_maps WHERE name=?", (name,)).fetchone() is not None

    def insert_group(self, group_id: int, name: str, autodelete: bool) -> None:
        self.conn.execute("INSERT INTO fc_groups(id, name, autodelete) VALUES(?, ?, ?)",
                          (group_id, name, int(autodelete)))

    def delete_group(self, group_id: int) -> None:
        self.conn.execute("DELETE FROM fc_groups WHERE id=?", (group_id,))

    def new_hidden(self) -> int:
        (vol,) = self.conn.execute("SELECT value FROM fc_meta WHERE key='next_hidden'").fetchone()
        self.conn.execute("UPDATE fc_meta SET value=value-1 WHERE key='next_hidden'")
        return vol

    def next_id(self, table: str) -> int:
        return self.conn.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]

    def volume_row(self, vol_id: int) -> tuple[int, bool] | None:
        row = self.conn.execute("SELECT size, online FROM volumes WHERE id=?", (vol_id,)).fetchone()
        return None if row is None else (row[0], bool(row[1]))
