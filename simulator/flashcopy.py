"""FlashCopy engine of the embedded array: mappings, consistency groups, background
copy, stop/clean, incremental and reverse (restore) copies, on simulated time.

Pure Python over the array's SQLite connection; the CIM providers translate method
calls into these operations and views into instances. The engine never commits: the
caller runs each request in one transaction under one lock. State is entirely in the
database (the in-memory cache is checked against a generation counter on every call),
so a new engine on the same file resumes mid-copy exactly.

Time is lazy: every call first brings all mappings up to the clock's now (prepare
flushes ending, implicit starts, background copy, completions, cleaning ending), in
time order. How data is shared between source and targets lives in cascade.py.
"""
from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from . import returncodes as rc
from .cascade import Cascade, full_mask, grain_count, grains, lowest_grains, total_grains
from .returncodes import ArrayError
from .voldata import CHUNK, VolumeData, chunk_count
from .voldata import ensure_schema as _ensure_chunk_schema

IDLE = "idle_or_copied"
PREPARING = "preparing"
PREPARED = "prepared"
COPYING = "copying"
STOPPING = "stopping"
STOPPED = "stopped"
EMPTY = "empty"          # groups only

# (state, request or array event) -> next state. A request whose pair is absent is
# refused with the CLI's message for that state (returncodes.FC_REFUSED); delete also
# accepts any state with force (stop first).
TRANSITIONS: dict[tuple[str, str], str | None] = {
    (IDLE, "prepare"): PREPARING,
    (STOPPED, "prepare"): PREPARING,
    (IDLE, "prepare_start"): PREPARING,      # Resync with Force (startfcmap -prep): starts
    (STOPPED, "prepare_start"): PREPARING,   # once flushed; without Force CMMVC5905E/5908E
    (PREPARED, "start"): COPYING,
    (PREPARED, "unprepare"): STOPPED,  # only a prepared state is cleared
    (PREPARED, "stop"): STOPPED,       # target content is then only the grains it holds
    (COPYING, "stop"): STOPPING,       # cleaned at once; stopping lasts the cleaning time
    (STOPPING, "force_stop"): STOPPED,  # stop -force again: skip the rest of the cleaning
    (COPYING, "split"): IDLE,          # 100% copied: older targets now read this target
    (IDLE, "delete"): None,            # stopped: only with force (CMMVC5899E)
    # array events
    (PREPARING, "flushed"): PREPARED,  # COPYING instead when a start is pending
    (COPYING, "copied"): IDLE,         # once no older target depends on it; or deleted
                                       # when autodelete
    (STOPPING, "cleaned"): STOPPED,
}

# DMTF SyncState of IBMTSSVC_LocalStorageSynchronized for each SVC state.
SYNC_STATE = {
    IDLE: 2,         # Initialized; 6 Synchronized once copied 100% (see _sync_state)
    PREPARING: 3,    # PrepareInProgress
    PREPARED: 4,     # Prepared
    COPYING: 5,      # ResyncInProgress
    STOPPING: 8,     # QuiesceInProgress
    STOPPED: 13,     # Fractured
}
SYNCHRONIZED = 6

# Status of IBMTSSVC_FlashCopyStorageSynchronizedSet for each SVC group state.
GROUP_STATUS = {
    EMPTY: 0x1000,   # Empty
    IDLE: 11,        # Idle
    PREPARING: 3,    # PrepareInProgress
    PREPARED: 4,     # Prepared
    COPYING: 5,      # ResyncInProgress
    STOPPING: 0x8002,
    STOPPED: 0x8001,
}
# A group shows the first of these its members are in (members move together, except
# that they finish copying one by one and dependency stops hit single members).
_GROUP_STATE_ORDER = (PREPARING, STOPPING, COPYING, PREPARED, STOPPED, IDLE)

# StopDependentMaps of ModifySynchronization (None: clean dependents, keep them). Which
# operation may carry which value is the CIM layer's check (providers/copyservices.py).
STOP_NEWER = 1               # stop the newer mappings this one reads through, keep it
STOP_NEWER_AND_CURRENT = 2
DO_NOT_STOP_CURRENT = 3      # as 2, but the current one stays when it ends the chain
STOP_OLDER = 4               # stop the older ones reading through it, then it
FAIL_IF_NOT_OLDEST = 5
DO_NOT_STOP_ONLY = 6         # as 2, but the current one stays when it is the only one
_STOP_DEPENDENT = {None, STOP_NEWER, STOP_NEWER_AND_CURRENT, DO_NOT_STOP_CURRENT, STOP_OLDER,
                   FAIL_IF_NOT_OLDEST, DO_NOT_STOP_ONLY}

