"""FlashCopy engine of the embedded array: mappings, consistency groups, background
copy, stop/clean, incremental and reverse (restore) copies, on simulated time.

Pure Python over the array's SQLite connection; the CIM providers translate method
calls into these operations and views into instances. The engine never commits: the
caller runs each request in one transaction under one lock. State is entirely in the
database (the in-memory cache is checked against a generation counter on every call),
so a new engine on the same file resumes mid-copy exactly.

The parts: the states, state table and views (flashcopy_rules.py), the records and
their tables (flashcopy_store.py), how data is shared between a source and its
targets (cascade.py) and time: next events and lazily moved background copy
(flashcopy_timeline.py). A request costs the same however many mappings are copying:
it applies only the events that are due and writes only the mappings it changed.
"""
from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable

from . import returncodes as rc
from .cascade import Cascade, full_mask, grain_count, grains, total_grains
from .flashcopy_rules import (  # noqa: F401  (re-exported: the engine's public names)
    ACTIVE, COPYING, DO_NOT_STOP_CURRENT, DO_NOT_STOP_ONLY, EMPTY, EVENT, FAIL_IF_NOT_OLDEST,
    GRAIN_SIZES, GROUP_STATUS, IDLE, PREPARE_SECONDS, PREPARED, PREPARING, STOP_NEWER,
    STOP_NEWER_AND_CURRENT, STOP_OLDER, STOPPED, STOPPING, SYNC_STATE, SYNCHRONIZED,
    TRANSITIONS, GroupView, MappingView, check_grain_size, check_rate, check_stop_dependent,
    copy_speed, expect, expect_group, group_state, sync_state)
from .flashcopy_store import MapRecord, MapStore, ensure_schema
from .flashcopy_timeline import Timeline
from .returncodes import ArrayError
from .voldata import CHUNK, VolumeData


