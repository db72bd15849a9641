"""Cost of FlashCopy snapshots and of reads through a 16-deep cascade (1 GiB volume).

Run: .venv/bin/python bench/bench_cascade.py
Prints figures only; nothing is asserted. The database is a temporary file in WAL
mode, as the embedded array keeps it, and every call runs in its own transaction.
"""
from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.flashcopy import PREPARE_SECONDS, FlashCopyEngine, ensure_schema  # noqa: E402
from simulator.voldata import CHUNK  # noqa: E402

GIB = 1 << 30
MIB = 1 << 20
DEPTH = 16
WRITTEN = 256 * MIB          # data on the source before the first snapshot
CHURN = 8 * MIB              # written to the source between snapshots


class Bench:
    def __init__(self, path: str):
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("CREATE TABLE volumes (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
                          " uid TEXT UNIQUE NOT NULL, size INTEGER NOT NULL,"
                          " online INTEGER NOT NULL DEFAULT 1)")
        ensure_schema(self.conn)
        self.now = 0.0
        self.fc = FlashCopyEngine(self.conn, lambda: self.now)
        self.rng = random.Random(7)

    def call(self, fn, *args, **kwargs):
        """One request: one transaction, as the server runs it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            return fn(*args, **kwargs)
        finally:
            self.conn.execute("COMMIT")

    def volume(self, name: str) -> int:
        return self.conn.execute("INSERT INTO volumes(name, uid, size) VALUES(?, ?, ?)",
                                 (name, name, GIB)).lastrowid

    def scatter(self, vol: int, total: int, size: int = MIB) -> None:
        for _ in range(total // size):
            off = self.rng.randrange(0, GIB - size) // CHUNK * CHUNK
            self.call(self.fc.write, vol, off, os.urandom(size))


def timed(fn, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def show(label: str, seconds: list[float], per: str = "") -> None:
    med = statistics.median(seconds) * 1000
    extra = f"  (max {max(seconds) * 1000:.2f} ms)" if len(seconds) > 1 else ""
    print(f"  {label:<52} {med:9.2f} ms{per}{extra}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        b = Bench(str(Path(tmp) / "array.db"))
        src = b.volume("source")
        targets = [b.volume(f"t{i}") for i in range(DEPTH)]
        print(f"1 GiB source, {WRITTEN // MIB} MiB written, {DEPTH} no-copy snapshots, "
              f"{CHURN // MIB} MiB written between them")
        t0 = time.perf_counter()
        b.scatter(src, WRITTEN)
        print(f"  {'fill the source (1 MiB writes)':<52} {time.perf_counter() - t0:9.2f} s")

        snap_times, maps = [], []
        for tgt in targets:
            def snapshot(tgt=tgt):
                m = b.call(b.fc.create_mapping, src, tgt, copy_rate=0, grain_size=64)
                b.call(b.fc.prepare_mapping, m)
                b.now += PREPARE_SECONDS
                b.call(b.fc.start_mapping, m)
                maps.append(m)
            snap_times += timed(snapshot)
            b.scatter(src, CHURN)
        print("snapshot")
        show("create + prepare + start (one mapping)", snap_times)

        def read_random(vol: int, size: int, n: int = 50) -> list[float]:
            offs = [b.rng.randrange(0, GIB - size) for _ in range(n)]
            return [t for off in offs for t in timed(lambda off=off: b.call(b.fc.read, vol, off, size))]

        print("reads (random offsets)")
        for label, vol in (("source", src), ("newest target (1 level)", targets[-1]),
                           (f"oldest target ({DEPTH} levels)", targets[0])):
            show(f"64 KiB from {label}", read_random(vol, 64 * 1024))
            show(f"1 MiB from {label}", read_random(vol, MIB))
        seq = timed(lambda: [b.call(b.fc.read, targets[0], off, 16 * MIB)
                             for off in range(0, 256 * MIB, 16 * MIB)])
        show("256 MiB sequential from the oldest target", seq,
             f"  = {256 / seq[0]:.0f} MiB/s")

        print("writes")
        show("64 KiB to the source (copy-on-write into the newest)",
             [t for _ in range(50) for t in timed(lambda: b.call(
                 b.fc.write, src, b.rng.randrange(0, GIB // CHUNK) * CHUNK, os.urandom(CHUNK)))])

        print("cascade changes")
        show("stop+delete the middle mapping (clean into its older one)",
             timed(lambda: b.call(b.fc.delete_mapping, maps[DEPTH // 2], force=True)))
        back = b.call(b.fc.create_mapping, targets[3], src, copy_rate=0, grain_size=64)
        show("restore from the 4th oldest (prepare + start)", timed(lambda: (
            b.call(b.fc.prepare_mapping, back, restore=True), setattr(b, "now", b.now + 2),
            b.call(b.fc.start_mapping, back))))
        show("64 KiB from the oldest target after the restore",
             read_random(targets[0], 64 * 1024))
        stored = b.conn.execute("SELECT COUNT(*) FROM fc_chunks").fetchone()[0] * CHUNK
        size = os.path.getsize(Path(tmp) / "array.db") + os.path.getsize(Path(tmp) / "array.db-wal")
        print(f"stored chunks {stored / MIB:.0f} MiB, database file {size / MIB:.0f} MiB")


if __name__ == "__main__":
    main()