PREPARE_SECONDS = 2.0        # the array flushing its cache
GRAIN_SIZES = (64, 256)
_ACTIVE = (COPYING, STOPPING)   # SVC's "active": a target of such a map needs restore
_EVENT = {PREPARING: "flushed", COPYING: "copied", STOPPING: "cleaned"}


def copy_speed(rate: int) -> float:
    """Bytes per second for a copy or clean rate: 1-10 128 KiB/s, doubling per ten."""
    return 0.0 if rate == 0 else float((128 * 1024) << ((rate - 1) // 10))


@dataclass(frozen=True)
class MappingView:
    id: int
    name: str
    source_id: int
    target_id: int
    state: str
    sync_state: int
    copy_rate: int
    clean_rate: int
    incremental: bool
    grain_size: int               # KiB
    autodelete: bool
    group_id: int | None
    progress: int                 # % of grains the target holds itself
    difference: int | None        # incremental only: % of grains a restart copies
    dependent_count: int
    start_time: float | None      # simulated seconds of the last start
    restoring: bool


@dataclass(frozen=True)
class GroupView:
    id: int
    name: str
    autodelete: bool
    state: str
    dmtf_status: int
    members: tuple[int, ...]       # mapping ids


@dataclass(eq=False)
class _Map:
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
    copy_time: float         # background copy accounted up to here
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


_COLUMNS = ("id", "name", "source_id", "target_id", "size", "copy_rate", "clean_rate",
            "incremental", "grain_size", "autodelete", "group_id", "state", "restore",
            "restoring", "start_pending", "start_time", "until", "copy_time", "upstream")

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


def _request(method):
    """Every public call: load/check the cache, catch up with the clock, do the work,
    catch up again (the work may complete copies), write changes through."""

    @functools.wraps(method)
    def call(self: FlashCopyEngine, *args, **kwargs):
        self._sync()
        try:
            self._advance()
            self._flush()      # a refusal below must not lose the catch-up
            result = method(self, *args, **kwargs)
            self._advance()
            self._flush()
        except ArrayError:
            raise              # refusals are raised before anything changes
        except BaseException:
            self._maps = None  # cache may hold what the caller's rollback undoes
            raise
        return result

    return call


class FlashCopyEngine:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], float]):
        self._conn = conn
        self._clock = clock
        self._data = VolumeData(conn)
        self._maps: dict[int, _Map] | None = None
        self._groups: dict[int, tuple[str, bool]] = {}
        self._generation = -1
        self._casc: Cascade | None = None
        self._changed: dict[int, _Map] = {}
        self._bumped = False
        self._now = 0.0

    def ensure_schema(self) -> None:
        ensure_schema(self._conn)

    # ================================================================ volume data
    @_request
    def read(self, vol_id: int, offset: int, length: int) -> bytes:
        self._io_volume(vol_id, offset, length)
        return self._casc.read(vol_id, offset, length)

    @_request
    def write(self, vol_id: int, offset: int, data: bytes) -> None:
        self._io_volume(vol_id, offset, len(data))
        written = self._casc.write(vol_id, offset, bytes(data))
        if written:
            for m in self._maps.values():
                if m.incremental and vol_id in (m.source_id, m.target_id):
                    m.dirty |= grains(written, m.cpg, m.nchunks)
                    self._touch(m)

    @_request
    def delete_volume_data(self, vol_id: int) -> None:
        """Forget a deleted volume's content (the server deletes the row)."""
        if self._of_volume(vol_id):
            raise ArrayError(rc.VOLUME_IN_FCMAP, f"volume {vol_id} is in a FlashCopy mapping")
        self._casc.reset(vol_id, 0)

    # ================================================================ mappings
    @_request
    def create_mapping(self, source_id: int, target_id: int, *, name: str | None = None,
                       copy_rate: int = 50, clean_rate: int = 50, incremental: bool = False,
                       grain_size: int = 256, autodelete: bool = False,
                       group_id: int | None = None) -> int:
        _check_rate(copy_rate)
        _check_rate(clean_rate)
        if grain_size not in GRAIN_SIZES:
            raise ArrayError(rc.INVALID_PARAMETER, f"grain size {grain_size} KiB: 64 or 256")
        src = self._volume_row(source_id)
        if src is None:
            raise ArrayError(rc.INVALID_SOURCE, f"no volume {source_id}")
        tgt = self._volume_row(target_id)
        if tgt is None:
            raise ArrayError(rc.INVALID_TARGET, f"no volume {target_id}")
        if source_id == target_id:
            raise ArrayError(rc.INVALID_TARGET, "source and target are the same volume")
        if src[0] != tgt[0]:
            raise ArrayError(rc.FC_SIZE_MISMATCH,
                             f"source is {src[0]} bytes, target {tgt[0]}: sizes must be equal")
        for m in self._maps.values():
            if m.target_id == target_id:
                raise ArrayError(rc.FC_TARGET_IS_TARGET,
                                 f"volume {target_id} is already the target of mapping {m.id}")
            if incremental and m.incremental and m.source_id == source_id:
                raise ArrayError(rc.INVALID_SOURCE,
                                 f"volume {source_id} is already in incremental mapping {m.id}")
        map_id = self._next_id("fc_maps")
        name = name or f"fcmap{map_id}"
        if any(m.name == name for m in self._maps.values()):
            raise ArrayError(rc.OBJECT_EXISTS, f"a mapping is already named {name!r}")
        m = _Map(id=map_id, name=name, source_id=source_id, target_id=target_id, size=src[0],
                 copy_rate=copy_rate, clean_rate=clean_rate, incremental=incremental,
                 grain_size=grain_size, autodelete=autodelete, group_id=None, state=IDLE,
                 restore=False, restoring=False, start_pending=False, start_time=None,
                 until=None, copy_time=self._now, upstream=None)
        if group_id is not None:
            self._check_joinable(group_id, m)
            m.group_id = group_id
        self._bump()
        self._conn.execute(f"INSERT INTO fc_maps({', '.join(_COLUMNS)}) VALUES "
                           f"({', '.join('?' * len(_COLUMNS))})", _row(m))
        self._maps[map_id] = m
        self._touch(m)
        return map_id

    @_request
    def prepare_mapping(self, map_id: int, *, restore: bool = False) -> None:
        m = self._solo(map_id)
        _expect(m, "prepare")
        self._check_startable(m, restore)
        self._prepare(m, restore, start=False)

    @_request
    def start_mapping(self, map_id: int, *, restore: bool = False, prepare: bool = False) -> None:
        """From prepared: now. From idle_or_copied/stopped only with prepare (the
        agent's Force on Resync): prepare, then start once flushed."""
        m = self._solo(map_id)
        _expect(m, "prepare_start" if prepare and m.state != PREPARED else "start")
        restore = restore or (m.state == PREPARED and m.restore)
        self._check_startable(m, restore)
        if m.state == PREPARED:
            m.restore = restore
            self._start(m, self._now)
        else:
            self._prepare(m, restore, start=True)

    @_request
    def unprepare_mapping(self, map_id: int) -> None:
        """Clears a prepared state (and nothing else): the mapping is then stopped."""
        m = self._solo(map_id)
        if (m.state, "unprepare") not in TRANSITIONS:
            raise ArrayError(rc.INVALID_STATE, f"mapping {map_id} is {m.state}, not prepared")
        self._halt(m)

    @_request
    def stop_mapping(self, map_id: int, *, stop_dependent: int | None = None,
                     force: bool = False, split: bool = False) -> None:
        """Stop; force skips the stopping (cleaning) time, split ends a 100% copied
        mapping whose older dependents then read its target instead of cleaning."""
        _check_stop_dependent(stop_dependent)
        m = self._solo(map_id)
        _expect(m, "split" if split else "force_stop" if force and m.state == STOPPING else "stop")
        if split and not m.complete():
            raise ArrayError(rc.FC_SPLIT_REFUSED, f"mapping {map_id} is not copied 100%: "
                                                  "only a complete mapping can be split")
        self._check_oldest(m, stop_dependent)
        self._stop_dependents(m, stop_dependent)
        if self._stops_current(m, stop_dependent):
            self._halt(m, force=force, split=split)

    @_request
    def delete_mapping(self, map_id: int, *, force: bool = False,
                       stop_dependent: int | None = None, via_group: bool = False) -> None:
        """Delete; force stops a busy mapping first (cleaning at once). A busy member of
        a group is stopped only through its group (via_group)."""
        _check_stop_dependent(stop_dependent)
        m = self._map(map_id)
        if (m.state, "delete") not in TRANSITIONS:
            if not force:
                _expect(m, "delete")
            if m.state != STOPPED:          # a stopped one needs no stop (CMMVC5899E: force)
                if not via_group:
                    self._solo(map_id)
                self._check_oldest(m, stop_dependent)
                self._stop_dependents(m, stop_dependent)
                self._halt(m, force=True)
        self._remove(m)

    @_request
    def set_copy_rate(self, map_id: int, rate: int) -> None:
        _check_rate(rate)
        m = self._map(map_id)
        m.copy_rate = rate
        m.copy_time = self._now     # the new rate counts from now
        self._touch(m)

    # ================================================================ groups
    @_request
    def create_group(self, name: str | None = None, *, autodelete: bool = False) -> int:
        group_id = self._next_id("fc_groups")
        name = name or f"fccstgrp{group_id}"
        if any(n == name for n, _ in self._groups.values()):
            raise ArrayError(rc.OBJECT_EXISTS, f"a consistency group is already named {name!r}")
        self._bump()
        self._conn.execute("INSERT INTO fc_groups(id, name, autodelete) VALUES(?, ?, ?)",
                           (group_id, name, int(autodelete)))
        self._groups[group_id] = (name, autodelete)
        return group_id

    @_request
    def add_to_group(self, group_id: int, map_id: int) -> None:
        m = self._map(map_id)
        self._check_joinable(group_id, m)
        m.group_id = group_id
        self._touch(m)

    @_request
    def remove_from_group(self, group_id: int, map_id: int) -> None:
        self._group_members(group_id)
        m = self._map(map_id)
        if m.group_id != group_id:
            raise ArrayError(rc.NOT_IN_SET, f"mapping {map_id} is not in group {group_id}")
        if m.state not in (IDLE, STOPPED):
            raise ArrayError(rc.INVALID_STATE, f"mapping {map_id} is {m.state}")
        self._leave_group(m)

    @_request
    def prepare_group(self, group_id: int, *, restore: bool = False) -> None:
        members = self._group_members(group_id)
        _expect_group(group_id, members, "prepare")
        for m in members:
            self._check_startable(m, restore)
        for m in members:
            self._prepare(m, restore, start=False)

    @_request
    def start_group(self, group_id: int, *, restore: bool = False, prepare: bool = False) -> None:
        """All members start at one instant: now if prepared, else (only with prepare,
        the agent's Force) once all are flushed."""
        members = self._group_members(group_id)
        _expect_group(group_id, members, "prepare_start" if prepare else "start")
        for m in members:
            self._check_startable(m, restore or (m.state == PREPARED and m.restore))
        for m in members:
            if m.state == PREPARED:
                m.restore = restore or m.restore
                self._start(m, self._now)
            else:
                self._prepare(m, restore, start=True)

    @_request
    def unprepare_group(self, group_id: int) -> None:
        members = self._group_members(group_id)
        if not members or {m.state for m in members} != {PREPARED}:
            raise ArrayError(rc.INVALID_STATE, f"group {group_id} is "
                                               f"{_group_state(members)}, not prepared")
        for m in members:
            self._halt(m)

    @_request
    def stop_group(self, group_id: int, *, stop_dependent: int | None = None,
                   force: bool = False) -> None:
        _check_stop_dependent(stop_dependent)
        members = self._group_members(group_id)
        if not members:
            raise ArrayError(rc.FC_GROUP_EMPTY_STOP, f"group {group_id} has no mappings")
        request = "force_stop" if force else "stop"
        if any(m.state == PREPARING for m in members):
            raise ArrayError(rc.FC_REFUSED[("stop", PREPARING)], f"group {group_id} is preparing")
        busy = [m for m in members if (m.state, "stop") in TRANSITIONS or (m.state, request) in TRANSITIONS]
        if not busy:
            state = _group_state(members)
            raise ArrayError(rc.FC_REFUSED.get(("stop", state), rc.INVALID_STATE),
                             f"group {group_id} is {state}: nothing to stop")
        for m in busy:
            self._check_oldest(m, stop_dependent)
        for m in busy:
            if m.state in (PREPARED, COPYING, STOPPING):   # a member's dependents may include it
                self._stop_dependents(m, stop_dependent)
                if self._stops_current(m, stop_dependent):
                    self._halt(m, force=force)

    @_request
    def delete_group(self, group_id: int, *, force: bool = False) -> None:
        """Delete a group; force first turns its members into stand-alone mappings."""
        members = self._group_members(group_id)
        if members and not force:
            raise ArrayError(rc.IN_USE, f"group {group_id} still has {len(members)} mappings")
        for m in members:
            m.group_id = None
            self._touch(m)
        self._drop_group(group_id)

    # ================================================================ queries
    @_request
    def advance(self) -> None:
        """Bring every mapping up to the clock's now (the server calls it per request)."""

    @_request
    def mapping(self, map_id: int) -> MappingView:
        return self._view(self._map(map_id))

    @_request
    def list_mappings(self) -> list[MappingView]:
        return [self._view(m) for _, m in sorted(self._maps.items())]

    @_request
    def mappings_of_volume(self, vol_id: int) -> list[MappingView]:
        return [self._view(m) for m in self._of_volume(vol_id)]

    @_request
    def mapping_count(self, vol_id: int) -> int:
        return len(self._of_volume(vol_id))

    @_request
    def volume_in_mapping(self, vol_id: int) -> bool:
        return bool(self._of_volume(vol_id))

    @_request
    def dependent_mappings(self, map_id: int) -> list[int]:
        """GetDependentMappingNames: mappings whose targets read through this target."""
        m = self._map(map_id)
        return [d.id for d in self._casc.older(m)] if m.upstream is not None else []

    @_request
    def copies_of(self, vol_id: int) -> list[MappingView]:
        """ListVDiskFlashCopyMapCopies: mappings whose targets hold a valid copy of the
        volume (restore candidates): copying, or copied 100% and not stopped."""
        return [self._view(m) for m in self._of_volume(vol_id)
                if m.source_id == vol_id
                and (m.state == COPYING or (m.state in (IDLE, STOPPING) and m.complete()))]

    @_request
    def group(self, group_id: int) -> GroupView:
        return self._group_view(group_id)

    @_request
    def list_groups(self) -> list[GroupView]:
        return self._group_views(sorted(self._groups))

    @_request
    def find_groups(self, names: frozenset[str]) -> list[GroupView]:
        """Groups with one of those names (compared in lower case); only their views
        are built (ExecQuery on a busy array)."""
        return self._group_views([g for g, (name, _) in sorted(self._groups.items())
                                  if name.lower() in names])

    @_request
    def find_mappings(self, *, names: frozenset[str] = frozenset(),
                      ids: frozenset[int] = frozenset()) -> list[MappingView]:
        """Mappings with one of those names (compared in lower case) or ids."""
        return [self._view(m) for _, m in sorted(self._maps.items())
                if m.id in ids or (m.name or "").lower() in names]

    # ================================================================ transitions
    def _prepare(self, m: _Map, restore: bool, start: bool) -> None:
        m.state = PREPARING
        m.until = self._now + PREPARE_SECONDS
        m.restore = restore
        m.start_pending = start
        self._touch(m)

    def _start(self, m: _Map, at: float) -> None:
        """The point in time: the target shows the source's content as of `at`."""
        m.restoring = self._is_active_source(m.target_id)
        m.held = m.held & ~m.dirty if m.incremental else 0
        m.dirty = 0
        self._casc.insert(m, m.source_id)
        self._content_replaced(m.target_id, m)
        m.state = COPYING
        m.start_time = at
        m.copy_time = at
        m.start_pending = False
        m.until = None
        self._touch(m)

    def _stop_dependents(self, m: _Map, how: int | None) -> None:
        if m.upstream is None:
            return
        if how == STOP_OLDER:
            for d in reversed(self._casc.older(m)):    # oldest first: nothing to clean
                self._halt(d)
        elif how in (STOP_NEWER, STOP_NEWER_AND_CURRENT, DO_NOT_STOP_CURRENT, DO_NOT_STOP_ONLY):
            for n in self._casc.newer(m):
                self._halt(n)

    def _stops_current(self, m: _Map, how: int | None) -> bool:
        """Whether a stop with StopDependentMaps `how` also stops m itself."""
        if how == STOP_NEWER:
            return False
        if how in (DO_NOT_STOP_CURRENT, DO_NOT_STOP_ONLY) and m.upstream is not None:
            older = self._casc.older(m)
            if how == DO_NOT_STOP_CURRENT:
                return bool(older)                      # kept when it ends the chain
            return bool(older or self._casc.newer(m))   # kept when it is the only one
        return True

    def _halt(self, m: _Map, force: bool = False, split: bool = False) -> None:
        """The array stops one mapping (asked for, or as a dependent)."""
        if split:
            self._casc.split(m)
            m.state = TRANSITIONS[(m.state, "split")]
            self._touch(m)
            return
        if m.state == COPYING:
            cleaned = self._casc.remove(m)
            m.until = self._now + cleaned * CHUNK / copy_speed(max(m.clean_rate, 1))
            self._content_replaced(m.target_id, m)
        elif m.state in (PREPARING, PREPARED):   # preparing: only a forced delete
            # The prepare already invalidated the target (the array dropped its cache).
            if not m.incremental:
                m.held = 0
            self._casc.reset(m.target_id, m.held)
            m.start_pending = False
            self._content_replaced(m.target_id, m)
        m.state = TRANSITIONS.get((m.state, "stop"), STOPPED)
        if force or m.state == STOPPED:
            m.state = STOPPED
            m.until = None
        self._touch(m)

    def _content_replaced(self, vol: int, cause: _Map) -> None:
        """vol's content changed wholesale: other incremental copies of or into it must
        copy everything next time."""
        for m in self._maps.values():
            if m is not cause and m.incremental and vol in (m.source_id, m.target_id):
                m.dirty = full_mask(m.nchunks)
                self._touch(m)

    def _remove(self, m: _Map) -> None:
        self._bump()
        self._conn.execute("DELETE FROM fc_maps WHERE id=?", (m.id,))
        self._conn.execute("DELETE FROM fc_bitmaps WHERE map_id=?", (m.id,))
        del self._maps[m.id]
        self._changed.pop(m.id, None)
        if m.group_id is not None:
            self._leave_group(m)

    def _leave_group(self, m: _Map) -> None:
        group_id, m.group_id = m.group_id, None
        self._touch(m)
        if self._groups[group_id][1] and not self._members(group_id):
            self._drop_group(group_id)     # autodelete group: gone with its last member

    def _drop_group(self, group_id: int) -> None:
        self._bump()
        self._conn.execute("DELETE FROM fc_groups WHERE id=?", (group_id,))
        del self._groups[group_id]

    # ================================================================ time
    def _advance(self) -> None:
        """Apply every event up to now in time order, background copy in between."""
        now = self._now = max(self._clock(), self._now)
        while True:
            event = self._next_event(now)
            if event is None:
                if not self._background_copy(now):
                    return
                event = self._next_event(now)     # a copy just completed
                if event is None:
                    return
            at, m = event
            self._background_copy(at)
            self._fire(m, at)

    def _next_event(self, now: float) -> tuple[float, _Map] | None:
        best = None
        for m in self._maps.values():
            if m.state in (PREPARING, STOPPING):
                at = m.until
            elif m.state == COPYING:
                if m.complete():
                    # Copied, but older targets reading through it keep it copying at
                    # 100% (as SVC does) rather than being filled up by it.
                    if self._casc.downstream(m.target_id) is not None:
                        continue
                    at = m.copy_time if m.copy_rate else now
                elif m.copy_rate:
                    left = grain_count(m.missing(), m.cpg, m.nchunks)
                    at = m.copy_time + left * m.cpg * CHUNK / copy_speed(m.copy_rate)
                else:
                    continue
            else:
                continue
            if at <= now and (best is None or (at, m.id) < (best[0], best[1].id)):
                best = (at, m)
        return best

    def _background_copy(self, until: float) -> bool:
        """Copy what is due by `until`; returns whether some mapping got complete."""
        completed = False
        for m in self._maps.values():
            if m.state != COPYING or not m.copy_rate:
                continue
            grain_time = m.cpg * CHUNK / copy_speed(m.copy_rate)
            due = int((until - m.copy_time) / grain_time)
            missing = m.missing()
            if due <= 0 or not missing:
                continue
            due = min(due, grain_count(missing, m.cpg, m.nchunks))
            self._casc.fill(m, lowest_grains(missing, due, m.cpg, m.nchunks))
            m.copy_time += due * grain_time
            self._touch(m)
            completed = completed or m.complete()
        return completed

    def _fire(self, m: _Map, at: float) -> None:
        if m.state == PREPARING and m.start_pending:
            self._start(m, at)
            return
        if m.state == COPYING:
            self._casc.fill(m, m.missing())     # the last grain, whatever float rounding says
            if self._casc.downstream(m.target_id) is not None:
                return                          # 100%, but older targets read through it
            self._casc.remove(m)
        m.state = TRANSITIONS[(m.state, _EVENT[m.state])]
        m.until = None
        self._touch(m)
        if m.state == IDLE and m.autodelete:
            self._remove(m)

    # ================================================================ checks
    def _map(self, map_id: int) -> _Map:
        m = self._maps.get(map_id)
        if m is None:
            raise ArrayError(rc.INVALID_PARAMETER, f"no FlashCopy mapping {map_id}")
        return m

    def _solo(self, map_id: int) -> _Map:
        """A mapping driven on its own: members of a group go through the group."""
        m = self._map(map_id)
        if m.group_id is not None:
            raise ArrayError(rc.IN_USE, f"mapping {map_id} is in consistency group "
                                        f"{m.group_id}: drive the group")
        return m

    def _check_startable(self, m: _Map, restore: bool) -> None:
        for vol in (m.source_id, m.target_id):
            row = self._volume_row(vol)
            if row is not None and not row[1]:
                raise ArrayError(rc.VOLUME_OFFLINE, f"volume {vol} is offline")
        if not restore and self._is_active_source(m.target_id):
            raise ArrayError(rc.RESTORE_NOT_TRUE,
                             f"target {m.target_id} is the source of an active mapping: "
                             "starting it is a restore")

    def _check_oldest(self, m: _Map, how: int | None) -> None:
        if how == FAIL_IF_NOT_OLDEST and m.upstream is not None and self._casc.older(m):
            raise ArrayError(rc.NOT_OLDEST, f"older mappings depend on mapping {m.id}")

    def _check_joinable(self, group_id: int, m: _Map) -> None:
        members = self._group_members(group_id)
        if m.group_id is not None:
            raise ArrayError(rc.ALREADY_IN_SET, f"mapping {m.id} is in group {m.group_id}")
        if m.state != IDLE:
            raise ArrayError(rc.INVALID_STATE, f"mapping {m.id} is {m.state}")
        state = _group_state(members)
        if state not in (EMPTY, IDLE, STOPPED):
            raise ArrayError(rc.INVALID_STATE, f"group {group_id} is {state}")
        if members and members[0].autodelete != m.autodelete:
            # CopyType 4 and 5 (autodelete) mappings cannot share a set.
            raise ArrayError(rc.INCOMPATIBLE_SET, f"group {group_id} holds mappings of "
                                                  "the other CopyType")

    def _is_active_source(self, vol: int) -> bool:
        return any(m.source_id == vol and m.state in _ACTIVE for m in self._maps.values())

    def _io_volume(self, vol_id: int, offset: int, length: int) -> None:
        row = self._volume_row(vol_id)
        if row is None:
            raise ArrayError(rc.INVALID_PARAMETER, f"no volume {vol_id}")
        if not row[1]:
            raise ArrayError(rc.VOLUME_OFFLINE, f"volume {vol_id} is offline")
        if offset < 0 or length < 0 or offset + length > row[0]:
            raise ArrayError(rc.INVALID_PARAMETER,
                             f"{length} bytes at {offset} do not fit volume {vol_id} ({row[0]})")

    def _volume_row(self, vol_id: int) -> tuple[int, bool] | None:
        row = self._conn.execute("SELECT size, online FROM volumes WHERE id=?",
                                 (vol_id,)).fetchone()
        return None if row is None else (row[0], bool(row[1]))

    def _group_members(self, group_id: int) -> list[_Map]:
        if group_id not in self._groups:
            raise ArrayError(rc.INVALID_SET, f"no consistency group {group_id}")
        return self._members(group_id)

    def _members(self, group_id: int) -> list[_Map]:
        return [m for _, m in sorted(self._maps.items()) if m.group_id == group_id]

    def _of_volume(self, vol_id: int) -> list[_Map]:
        # Indexed (rows are inserted and deleted together with the cache entries, and
        # a mapping's ends never change): a volume listing stays linear in volumes.
        return [self._maps[i] for (i,) in self._conn.execute(
            "SELECT id FROM fc_maps WHERE source_id=? OR target_id=? ORDER BY id", (vol_id, vol_id))]

    # ================================================================ views
    def _view(self, m: _Map) -> MappingView:
        total = total_grains(m.nchunks, m.cpg)
        held = grain_count(m.held, m.cpg, m.nchunks)
        difference = None
        if m.incremental:     # rounded up: 0 only when a restart would copy nothing
            differ = grain_count(m.missing() | m.dirty, m.cpg, m.nchunks)
            difference = -(-differ * 100 // total)
        return MappingView(
            id=m.id, name=m.name, source_id=m.source_id, target_id=m.target_id,
            state=m.state, sync_state=_sync_state(m), copy_rate=m.copy_rate,
            clean_rate=m.clean_rate, incremental=m.incremental, grain_size=m.grain_size,
            autodelete=m.autodelete, group_id=m.group_id, progress=held * 100 // total,
            difference=difference,
            dependent_count=len(self._casc.older(m)) if m.upstream is not None else 0,
            start_time=m.start_time, restoring=m.restoring and m.state == COPYING)

    def _group_views(self, group_ids: list[int]) -> list[GroupView]:
        # members of all asked groups in one pass over the mappings, not one pass per group
        members: dict[int, list[_Map]] = {g: [] for g in group_ids}
        for _, m in sorted(self._maps.items()):
            if m.group_id in members:
                members[m.group_id].append(m)
        return [self._group_view(g, members[g]) for g in group_ids]

    def _group_view(self, group_id: int, members: list[_Map] | None = None) -> GroupView:
        members = self._group_members(group_id) if members is None else members
        name, autodelete = self._groups[group_id]
        state = _group_state(members)
        return GroupView(id=group_id, name=name, autodelete=autodelete, state=state,
                         dmtf_status=GROUP_STATUS[state], members=tuple(m.id for m in members))

    # ================================================================ persistence
    def _sync(self) -> None:
        """Use the cache only if it matches the database (a caller's rollback would not)."""
        generation = self._conn.execute(
            "SELECT value FROM fc_meta WHERE key='generation'").fetchone()[0]
        if self._maps is None or generation != self._generation:
            self._load(generation)
        self._bumped = False

    def _load(self, generation: int) -> None:
        bits: dict[tuple[int, str], int] = {
            (map_id, kind): int.from_bytes(blob, "little")
            for map_id, kind, blob in self._conn.execute(
                "SELECT map_id, kind, bits FROM fc_bitmaps")}
        self._maps = {}
        for row in self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM fc_maps"):
            values = dict(zip(_COLUMNS, row))
            for flag in ("incremental", "autodelete", "restore", "restoring", "start_pending"):
                values[flag] = bool(values[flag])
            m = _Map(**values, held=bits.get((row[0], "held"), 0),
                     dirty=bits.get((row[0], "dirty"), 0))
            self._maps[m.id] = m
        self._groups = {gid: (name, bool(auto)) for gid, name, auto in self._conn.execute(
            "SELECT id, name, autodelete FROM fc_groups")}
        self._casc = Cascade(self._data, self._maps.values(), self._new_hidden, self._touch)
        self._changed = {}
        self._generation = generation

    def _touch(self, m: _Map) -> None:
        if m.id in self._maps:
            self._changed[m.id] = m

    def _bump(self) -> None:
        """Once per call that changes anything: lets the next call detect a rollback."""
        if not self._bumped:
            self._conn.execute("UPDATE fc_meta SET value=value+1 WHERE key='generation'")
            self._generation += 1
            self._bumped = True

    def _flush(self) -> None:
        if not self._changed:
            return
        self._bump()
        assignments = ", ".join(f"{c}=?" for c in _COLUMNS[1:])
        for m in self._changed.values():
            self._conn.execute(f"UPDATE fc_maps SET {assignments} WHERE id=?",
                               _row(m)[1:] + (m.id,))
            size = (m.nchunks + 7) // 8
            self._conn.executemany(
                "INSERT OR REPLACE INTO fc_bitmaps(map_id, kind, bits) VALUES(?, ?, ?)",
                [(m.id, "held", m.held.to_bytes(size, "little")),
                 (m.id, "dirty", m.dirty.to_bytes(size, "little"))])
        self._changed = {}

    def _new_hidden(self) -> int:
        self._bump()
        (vol,) = self._conn.execute(
            "SELECT value FROM fc_meta WHERE key='next_hidden'").fetchone()
        self._conn.execute("UPDATE fc_meta SET value=value-1 WHERE key='next_hidden'")
        return vol

    def _next_id(self, table: str) -> int:
        return self._conn.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]


