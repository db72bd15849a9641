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

from . import returncodes as rc
from .cascade import grains
from .flashcopy_core import EngineCore, request
from .flashcopy_rules import (  # noqa: F401  (re-exported: the engine's public names)
    GROUP_STATUS, PREPARE_SECONDS, SYNC_STATE, SYNCHRONIZED, GroupView, MappingView, check_grain_size,
    check_rate, check_stop_dependent, copy_speed, expect_group, group_state)
from .flashcopy_states import (  # noqa: F401  (re-exported)
    COPYING, IDLE, PREPARED, PREPARING, STOPPED, STOPPING, TRANSITIONS, expect, move, takes)
from .flashcopy_store import MapRecord, ensure_schema  # noqa: F401
from .returncodes import ArrayError


class FlashCopyEngine(EngineCore):
    # ================================================================ volume data
    @request
    def read(self, vol_id: int, offset: int, length: int) -> bytes:
        self._io_volume(vol_id, offset, length)
        return self._casc.read(vol_id, offset, length)

    @request
    def write(self, vol_id: int, offset: int, data: bytes) -> None:
        self._io_volume(vol_id, offset, len(data))
        self._settle(self._casc.downstream(vol_id), self._casc.link_of(vol_id))
        written = self._casc.write(vol_id, offset, bytes(data))
        if written:
            for m in self._of_volume(vol_id):
                if m.incremental:
                    m.dirty |= grains(written, m.cpg, m.nchunks)
                    self._touch(m)

    @request
    def delete_volume_data(self, vol_id: int) -> None:
        """Forget a deleted volume's content (the server deletes the row)."""
        if self._of_volume(vol_id):
            raise ArrayError(rc.VOLUME_IN_FCMAP, f"volume {vol_id} is in a FlashCopy mapping")
        self._casc.reset(vol_id, 0)

    # ================================================================ mappings
    @request
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
        # indexed: only mappings of these two volumes can conflict
        for m in sorted({*self._of_volume(source_id), *self._of_volume(target_id)}, key=lambda m: m.id):
            if m.target_id == target_id:
                raise ArrayError(rc.FC_TARGET_IS_TARGET,
                                 f"volume {target_id} is already the target of mapping {m.id}")
            if incremental and m.incremental and m.source_id == source_id:
                raise ArrayError(rc.INVALID_SOURCE,
                                 f"volume {source_id} is already in incremental mapping {m.id}")
        map_id = self._store.next_id("fc_maps")
        name = name or f"fcmap{map_id}"
        if self._store.mapping_named(name):
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

    @request
    def prepare_mapping(self, map_id: int, *, restore: bool = False) -> None:
        m = self._solo(map_id)
        expect(m, "prepare")
        self._check_startable(m, restore)
        self._prepare(m, restore, start=False)

    @request
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

    @request
    def unprepare_mapping(self, map_id: int) -> None:
        """Clears a prepared state (and nothing else): the mapping is then stopped."""
        m = self._solo(map_id)
        expect(m, "unprepare")
        self._halt(m, "unprepare")

    @request
    def stop_mapping(self, map_id: int, *, stop_dependent: int | None = None,
                     force: bool = False, split: bool = False) -> None:
        """Stop; force skips the stopping (cleaning) time, split ends a 100% copied
        mapping whose older dependents then read its target instead of cleaning."""
        check_stop_dependent(stop_dependent)
        m = self._solo(map_id)
        request = "split" if split else "force_stop" if force else "stop"
        expect(m, request)
        if split and not self._complete(m):
            raise ArrayError(rc.FC_SPLIT_REFUSED, f"mapping {map_id} is not copied 100%: "
                                                  "only a complete mapping can be split")
        self._check_oldest(m, stop_dependent)
        self._stop_dependents(m, stop_dependent)
        if self._stops_current(m, stop_dependent):
            self._halt(m, request)

    @request
    def delete_mapping(self, map_id: int, *, force: bool = False,
                       stop_dependent: int | None = None, via_group: bool = False) -> None:
        """Delete; force stops a busy mapping first (cleaning at once). A busy member of
        a group is stopped only through its group (via_group)."""
        check_stop_dependent(stop_dependent)
        m = self._map(map_id)
        if not force or (m.state, "delete") in TRANSITIONS:
            move(m, "delete")
        elif m.state == STOPPED:            # a stopped one needs no stop (CMMVC5899E: force)
            move(m, "force_delete")
        else:
            if not via_group:
                self._solo(map_id)
            self._check_oldest(m, stop_dependent)
            self._stop_dependents(m, stop_dependent)
            self._halt(m, "force_delete")
        self._remove(m)

    @request
    def set_copy_rate(self, map_id: int, rate: int) -> None:
        check_rate(rate)
        m = self._map(map_id)
        self._settle(m)             # copied so far at the old rate
        m.copy_rate = rate
        m.copy_time = self._now     # the new rate counts from now
        self._touch(m)

    # ================================================================ groups
    @request
    def create_group(self, name: str | None = None, *, autodelete: bool = False) -> int:
        group_id = self._store.next_id("fc_groups")
        name = name or f"fccstgrp{group_id}"
        if any(n == name for n, _ in self._groups.values()):
            raise ArrayError(rc.OBJECT_EXISTS, f"a consistency group is already named {name!r}")
        self._bump()
        self._store.insert_group(group_id, name, autodelete)
        self._groups[group_id] = (name, autodelete)
        return group_id

    @request
    def add_to_group(self, group_id: int, map_id: int) -> None:
        m = self._map(map_id)
        self._check_joinable(group_id, m)
        m.group_id = group_id
        self._touch(m)

    @request
    def remove_from_group(self, group_id: int, map_id: int) -> None:
        self._group_members(group_id)
        m = self._map(map_id)
        if m.group_id != group_id:
            raise ArrayError(rc.NOT_IN_SET, f"mapping {map_id} is not in group {group_id}")
        expect(m, "leave_group")
        self._leave_group(m)

    @request
    def prepare_group(self, group_id: int, *, restore: bool = False) -> None:
        members = self._group_members(group_id)
        expect_group(group_id, members, "prepare")
        for m in members:
            self._check_startable(m, restore)
        for m in members:
            self._prepare(m, restore, start=False)

    @request
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

    @request
    def unprepare_group(self, group_id: int) -> None:
        members = self._group_members(group_id)
        if not members or not takes(members, "unprepare"):
            raise ArrayError(rc.INVALID_STATE, f"group {group_id} is "
                                               f"{group_state(members)}, not prepared")
        for m in members:
            self._halt(m, "unprepare")

    @request
    def stop_group(self, group_id: int, *, stop_dependent: int | None = None,
                   force: bool = False) -> None:
        check_stop_dependent(stop_dependent)
        members = self._group_members(group_id)
        if not members:
            raise ArrayError(rc.FC_GROUP_EMPTY_STOP, f"group {group_id} has no mappings")
        request = "force_stop" if force else "stop"
        if any(m.state == PREPARING for m in members):
            raise ArrayError(rc.FC_REFUSED[("stop", PREPARING)], f"group {group_id} is preparing")
        busy = [m for m in members if (m.state, request) in TRANSITIONS]
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
                    # one already stopping as another member's dependent ends stopped
                    self._halt(m, "force_stop" if force or m.state == STOPPING else "stop")

    @request
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
    @request
    def advance(self) -> None:
        """Bring every mapping up to the clock's now (the server calls it per request)."""

    @request
    def mapping(self, map_id: int) -> MappingView:
        return self._view(self._map(map_id))

    @request
    def list_mappings(self) -> list[MappingView]:
        return [self._view(m) for _, m in sorted(self._maps.items())]

    @request
    def mappings_of_volume(self, vol_id: int) -> list[MappingView]:
        return [self._view(m) for m in self._of_volume(vol_id)]

    @request
    def mapping_count(self, vol_id: int) -> int:
        return len(self._of_volume(vol_id))

    @request
    def volume_in_mapping(self, vol_id: int) -> bool:
        return bool(self._of_volume(vol_id))

    @request
    def dependent_mappings(self, map_id: int) -> list[int]:
        """GetDependentMappingNames: mappings whose targets read through this target."""
        m = self._map(map_id)
        return [d.id for d in self._casc.older(m)] if m.upstream is not None else []

    @request
    def copies_of(self, vol_id: int) -> list[MappingView]:
        """ListVDiskFlashCopyMapCopies: mappings whose targets hold a valid copy of the
        volume (restore candidates): copying, or copied 100% and not stopped."""
        return [self._view(m) for m in self._of_volume(vol_id)
                if m.source_id == vol_id
                and (m.state == COPYING or (m.state in (IDLE, STOPPING) and self._complete(m)))]

    @request
    def group(self, group_id: int) -> GroupView:
        return self._group_view(group_id)

    @request
    def list_groups(self) -> list[GroupView]:
        return self._group_views(sorted(self._groups))

    @request
    def find_groups(self, names: frozenset[str]) -> list[GroupView]:
        """Groups with one of those names (compared in lower case); only their views
        are built (ExecQuery on a busy array)."""
        return self._group_views([g for g, (name, _) in sorted(self._groups.items())
                                  if name.lower() in names])

    @request
    def find_mappings(self, *, names: frozenset[str] = frozenset(),
                      ids: frozenset[int] = frozenset()) -> list[MappingView]:
        """Mappings with one of those names (compared in lower case) or ids."""
        return [self._view(m) for _, m in sorted(self._maps.items())
                if m.id in ids or (m.name or "").lower() in names]

