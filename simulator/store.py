"""Persistent array state: one SQLite file, every request one transaction.

All requests of all client connections are serialised by one lock, and each runs in
a BEGIN IMMEDIATE transaction that is rolled back when the method refuses, so a
refused call changes nothing and two clients can never both take the same LUN id or
target.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS iogroups (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS pools (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,
    capacity INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,            -- capacity consumed by its volumes
    thin INTEGER NOT NULL DEFAULT 0,            -- data-reduction pool: thin volumes only
    compression INTEGER NOT NULL DEFAULT 0);    -- compression licensed/allowed
CREATE TABLE IF NOT EXISTS volumes (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, uid TEXT UNIQUE NOT NULL,
    size INTEGER NOT NULL,
    pool_id INTEGER NOT NULL REFERENCES pools(id),
    iogrp_id INTEGER NOT NULL REFERENCES iogroups(id),
    space_efficient INTEGER NOT NULL DEFAULT 0,
    compressed INTEGER NOT NULL DEFAULT 0,
    deduplicated INTEGER NOT NULL DEFAULT 0,
    online INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS volumes_pool ON volumes(pool_id);
CREATE INDEX IF NOT EXISTS volumes_iogrp ON volumes(iogrp_id);
CREATE INDEX IF NOT EXISTS volumes_lower_name ON volumes(lower(name));  -- queries ignore case
CREATE TABLE IF NOT EXISTS hosts (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,
    port_type TEXT NOT NULL CHECK (port_type IN ('fc', 'iscsi')));
CREATE TABLE IF NOT EXISTS host_ports (
    port TEXT PRIMARY KEY, host_id INTEGER NOT NULL REFERENCES hosts(id));
CREATE INDEX IF NOT EXISTS host_ports_host ON host_ports(host_id);
CREATE TABLE IF NOT EXISTS host_mappings (
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    volume_id INTEGER NOT NULL REFERENCES volumes(id),
    scsi_id INTEGER NOT NULL,
    PRIMARY KEY (host_id, volume_id), UNIQUE (host_id, scsi_id));
CREATE INDEX IF NOT EXISTS host_mappings_volume ON host_mappings(volume_id);
CREATE TABLE IF NOT EXISTS fabric_ports (port TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, method TEXT NOT NULL,
    subject_kind TEXT NOT NULL, subject_id INTEGER NOT NULL,
    volume_ids TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    final_state INTEGER,          -- set once the job ended (7 completed, 10 exception)
    error TEXT);
"""


class Store:
    def __init__(self, path: Path | str):
        self.path = str(path)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)
        self.lock = threading.RLock()

    @contextmanager
    def transaction(self):
        """Serialise and make atomic: commit on success, roll back on any exception."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def meta_get(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def meta_set(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))

    def close(self) -> None:
        self.conn.close()
