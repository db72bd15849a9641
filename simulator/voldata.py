"""Sparse volume content: 64 KiB chunks in one table, a missing chunk reads as zeros.

This layer only stores bytes per (volume, chunk). Which volume's chunk a read really
comes from (point-in-time images, cascades) is decided in cascade.py; chunk sets are
passed around as int bitmasks (bit i = chunk i) so that whole-volume operations on a
100 GiB volume stay cheap big-int arithmetic instead of per-chunk loops.
"""
from __future__ import annotations

import sqlite3

CHUNK = 64 * 1024
ZERO_CHUNK = bytes(CHUNK)

_SCHEMA = (
    # Chunks belong to a store; a volume's store is its own id unless fc_stores says
    # otherwise, so that handing all of a volume's content to another id is one row.
    # A plain rowid table: WITHOUT ROWID is slow for rows this large.
    "CREATE TABLE IF NOT EXISTS fc_chunks ("
    " store INTEGER NOT NULL, chunk INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (store, chunk))",
    "CREATE TABLE IF NOT EXISTS fc_stores ("
    " volume_id INTEGER PRIMARY KEY, store INTEGER NOT NULL)",
)
_STORE = "COALESCE((SELECT store FROM fc_stores WHERE volume_id=?1), ?1)"


def ensure_schema(conn: sqlite3.Connection) -> None:
    # One statement at a time: executescript() would commit the caller's transaction.
    for stmt in _SCHEMA:
        conn.execute(stmt)


def chunk_count(size: int) -> int:
    return -(-size // CHUNK)


def range_mask(lo: int, hi: int) -> int:
    """Chunks lo..hi-1."""
    return ((1 << (hi - lo)) - 1) << lo if hi > lo else 0


def span(mask: int) -> tuple[int, int]:
    """Smallest lo, hi with every set bit of a non-empty mask in lo..hi-1."""
    return (mask & -mask).bit_length() - 1, mask.bit_length()


class MaskTest:
    """O(1) membership tests against one mask (shifting a big int per test is O(n))."""

    def __init__(self, mask: int):
        self._bytes = mask.to_bytes((mask.bit_length() + 7) // 8, "little")

    def __contains__(self, i: int) -> bool:
        byte = i >> 3
        return byte < len(self._bytes) and (self._bytes[byte] >> (i & 7)) & 1 == 1


class VolumeData:
    """Physical chunks of every volume (and of the cascade's hidden copies)."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def chunks(self, vol: int, mask: int) -> list[tuple[int, bytes]]:
        """Stored (chunk, data) of `vol` whose chunk is in `mask`."""
        if not mask:
            return []
        lo, hi = span(mask)
        rows = self._conn.execute(
            f"SELECT chunk, data FROM fc_chunks WHERE store={_STORE} AND chunk>=?2 AND chunk<?3",
            (vol, lo, hi))
        wanted = MaskTest(mask)
        return [(c, d) for c, d in rows if c in wanted]

    def get(self, vol: int, chunk: int) -> bytes:
        row = self._conn.execute(
            f"SELECT data FROM fc_chunks WHERE store={_STORE} AND chunk=?2",
            (vol, chunk)).fetchone()
        return row[0] if row else ZERO_CHUNK

    def put(self, vol: int, chunks: dict[int, bytes]) -> None:
        """Store whole chunks; all-zero ones are dropped so that zeros cost nothing."""
        store = self._store(vol)
        zero = [(store, c) for c, d in chunks.items() if d == ZERO_CHUNK]
        data = [(store, c, d) for c, d in chunks.items() if d != ZERO_CHUNK]
        if zero:
            self._conn.executemany("DELETE FROM fc_chunks WHERE store=? AND chunk=?", zero)
        if data:
            self._conn.executemany(
                "INSERT OR REPLACE INTO fc_chunks(store, chunk, data) VALUES(?, ?, ?)", data)

    def keep_only(self, vol: int, mask: int) -> None:
        """Forget every chunk of `vol` outside `mask` (they read as zeros afterwards)."""
        store = self._store(vol)
        if not mask:
            self._conn.execute("DELETE FROM fc_chunks WHERE store=?", (store,))
            return
        keep = MaskTest(mask)
        drop = [(store, c) for (c,) in self._conn.execute(
            "SELECT chunk FROM fc_chunks WHERE store=?", (store,)) if c not in keep]
        self._conn.executemany("DELETE FROM fc_chunks WHERE store=? AND chunk=?", drop)

    def move(self, src: int, dst: int) -> None:
        """Hand all of src's content to the unused id dst; src is left empty.

        No chunk is rewritten: dst takes src's store and src gets a new, empty one
        (dst's own number, which no store uses yet).
        """
        self._conn.executemany(
            "INSERT OR REPLACE INTO fc_stores(volume_id, store) VALUES(?, ?)",
            [(dst, self._store(src)), (src, dst)])

    def delete(self, vol: int) -> None:
        self._conn.execute("DELETE FROM fc_chunks WHERE store=?", (self._store(vol),))
        self._conn.execute("DELETE FROM fc_stores WHERE volume_id=?", (vol,))

    def stored_bytes(self, vol: int) -> int:
        return self._conn.execute(
            "SELECT COUNT(*) FROM fc_chunks WHERE store=?", (self._store(vol),)
        ).fetchone()[0] * CHUNK

    def _store(self, vol: int) -> int:
        return self._conn.execute(f"SELECT {_STORE}", (vol,)).fetchone()[0]