def _row(m: _Map) -> tuple:
    return tuple(int(v) if isinstance(v, bool) else v for v in (getattr(m, c) for c in _COLUMNS))


def _sync_state(m: _Map) -> int:
    if m.state == IDLE and m.complete():
        return SYNCHRONIZED
    return SYNC_STATE[m.state]


def _group_state(members: list[_Map]) -> str:
    states = {m.state for m in members}
    return next((s for s in _GROUP_STATE_ORDER if s in states), EMPTY)


def _refused(request: str, state: str) -> int:
    """The CLI's refusal of a request in a state (prepare_start and force_stop are
    start and stop with Force)."""
    verb = {"prepare_start": "start", "force_stop": "stop", "split": "stop"}.get(request, request)
    return rc.FC_REFUSED.get((verb, state), rc.INVALID_STATE)


def _expect(m: _Map, request: str) -> None:
    if (m.state, request) not in TRANSITIONS:
        raise ArrayError(_refused(request, m.state), f"cannot {request} mapping {m.id}: it is {m.state}")


def _expect_group(group_id: int, members: list[_Map], request: str) -> None:
    """Group prepare/start need every member in one startable condition, so that all
    of them reach the start at the same instant; from idle or stopped a start needs
    the prepare first (Force)."""
    states = {m.state for m in members}
    if not states and request != "prepare":
        raise ArrayError(rc.FC_GROUP_EMPTY_START, f"group {group_id} has no mappings")
    if request in ("start", "prepare_start") and states == {PREPARED}:
        return
    if states and states <= {IDLE, STOPPED} and request in ("prepare", "prepare_start"):
        return
    state = _group_state(members)
    raise ArrayError(_refused(request, state), f"cannot {request} group {group_id}: it is {state}")


def _check_rate(rate: int) -> None:
    if not 0 <= rate <= 100:
        raise ArrayError(rc.INVALID_PARAMETER, f"rate {rate} is not within 0..100")


def _check_stop_dependent(how: int | None) -> None:
    if how not in _STOP_DEPENDENT:
        raise ArrayError(rc.INVALID_PARAMETER, f"StopDependentMaps {how} is not supported")
