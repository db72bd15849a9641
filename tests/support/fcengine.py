"""The FlashCopy engine on its own: a bare database with the server's minimal volumes
table, a fake clock, volumes and snapshots, and the check that a call is refused."""
from __future__ import annotations

import sqlite3

import pytest

from simulator.flashcopy import FlashCopyEngine, ensure_schema
from simulator.returncodes import ArrayError
from simulator.voldata import CHUNK
from tests.support.clock import FakeClock

N = 8 * CHUNK       # default test volume: two 256 KiB grains, eight 64 KiB ones


class Array:
    """An engine plus the bits of the server it needs (volumes)."""

    def __init__(self, conn: sqlite3.Connection, clock: FakeClock):
        self.conn = conn
        self.clock = clock
        self.fc = FlashCopyEngine(conn, clock)

    def volume(self, size: int = N, name: str | None = None) -> int:
        cur = self.conn.execute(
            "INSERT INTO volumes(name, uid, size) VALUES(?, ?, ?)",
            (name or f"v{self._count()}", f"UID{self._count():029d}", size))
        return cur.lastrowid

    def set_online(self, vol: int, online: bool) -> None:
        self.conn.execute("UPDATE volumes SET online=? WHERE id=?", (int(online), vol))

    def restart(self) -> None:
        """A new engine on the same database: nothing may live only in memory."""
        self.fc = FlashCopyEngine(self.conn, self.clock)

    def snapshot(self, src: int, tgt: int, **kw) -> int:
        """Create and start at once (prepared first, so the start is now)."""
        kw.setdefault("copy_rate", 0)
        m = self.fc.create_mapping(src, tgt, **kw)
        self.fc.prepare_mapping(m)
        self.clock.tick(2)
        self.fc.start_mapping(m, prepare=True)
        return m

    def _count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM volumes").fetchone()[0]


def make_db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE volumes (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
                 " uid TEXT UNIQUE NOT NULL, size INTEGER NOT NULL,"
                 " online INTEGER NOT NULL DEFAULT 1)")
    ensure_schema(conn)
    return conn


def refused(code, call, *args, **kwargs):
    """The call is refused with that return code; the error, for more checks."""
    with pytest.raises(ArrayError) as e:
        call(*args, **kwargs)
    assert e.value.rc == code, e.value.message
    return e.value
