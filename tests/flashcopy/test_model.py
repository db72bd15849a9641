"""Random operations against a plain reference model of what every volume must read.

The model knows nothing of cascades or grains: a start copies the source's bytes into
the target at the start instant, a write changes one volume. Its only concession is a
stop: a target that loses an incomplete image must read, grain by grain, either its
old bytes or zeros; once checked, the model adopts what the array returns. Calls the
array must refuse are predicted from the mapping states the array reports, and the
refusal code is checked.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from simulator import returncodes as rc
from simulator.flashcopy import PREPARE_SECONDS
from simulator.returncodes import ArrayError
from simulator.voldata import CHUNK

from tests.support.clock import FakeClock
from tests.support.data import pattern
from tests.support.fcengine import Array, make_db

LONG = os.environ.get("VSSORCH_LONG") == "1"    # pytest --long: bigger volumes, more runs
# five chunks, the last one short (256 KiB grains: 4 + 1); forty in the long run
SIZE = (40 if LONG else 5) * CHUNK - 1024
VOLUMES = 5
BUSIEST = 2                   # most writes and snapshots go to two "production" volumes
BUSY = ("preparing", "prepared", "copying")      # a stop from these loses the image
IDLE = ("idle_or_copied", "stopped")
STOPPABLE = ("prepared", "copying", "stopping")
# a request the mapping's or group's state refuses: the CLI's message for that state
STATE = frozenset(rc.FC_REFUSED.values()) | {rc.INVALID_STATE, rc.FC_SPLIT_REFUSED,
                                              rc.FC_GROUP_EMPTY_START, rc.FC_GROUP_EMPTY_STOP}
ACTIVE = ("copying", "stopping")
pick = st.integers(0, 63)
legal = st.sampled_from([True] * 4 + [False])   # mostly pick a mapping the call suits
stop_dependent = st.sampled_from([None] * 5 + [1, 2, 4, 5, 7])
offsets = dict(offset=st.integers(0, SIZE - 1), length=st.integers(1, 3 * CHUNK),
               tag=st.integers(0, 255))


@dataclass
class Known:
    source: int
    target: int
    incremental: bool
    autodelete: bool
    restore: bool = False     # flag of the last prepare/start


class FlashCopyModel(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.array = Array(make_db(), FakeClock())
        self.vols = [self.array.volume(SIZE) for _ in range(VOLUMES)]
        self.odd = self.array.volume(SIZE - 512)
        self.expected = {}
        for i, v in enumerate(self.vols):
            self.expected[v] = bytearray(pattern(37 * i, SIZE))
            self.fc.write(v, 0, self.expected[v])
        self.maps: dict[int, Known] = {}
        self.pending: dict[int, float] = {}      # mapping -> instant it will start
        self.groups: list[int] = []

    @property
    def fc(self):
        return self.array.fc

    # ------------------------------------------------------------ helpers
    def views(self):
        return {v.id: v for v in self.fc.list_mappings()}

    def volume(self, i: int) -> int:
        return self.vols[i % BUSIEST if i % 4 else i % VOLUMES]

    def chosen(self, i, legal=False, suits=lambda v: True):
        """The i-th known mapping; if `legal`, among those the call suits."""
        views = self.views()
        ids = sorted(m for m in self.maps if not legal or suits(views[m]))
        return ids[i % len(ids)] if ids else None

    def refuses(self, codes, call, *args, **kwargs) -> bool:
        """Call; if codes is non-empty the call must be refused with one of them."""
        try:
            call(*args, **kwargs)
        except ArrayError as e:
            assert codes, f"unexpected refusal rc={e.rc}: {e.message}"
            assert e.rc in codes, f"rc={e.rc} ({e.message}), expected one of {codes}"
            return True
        assert not codes, f"not refused, expected one of {codes}"
        return False

    def start_now(self, m: int) -> None:
        k = self.maps[m]
        self.expected[k.target] = bytearray(self.expected[k.source])

    def needs_restore(self, m: int, views) -> bool:
        target = self.maps[m].target
        return any(v.source_id == target and v.state in ACTIVE for v in views.values())

    def stopping(self, call, *args, deleted: int | None = None, **kwargs) -> bool:
        """Run a call that may stop mappings; check and adopt the targets it broke."""
        before = self.views()
        refused = call(*args, **kwargs)
        if refused:
            return True
        after = self.views()
        for m, v in before.items():
            now = after.get(m)
            broke = (now is not None and now.state in ("stopping", "stopped")) or m == deleted
            if v.state in BUSY and broke:
                self.check_grains_or_zeros(v.target_id, v.grain_size * 1024)
                self.pending.pop(m, None)
        return False

    def check_grains_or_zeros(self, vol: int, grain: int) -> None:
        got = self.fc.read(vol, 0, SIZE)
        old = self.expected[vol]
        for lo in range(0, SIZE, grain):
            part = got[lo:lo + grain]
            assert part == old[lo:lo + grain] or part == bytes(len(part)), \
                f"volume {vol} grain at {lo}: neither its image nor zeros"
        self.expected[vol] = bytearray(got)

    @invariant()
    def only_autodelete_mappings_vanish(self):
        present = self.views()
        for m in [m for m in self.maps if m not in present]:
            assert self.maps[m].autodelete, f"mapping {m} vanished"
            del self.maps[m]
        alive = {g.id for g in self.fc.list_groups()}
        self.groups = [g for g in self.groups if g in alive]

    # ------------------------------------------------------------ host I/O and time
    @rule(v=pick, **offsets)
    def write(self, v, offset, length, tag):
        self.write_at(self.volume(v), offset, length, tag)

    @rule(i=pick, to_target=st.booleans(), **offsets)
    def write_copying(self, i, to_target, offset, length, tag):
        """Write to the source (copy-on-write) or target of a copying mapping."""
        m = self.chosen(i, True, lambda v: v.state == "copying")
        if m is not None:
            k = self.maps[m]
            self.write_at(k.target if to_target else k.source, offset, length, tag)

    def write_at(self, vol, offset, length, tag):
        data = pattern(tag, min(length, SIZE - offset))
        self.fc.write(vol, offset, data)
        self.expected[vol][offset:offset + len(data)] = data

    @rule(seconds=st.sampled_from([0.25, 1, PREPARE_SECONDS, 3, 10, 60]))
    def tick(self, seconds):
        self.pass_time(seconds)

    def pass_time(self, seconds):
        self.array.clock.tick(seconds)
        for m, at in sorted(self.pending.items(), key=lambda item: (item[1], item[0])):
            if at <= self.array.clock.now:
                self.start_now(m)
                del self.pending[m]

    @rule()
    def restart(self):
        self.array.restart()

    @rule(v=pick, tag=st.integers(0, 255))
    def rolled_back_write(self, v, tag):
        conn = self.array.conn
        conn.execute("BEGIN IMMEDIATE")
        self.fc.write(self.vols[v % VOLUMES], 0, pattern(tag, SIZE))
        conn.execute("ROLLBACK")

    # ------------------------------------------------------------ mappings
    @rule(s=pick, t=pick, odd=st.booleans(), rate=st.sampled_from([0, 0, 1, 11, 50, 100]),
          incremental=st.booleans(), grain=st.sampled_from([64, 256]),
          autodelete=st.booleans(), clean=st.sampled_from([0, 1, 50]))
    def create(self, s, t, odd, rate, incremental, grain, autodelete, clean):
        target = self.odd if odd and t % 4 == 0 else self.vols[t % VOLUMES]
        self.new_mapping(self.vols[s % VOLUMES], target, rate, incremental, grain,
                         autodelete, clean)

    def new_mapping(self, source, target, rate, incremental, grain, autodelete, clean):
        codes = set()
        if source == target:
            codes = {rc.INVALID_TARGET}
        elif target == self.odd:
            codes = {rc.FC_SIZE_MISMATCH}
        else:
            if any(k.target == target for k in self.maps.values()):
                codes.add(rc.FC_TARGET_IS_TARGET)
            if incremental and any(k.incremental and k.source == source
                                   for k in self.maps.values()):
                codes.add(rc.INVALID_SOURCE)
        try:
            m = self.fc.create_mapping(source, target, copy_rate=rate, clean_rate=clean,
                                       incremental=incremental, grain_size=grain,
                                       autodelete=autodelete)
        except ArrayError as e:
            assert e.rc in codes, (e.rc, e.message, codes)
            return None
        assert not codes, codes
        self.maps[m] = Known(source, target, incremental, autodelete)
        return m

    @rule(s=pick, t=pick, rate=st.sampled_from([0, 0, 0, 1, 11, 100]),
          incremental=st.booleans(), grain=st.sampled_from([64, 256]),
          autodelete=st.booleans(), clean=st.sampled_from([0, 1, 50]),
          prepared=st.booleans(), then=st.none() | st.tuples(*offsets.values()))
    def snapshot(self, s, t, rate, incremental, grain, autodelete, clean, prepared, then):
        """Create and start (or restore) in one go, so that cascades grow quickly; then
        maybe write to the source, as hosts do."""
        source, target = self.volume(s), self.vols[t % VOLUMES]
        if source == target or any(k.target == target for k in self.maps.values()):
            return
        m = self.new_mapping(source, target, rate, incremental, grain, autodelete, clean)
        if m is None:
            return
        restore = self.needs_restore(m, self.views())
        if prepared:
            self.fc.prepare_mapping(m, restore=restore)
            self.pass_time(PREPARE_SECONDS)
            if self.views()[m].state == "prepared":   # not overtaken by another call
                restore = restore or self.needs_restore(m, self.views())   # by a start
                self.fc.start_mapping(m, restore=restore, prepare=True)
                self.start_now(m)
                if then is not None:
                    self.write_at(source, *then)
        else:
            self.fc.start_mapping(m, restore=restore, prepare=True)
            self.pending[m] = self.array.clock.now + PREPARE_SECONDS
        self.maps[m].restore = restore

    @rule(i=pick, legal=legal, restore=st.booleans())
    def prepare(self, i, legal, restore):
        m = self.chosen(i, legal, lambda v: v.group_id is None and v.state in IDLE)
        if m is None:
            return
        views = self.views()
        v = views[m]
        codes = set()
        if v.group_id is not None:
            codes = {rc.IN_USE}
        elif v.state not in IDLE:
            codes = STATE
        elif not restore and self.needs_restore(m, views):
            codes = {rc.RESTORE_NOT_TRUE}
        if not self.refuses(codes, self.fc.prepare_mapping, m, restore=restore):
            self.maps[m].restore = restore

    @rule(i=pick, legal=legal, restore=st.booleans(), prepare=st.booleans())
    def start(self, i, legal, restore, prepare):
        m = self.chosen(i, legal, lambda v: v.group_id is None
                        and v.state in IDLE + ("prepared",))
        if m is None:
            return
        views = self.views()
        v = views[m]
        flag = restore or (v.state == "prepared" and self.maps[m].restore)
        codes = set()
        if v.group_id is not None:
            codes = {rc.IN_USE}
        elif v.state not in IDLE + ("prepared",) or (v.state in IDLE and not prepare):
            codes = STATE
        elif not flag and self.needs_restore(m, views):
            codes = {rc.RESTORE_NOT_TRUE}
        if self.refuses(codes, self.fc.start_mapping, m, restore=restore, prepare=prepare):
            return
        self.maps[m].restore = flag
        if v.state == "prepared":
            self.start_now(m)
        else:
            self.pending[m] = self.array.clock.now + PREPARE_SECONDS

    @rule(i=pick, legal=legal, cleans=st.booleans(), how=stop_dependent,
          force=st.booleans(), split=st.sampled_from([False] * 3 + [True]))
    def stop(self, i, legal, cleans, how, force, split):
        """Often one with older mappings below it, so that it has to clean."""
        m = self.chosen(i, legal, lambda v: v.group_id is None and v.state in STOPPABLE
                        and (v.dependent_count > 0 or not cleans)
                        and (v.progress == 100 or not split))
        if m is None:
            return
        v = self.views()[m]
        codes = set()
        if how == 7:
            codes = {rc.INVALID_PARAMETER}
        elif v.group_id is not None:
            codes = {rc.IN_USE}
        elif v.state not in STOPPABLE or split and (v.state, v.progress) != ("copying", 100) \
                or (v.state == "stopping" and not force):
            codes = STATE
        elif how == 5 and self.fc.dependent_mappings(m):
            codes = {rc.NOT_OLDEST}
        self.stopping(lambda: self.refuses(codes, self.fc.stop_mapping, m, stop_dependent=how,
                                           force=force, split=split))
        if not codes and split and how != 1:
            assert self.views()[m].state == "idle_or_copied"

    @rule(i=pick, legal=legal, cleans=st.booleans(), force=st.booleans(), how=stop_dependent,
          via_group=st.booleans())
    def delete(self, i, legal, cleans, force, how, via_group):
        m = self.chosen(i, legal, lambda v: (force or v.state in IDLE)
                        and (v.dependent_count > 0 or not cleans))
        if m is None:
            return
        v = self.views()[m]
        codes = set()
        if how == 7:
            codes = {rc.INVALID_PARAMETER}
        elif v.state == "stopped" and not force:
            codes = STATE
        elif v.state not in IDLE:
            if not force:
                codes = STATE
            elif v.group_id is not None and not via_group:
                codes = {rc.IN_USE}
            elif how == 5 and self.fc.dependent_mappings(m):
                codes = {rc.NOT_OLDEST}
        refused = self.stopping(
            lambda: self.refuses(codes, self.fc.delete_mapping, m, force=force,
                                 stop_dependent=how, via_group=via_group), deleted=m)
        if not refused:
            del self.maps[m]

    @rule(i=pick, rate=st.sampled_from([0, 1, 50, 100]))
    def set_rate(self, i, rate):
        m = self.chosen(i)
        if m is not None:
            self.fc.set_copy_rate(m, rate)
    
    # ------------------------------------------------------------ groups
    @rule(i=pick, j=pick, legal=legal, autodelete=st.booleans())
    def make_group(self, i, j, legal, autodelete):
        def suits(v):
            return v.group_id is None and v.state == "idle_or_copied"
        members = {self.chosen(i, legal, suits), self.chosen(j, legal, suits)} - {None}
        g = self.fc.create_group(autodelete=autodelete)
        self.groups.append(g)
        first = None
        for m in sorted(members):
            v = self.views()[m]
            codes = set()
            if v.group_id is not None:
                codes = {rc.ALREADY_IN_SET}
            elif v.state not in IDLE:         # joins only standing still (docs/SIMULATOR.md)
                codes = STATE
            elif first is not None and first != v.autodelete:
                codes = {rc.INCOMPATIBLE_SET}
            if not self.refuses(codes, self.fc.add_to_group, g, m) and first is None:
                first = v.autodelete

    def members(self, g):
        return [v for v in self.views().values() if v.group_id == g]

    @rule(k=pick, call=st.sampled_from(["prepare", "start", "stop", "delete"]),
          restore=st.booleans(), how=stop_dependent, force=st.booleans())
    def group_call(self, k, call, restore, how, force):
        if not self.groups:
            return
        g = self.groups[k % len(self.groups)]
        members, views = self.members(g), self.views()
        states = {v.state for v in members}
        prepared = states == {"prepared"}
        startable = bool(states) and states <= set(IDLE)
        codes = set()
        if call == "prepare":
            if not startable:
                codes = STATE
            elif not restore and any(self.needs_restore(v.id, views) for v in members):
                codes = {rc.RESTORE_NOT_TRUE}
            if not self.refuses(codes, self.fc.prepare_group, g, restore=restore):
                for v in members:
                    self.maps[v.id].restore = restore
        elif call == "start":
            if not prepared and not (startable and force):
                codes = STATE
            elif any(not (restore or (prepared and self.maps[v.id].restore))
                     and self.needs_restore(v.id, views) for v in members):
                codes = {rc.RESTORE_NOT_TRUE}
            if self.refuses(codes, self.fc.start_group, g, restore=restore, prepare=force):
                return
            for v in members:      # the array starts them in id order too
                self.maps[v.id].restore = restore or (prepared and self.maps[v.id].restore)
                if prepared:
                    self.start_now(v.id)
                else:
                    self.pending[v.id] = self.array.clock.now + PREPARE_SECONDS
        elif call == "stop":
            busy = [v for v in members if v.state in STOPPABLE and (force or v.state != "stopping")]
            if how == 7:
                codes = {rc.INVALID_PARAMETER}
            elif "preparing" in states or not busy:
                codes = STATE
            elif how == 5 and any(self.fc.dependent_mappings(v.id) for v in busy):
                codes = {rc.NOT_OLDEST}
            self.stopping(lambda: self.refuses(codes, self.fc.stop_group, g,
                                               stop_dependent=how, force=force))
        else:
            codes = {rc.IN_USE} if members and not force else set()
            if not self.refuses(codes, self.fc.delete_group, g, force=force):
                self.groups.remove(g)

    # ------------------------------------------------------------ checks
    @invariant()
    def every_volume_reads_as_the_model_says(self):
        for vol in self.vols:
            assert self.fc.read(vol, 0, SIZE) == self.expected[vol], f"volume {vol}"

    @invariant()
    def views_are_sane(self):
        for v in self.views().values():
            assert 0 <= v.progress <= 100
            assert v.difference is None or 0 <= v.difference <= 100
            assert (v.state == "copying") or v.dependent_count == 0


FlashCopyModel.TestCase.settings = settings(
    max_examples=500 if LONG else 200, stateful_step_count=80 if LONG else 40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestFlashCopyModel = FlashCopyModel.TestCase