def _request(method):
    """Every public call: load/check the cache, apply the events due, do the work,
    apply those it made due, write changes through."""

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
            if self._changed:
                self._maps = None   # refused after settling: the rollback undoes it
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
        self._store = MapStore(conn)
        self._data = VolumeData(conn)
        self._maps: dict[int, MapRecord] | None = None
        self._groups: dict[int, tuple[str, bool]] = {}
        self._generation = -1
        self._casc: Cascade | None = None
        self._timeline: Timeline | None = None
        self._changed: dict[int, MapRecord] = {}
        self._pending: set[int] = set()     # mappings whose next event must be recomputed
        self._bumped = False
        self._now = 0.0

    def ensure_schema(self) -> None:
        ensure_schema(self._conn)

    def work(self) -> dict[str, int]:
        """Mapping records this engine has settled, scheduled and written so far (the
        request-cost test compares them, not times)."""
        t = self._timeline
        return {"settled": t.settled if t else 0, "scheduled": t.scheduled if t else 0,
                "written": self._store.written}

    # ================================================================ volume data
    @_request
    def read(self, vol_id: int, offset: int, length: int) -> bytes:
        self._io_volume(vol_id, offset, length)
        return self._casc.read(vol_id, offset, length)

    @_request
    def write(self, vol_id: int, offset: int, data: bytes) -> None:
        self._io_volume(vol_id, offset, len(data))
        self._settle(self._casc.downstream(vol_id), self._casc.link_of(vol_id))
        written = self._casc.write(vol_id, offset, bytes(data))
        if written:
            for m in self._of_volume(vol_id):
                if m.incremental:
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
        check_rate(copy_rate)
        check_rate(clean_rate)
        check_grain_size(grain_size)
        src = self._store.volume_row(source_id)
        if src is None:
            raise ArrayError(rc.INVALID_SOURCE, f"no volume {source_id}")
        tgt = self._store.volume_row(target_id)
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
        map_id = self._store.next_id("fc_maps")
        name = name or f"fcmap{map_id}"
        if any(m.name == name for m in self._maps.values()):
            raise ArrayError(rc.OBJECT_EXISTS, f"a mapping is already named {name!r}")
        m = MapRecord(id=map_id, name=name, source_id=source_id, target_id=target_id, size=src[0],
                 copy_rate=copy_rate, clean_rate=clean_rate, incremental=incremental,
                 grain_size=grain_size, autodelete=autodelete, group_id=None, state=IDLE,
                 restore=False, restoring=False, start_pending=False, start_time=None,
                 until=None, copy_time=self._now, upstream=None)
        if group_id is not None:
            self._check_joinable(group_id, m)
            m.group_id = group_id
        self._bump()
        self._store.insert(m)
        self._maps[map_id] = m
        self._touch(m)
        return map_id

    @_request
    def prepare_mapping(self, map_id: int, *, restore: bool = False) -> None:
        m = self._solo(map_id)
        expect(m, "prepare")
        self._check_startable(m, restore)
        self._prepare(m, restore, start=False)

    @_request
    def start_mapping(self, map_id: int, *, restore: bool = False, prepare: bool = False) -> None:
        """From prepared: now. From idle_or_copied/stopped only with prepare (the
        agent's Force on Resync): prepare, then start once flushed."""
        m = self._solo(map_id)
        expect(m, "prepare_start" if prepare and m.state != PREPARED else "start")
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
        check_stop_dependent(stop_dependent)
        m = self._solo(map_id)
        expect(m, "split" if split else "force_stop" if force and m.state == STOPPING else "stop")
        if split and not self._complete(m):
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
        check_stop_dependent(stop_dependent)
        m = self._map(map_id)
        if (m.state, "delete") not in TRANSITIONS:
            if not force:
                expect(m, "delete")
            if m.state != STOPPED:          # a stopped one needs no stop (CMMVC5899E: force)
                if not via_group:
                    self._solo(map_id)
                self._check_oldest(m, stop_dependent)
                self._stop_dependents(m, stop_dependent)
                self._halt(m, force=True)
        self._remove(m)

    @_request
    def set_copy_rate(self, map_id: int, rate: int) -> None:
        check_rate(rate)
        m = self._map(map_id)
        self._settle(m)             # copied so far at the old rate
        m.copy_rate = rate
        m.copy_time = self._now     # the new rate counts from now
        self._touch(m)

    # ================================================================ groups
    @_request
    def create_group(self, name: str | None = None, *, autodelete: bool = False) -> int:
        group_id = self._store.next_id("fc_groups")
        name = name or f"fccstgrp{group_id}"
        if any(n == name for n, _ in self._groups.values()):
            raise ArrayError(rc.OBJECT_EXISTS, f"a consistency group is already named {name!r}")
        self._bump()
        self._store.insert_group(group_id, name, autodelete)
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
        expect_group(group_id, members, "prepare")
        for m in members:
            self._check_startable(m, restore)
        for m in members:
            self._prepare(m, restore, start=False)

    @_request
    def start_group(self, group_id: int, *, restore: bool = False, prepare: bool = False) -> None:
        """All members start at one instant: now if prepared, else (only with prepare,
        the agent's Force) once all are flushed."""
        members = self._group_members(group_id)
        expect_group(group_id, members, "prepare_start" if prepare else "start")
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
                                               f"{group_state(members)}, not prepared")
        for m in members:
            self._halt(m)

    @_request
    def stop_group(self, group_id: int, *, stop_dependent: int | None = None,
                   force: bool = False) -> None:
        check_stop_dependent(stop_dependent)
        members = self._group_members(group_id)
        if not members:
            raise ArrayError(rc.FC_GROUP_EMPTY_STOP, f"group {group_id} has no mappings")
        request = "force_stop" if force else "stop"
        if any(m.state == PREPARING for m in members):
            raise ArrayError(rc.FC_REFUSED[("stop", PREPARING)], f"group {group_id} is preparing")
        busy = [m for m in members if (m.state, "stop") in TRANSITIONS or (m.state, request) in TRANSITIONS]
        if not busy:
            state = group_state(members)
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
                and (m.state == COPYING or (m.state in (IDLE, STOPPING) and self._complete(m)))]

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
    def _prepare(self, m: MapRecord, restore: bool, start: bool) -> None:
        m.state = PREPARING
        m.until = self._now + PREPARE_SECONDS
        m.restore = restore
        m.start_pending = start
        self._touch(m)

    def _start(self, m: MapRecord, at: float) -> None:
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

    def _stop_dependents(self, m: MapRecord, how: int | None) -> None:
        if m.upstream is None:
            return
        if how == STOP_OLDER:
            for d in reversed(self._casc.older(m)):    # oldest first: nothing to clean
                self._halt(d)
        elif how in (STOP_NEWER, STOP_NEWER_AND_CURRENT, DO_NOT_STOP_CURRENT, DO_NOT_STOP_ONLY):
            for n in self._casc.newer(m):
                self._halt(n)

    def _stops_current(self, m: MapRecord, how: int | None) -> bool:
        """Whether a stop with StopDependentMaps `how` also stops m itself."""
        if how == STOP_NEWER:
            return False
        if how in (DO_NOT_STOP_CURRENT, DO_NOT_STOP_ONLY) and m.upstream is not None:
            older = self._casc.older(m)
            if how == DO_NOT_STOP_CURRENT:
                return bool(older)                      # kept when it ends the chain
            return bool(older or self._casc.newer(m))   # kept when it is the only one
        return True

    def _halt(self, m: MapRecord, force: bool = False, split: bool = False) -> None:
        """The array stops one mapping (asked for, or as a dependent)."""
        self._settle(m, self._casc.downstream(m.target_id))
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

    def _content_replaced(self, vol: int, cause: MapRecord) -> None:
        """vol's content changed wholesale: other incremental copies of or into it must
        copy everything next time."""
        for m in self._of_volume(vol):
            if m is not cause and m.incremental:
                m.dirty = full_mask(m.nchunks)
                self._touch(m)

    def _remove(self, m: MapRecord) -> None:
        self._bump()
        self._store.delete(m.id)
        del self._maps[m.id]
        self._changed.pop(m.id, None)
        self._timeline.drop(m.id)
        if m.group_id is not None:
            self._leave_group(m)

    def _leave_group(self, m: MapRecord) -> None:
        group_id, m.group_id = m.group_id, None
        self._touch(m)
        if self._groups[group_id][1] and not self._members(group_id):
            self._drop_group(group_id)     # autodelete group: gone with its last member

    def _drop_group(self, group_id: int) -> None:
        self._bump()
        self._store.delete_group(group_id)
        del self._groups[group_id]

    # ================================================================ time
    def _advance(self) -> None:
        """Apply the events due by now in time order (flashcopy_timeline.py)."""
        now = self._now = max(self._clock(), self._now)
        while True:
            for map_id in self._pending:
                m = self._maps.get(map_id)
                if m is not None:
                    self._timeline.schedule(m, now)
            self._pending = set()
            event = self._timeline.pop_due(now)
            if event is None:
                return
            at, map_id = event
            m = self._maps[map_id]
            self._settle(m, self._casc.downstream(m.target_id), until=at)
            self._fire(m, at)

    def _settle(self, *maps: MapRecord | None, until: float | None = None) -> None:
        """Move the grains these mappings have copied into their targets, before their
        bitmaps or chain change."""
        for m in maps:
            self._timeline.settle(m, self._now if until is None else until)

    def _held(self, m: MapRecord) -> int:
        return self._timeline.held_at(m, self._now)

    def _complete(self, m: MapRecord) -> bool:
        return self._held(m) == full_mask(m.nchunks)

    def _fire(self, m: MapRecord, at: float) -> None:
        if m.state == PREPARING and m.start_pending:
            self._start(m, at)
            return
        if m.state == COPYING:
            self._casc.fill(m, m.missing())     # the last grain, whatever float rounding says
            if self._casc.downstream(m.target_id) is not None:
                return                          # 100%, but older targets read through it
            self._casc.remove(m)
        m.state = TRANSITIONS[(m.state, EVENT[m.state])]
        m.until = None
        self._touch(m)
        if m.state == IDLE and m.autodelete:
            self._remove(m)

    # ================================================================ checks
    def _map(self, map_id: int) -> MapRecord:
        m = self._maps.get(map_id)
        if m is None:
            raise ArrayError(rc.INVALID_PARAMETER, f"no FlashCopy mapping {map_id}")
        return m

    def _solo(self, map_id: int) -> MapRecord:
        """A mapping driven on its own: members of a group go through the group."""
        m = self._map(map_id)
        if m.group_id is not None:
            raise ArrayError(rc.IN_USE, f"mapping {map_id} is in consistency group "
                                        f"{m.group_id}: drive the group")
        return m

    def _check_startable(self, m: MapRecord, restore: bool) -> None:
        for vol in (m.source_id, m.target_id):
            row = self._store.volume_row(vol)
            if row is not None and not row[1]:
                raise ArrayError(rc.VOLUME_OFFLINE, f"volume {vol} is offline")
        if not restore and self._is_active_source(m.target_id):
            raise ArrayError(rc.RESTORE_NOT_TRUE,
                             f"target {m.target_id} is the source of an active mapping: "
                             "starting it is a restore")

    def _check_oldest(self, m: MapRecord, how: int | None) -> None:
        if how == FAIL_IF_NOT_OLDEST and m.upstream is not None and self._casc.older(m):
            raise ArrayError(rc.NOT_OLDEST, f"older mappings depend on mapping {m.id}")

    def _check_joinable(self, group_id: int, m: MapRecord) -> None:
        members = self._group_members(group_id)
        if m.group_id is not None:
            raise ArrayError(rc.ALREADY_IN_SET, f"mapping {m.id} is in group {m.group_id}")
        if m.state != IDLE:
            raise ArrayError(rc.INVALID_STATE, f"mapping {m.id} is {m.state}")
        state = group_state(members)
        if state not in (EMPTY, IDLE, STOPPED):
            raise ArrayError(rc.INVALID_STATE, f"group {group_id} is {state}")
        if members and members[0].autodelete != m.autodelete:
            # CopyType 4 and 5 (autodelete) mappings cannot share a set.
            raise ArrayError(rc.INCOMPATIBLE_SET, f"group {group_id} holds mappings of "
                                                  "the other CopyType")

    def _is_active_source(self, vol: int) -> bool:
        return any(m.source_id == vol and m.state in ACTIVE for m in self._of_volume(vol))

    def _io_volume(self, vol_id: int, offset: int, length: int) -> None:
        row = self._store.volume_row(vol_id)
        if row is None:
            raise ArrayError(rc.INVALID_PARAMETER, f"no volume {vol_id}")
        if not row[1]:
            raise ArrayError(rc.VOLUME_OFFLINE, f"volume {vol_id} is offline")
        if offset < 0 or length < 0 or offset + length > row[0]:
            raise ArrayError(rc.INVALID_PARAMETER,
                             f"{length} bytes at {offset} do not fit volume {vol_id} ({row[0]})")

    def _group_members(self, group_id: int) -> list[MapRecord]:
        if group_id not in self._groups:
            raise ArrayError(rc.INVALID_SET, f"no consistency group {group_id}")
        return self._members(group_id)

    def _members(self, group_id: int) -> list[MapRecord]:
        return [m for _, m in sorted(self._maps.items()) if m.group_id == group_id]

    def _of_volume(self, vol_id: int) -> list[MapRecord]:
        # Indexed (rows are inserted and deleted together with the cache entries, and
        # a mapping's ends never change): a volume listing stays linear in volumes.
        return [self._maps[i] for i in self._store.of_volume(vol_id)]

    # ================================================================ views
    def _view(self, m: MapRecord) -> MappingView:
        total = total_grains(m.nchunks, m.cpg)
        bits = self._held(m)               # progress computed, not copied, when read
        held = grain_count(bits, m.cpg, m.nchunks)
        difference = None
        if m.incremental:     # rounded up: 0 only when a restart would copy nothing
            differ = grain_count(full_mask(m.nchunks) & ~bits | m.dirty, m.cpg, m.nchunks)
            difference = -(-differ * 100 // total)
        return MappingView(
            id=m.id, name=m.name, source_id=m.source_id, target_id=m.target_id,
            state=m.state, sync_state=sync_state(m.state, bits == full_mask(m.nchunks)), copy_rate=m.copy_rate,
            clean_rate=m.clean_rate, incremental=m.incremental, grain_size=m.grain_size,
            autodelete=m.autodelete, group_id=m.group_id, progress=held * 100 // total,
            difference=difference,
            dependent_count=len(self._casc.older(m)) if m.upstream is not None else 0,
            start_time=m.start_time, restoring=m.restoring and m.state == COPYING)

    def _group_views(self, group_ids: list[int]) -> list[GroupView]:
        # members of all asked groups in one pass over the mappings, not one pass per group
        members: dict[int, list[MapRecord]] = {g: [] for g in group_ids}
        for _, m in sorted(self._maps.items()):
            if m.group_id in members:
                members[m.group_id].append(m)
        return [self._group_view(g, members[g]) for g in group_ids]

    def _group_view(self, group_id: int, members: list[MapRecord] | None = None) -> GroupView:
        members = self._group_members(group_id) if members is None else members
        name, autodelete = self._groups[group_id]
        state = group_state(members)
        return GroupView(id=group_id, name=name, autodelete=autodelete, state=state,
                         dmtf_status=GROUP_STATUS[state], members=tuple(m.id for m in members))

    # ================================================================ persistence
    def _sync(self) -> None:
        """Use the cache only if it matches the database (a caller's rollback would not)."""
        generation = self._store.generation()
        if self._maps is None or generation != self._generation:
            self._load(generation)
        self._bumped = False

    def _load(self, generation: int) -> None:
        self._maps, self._groups = self._store.load()
        self._casc = Cascade(self._data, self._maps.values(), self._new_hidden, self._touch)
        counts = self._timeline and (self._timeline.settled, self._timeline.scheduled)
        self._timeline = Timeline(self._casc)
        if counts:
            self._timeline.settled, self._timeline.scheduled = counts
        self._pending = set(self._maps)      # scheduled once the clock is read
        self._changed = {}
        self._generation = generation

    def _touch(self, m: MapRecord) -> None:
        if m.id in self._maps:
            self._changed[m.id] = m
            self._pending.add(m.id)

    def _bump(self) -> None:
        """Once per call that changes anything: lets the next call detect a rollback."""
        if not self._bumped:
            self._store.bump()
            self._generation += 1
            self._bumped = True

    def _flush(self) -> None:
        """Write only the mappings changed since the last flush."""
        if not self._changed:
            return
        self._bump()
        for m in self._changed.values():
            self._store.update(m)
        self._changed = {}

    def _new_hidden(self) -> int:
        self._bump()
        return self._store.new_hidden()
