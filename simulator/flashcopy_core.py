"""The FlashCopy engine's model: the cache of mapping records and its checks against
the database, the transitions the requests and the array's events make, the checks
and the views (the requests are flashcopy.py; time is flashcopy_timeline.py)."""
from __future__ import annotations

import functools
import sqlite3
from collections import Counter
from collections.abc import Callable

from . import returncodes as rc
from .cascade import Cascade, full_mask, grain_count, total_grains
from .flashcopy_rules import (
    ACTIVE, DO_NOT_STOP_CURRENT, DO_NOT_STOP_ONLY, FAIL_IF_NOT_OLDEST, GROUP_STATUS,
    PREPARE_SECONDS, STOP_NEWER, STOP_NEWER_AND_CURRENT, STOP_OLDER, GroupView, MappingView,
    copy_speed, group_state, sync_state)
from .flashcopy_states import COPYING, EVENT, IDLE, PREPARED, PREPARING, STOPPING, expect, move, takes
from .flashcopy_store import MapRecord, MapStore, ensure_schema
from .flashcopy_timeline import Timeline
from .returncodes import ArrayError
from .voldata import CHUNK, VolumeData


def request(method):
    """Every public call: load/check the cache, apply the events due, do the work,
    apply those it made due, write changes through."""

    @functools.wraps(method)
    def call(self: EngineCore, *args, **kwargs):
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


class EngineCore:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], float]):
        self._conn = conn
        self._clock = clock
        self._work: Counter = Counter()
        self._store = MapStore(conn, self._work)
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
        return {k: self._work[k] for k in ("settled", "scheduled", "written")}

    # ================================================================ transitions
    def _prepare(self, m: MapRecord, restore: bool, start: bool) -> None:
        move(m, "prepare_start" if start else "prepare")
        m.until = self._now + PREPARE_SECONDS
        m.restore = restore
        m.start_pending = start
        self._touch(m)

    def _start(self, m: MapRecord, at: float, trigger: str = "start") -> None:
        """The point in time: the target shows the source's content as of `at` (a start,
        or the flush of a prepare a start waited for: flushed_start)."""
        m.restoring = self._is_active_source(m.target_id)
        m.held = m.held & ~m.dirty if m.incremental else 0
        m.dirty = 0
        self._casc.insert(m, m.source_id)
        self._content_replaced(m.target_id, m)
        move(m, trigger)
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
                self._halt(d, "stop")
        elif how in (STOP_NEWER, STOP_NEWER_AND_CURRENT, DO_NOT_STOP_CURRENT, DO_NOT_STOP_ONLY):
            for n in self._casc.newer(m):
                self._halt(n, "stop")

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

    def _halt(self, m: MapRecord, request: str) -> None:
        """The array stops one mapping (asked for, or as a dependent): `request` is a
        stop, force_stop, split, unprepare or force_delete row of the state table."""
        self._settle(m, self._casc.downstream(m.target_id))
        if request == "split":
            self._casc.split(m)
        elif m.state == COPYING:
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
        move(m, request)
        if m.state != STOPPING:
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
            self._start(m, at, "flushed_start")
            return
        if m.state == COPYING:
            self._casc.fill(m, m.missing())     # the last grain, whatever float rounding says
            if self._casc.downstream(m.target_id) is not None:
                return                          # 100%, but older targets read through it
            self._casc.remove(m)
        move(m, EVENT[m.state])
        m.until = None
        self._touch(m)
        if m.state == IDLE and m.autodelete:
            move(m, "autodeleted")
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
        # chfcmap's refusals (CMMVC5913E..CMMVC5916E, CMMVC6240E) name every state but
        # idle_or_copied and stopped: a mapping changes group only while it stands still
        expect(m, "join_group")
        if not takes(members, "join_group"):      # the members stand still too
            raise ArrayError(rc.INVALID_STATE, f"group {group_id} is {group_state(members)}")
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
        self._timeline = Timeline(self._casc, self._work)
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
