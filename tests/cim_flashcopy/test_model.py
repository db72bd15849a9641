"""Random FlashCopy sequences over CIM against a plain model of what every volume
must read.

Each sequence gets four fresh volumes on one long-running simulator process and
drives them only through CIM (AttachReplica(s), ModifySynchronization,
CreateSynchronizedSet/ModifySynchronizedSet, Detach) and the data endpoint. The
model knows nothing of cascades or grains: a start copies the source's bytes into
the target at the start instant, a write changes one volume, a restore makes the
source equal to the target. A stop or forced delete of a copying mapping may leave
its target with, grain by grain, its old bytes or zeros; once checked, the model
adopts what the array returns. Refusals the array must make are predicted and their
return codes checked.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from pywbem import Uint16

from tests.support.data import pattern
from tests.support.fccim import CHUNK, OP_DETACH, OP_PREPARE, OP_QUIESCE, OP_RESYNC, FcCim
from tests.support.view import STATE_OF

SIZE = 4 * CHUNK                  # one 256 KiB grain, or four of 64 KiB
VOLUMES = 4
IN_USE, RESTORE_NOT_TRUE = 6, 0x8102
TARGET_IS_TARGET, NOT_STARTED_IDLE = 38869, 38825                  # CMMVC6247E, CMMVC5905E
NOT_DELETED_COPYING, NOT_DELETED_STOPPED = 38818, 38819            # CMMVC5898E, CMMVC5899E
ACTIVE = ("copying", "stopping")
pick = st.integers(0, 63)
offsets = dict(offset=st.integers(0, SIZE - 1), length=st.integers(1, 2 * CHUNK), tag=st.integers(0, 255))


@dataclass
class Known:
    sync: object
    source: int                    # volume index
    target: int
    grain: int
    group: object | None = None


class CimFlashCopyModel(RuleBasedStateMachine):
    fc: FcCim                      # set by the test below: one array for all sequences
    vols: list = []                # (path, uid) of the four volumes all sequences share

    def __init__(self):
        super().__init__()
        if not self.vols:
            CimFlashCopyModel.vols = [self.fc.volume(SIZE, tag=31 * i + 7) for i in range(VOLUMES)]
        # Whatever the last sequence left is this one's starting image.
        self.expected = [bytearray(self.fc.read(uid)) for _, uid in self.vols]
        self.maps: list[Known] = []
        self.pending: list[tuple[float, int]] = []    # (start instant, mapping index) of implicit prepares
        self.now = 0.0

    def teardown(self):
        for group in {str(k.group): k.group for k in self.maps if k.group is not None}.values():
            assert self.fc.call("DeleteSynchronizedSet", Set=group, Force=True)[0] == 0
        # Newest first, forced: no mapping is left for the next sequence.
        for k in reversed(self.maps):
            assert self.fc.modify(k.sync, OP_DETACH, Force=True)[0] == 0
        assert self.fc.mappings() == {}

    # ------------------------------------------------------------ helpers
    def states(self) -> dict[int, str]:
        """Mapping index -> state, one EnumerateInstances."""
        by_ends = {k: STATE_OF[int(m["SyncState"])] for k, m in self.fc.mappings("SyncState").items()}
        ids = [p.keybindings["DeviceID"] for p, _ in self.vols]
        return {i: by_ends[(ids[k.source], ids[k.target])] for i, k in enumerate(self.maps)}

    def targeted(self, t: int) -> bool:
        return any(k.target == t for k in self.maps)

    def needs_restore(self, t: int, states) -> bool:
        """Starting a mapping onto t needs Restore while t is the source of an active one."""
        return any(k.source == t and states[i] in ACTIVE for i, k in enumerate(self.maps))

    def may_need_restore(self, t: int, states) -> bool:
        """...or will once a preparing mapping from t starts (the model skips those)."""
        return any(k.source == t and states[i] in ("preparing", "prepared") for i, k in enumerate(self.maps))

    def start_now(self, i: int) -> None:
        k = self.maps[i]
        self.expected[k.target] = bytearray(self.expected[k.source])

    def adopt_broken(self, i: int) -> None:
        """Target of a stopped/deleted copying mapping: each grain its old bytes or zeros."""
        k = self.maps[i]
        got = self.fc.read(self.vols[k.target][1])
        old, grain = self.expected[k.target], k.grain * 1024
        for lo in range(0, SIZE, grain):
            part = got[lo:lo + grain]
            assert part in (bytes(old[lo:lo + grain]), bytes(len(part))), \
                f"target {k.target} grain at {lo}: neither its image nor zeros"
        self.expected[k.target] = bytearray(got)

    def pick_map(self, i: int, suits) -> int | None:
        states = self.states()
        fitting = [j for j in range(len(self.maps)) if suits(self.maps[j], states[j])]
        return fitting[i % len(fitting)] if fitting else None

    # ------------------------------------------------------------ rules
    @rule(v=st.integers(0, VOLUMES - 1), **offsets)
    def write(self, v, offset, length, tag):
        data = pattern(tag, min(length, SIZE - offset))
        self.fc.write(self.vols[v][1], offset, data)
        self.expected[v][offset:offset + len(data)] = data

    @rule(seconds=st.sampled_from([1, 2, 30, 3600]))
    def tick(self, seconds):
        self.fc.advance(seconds)
        self.now += seconds
        for at, i in sorted(self.pending):
            if at <= self.now:
                self.start_now(i)
        self.pending = [(at, i) for at, i in self.pending if at > self.now]

    @rule(s=st.integers(0, VOLUMES - 1), t=st.integers(0, VOLUMES - 1), rate=st.sampled_from([0, 0, 100]),
          grain=st.sampled_from([64, 256]), prepared=st.booleans())
    def snapshot(self, s, t, rate, grain, prepared):
        if s == t:
            return
        states = self.states()
        if self.may_need_restore(t, states):
            return
        (src, _), (tgt, _) = self.vols[s], self.vols[t]
        rc, sync = self.fc.attach(src, tgt, rate=rate, grain=grain)
        if self.targeted(t):
            assert rc == TARGET_IS_TARGET
            return
        assert rc == 0
        if self.needs_restore(t, states):
            assert self.fc.modify(sync, OP_RESYNC, Force=True)[0] == RESTORE_NOT_TRUE
            assert self.fc.modify(sync, OP_DETACH)[0] == 0
            return
        self.maps.append(Known(sync, s, t, grain))
        i = len(self.maps) - 1
        if prepared:
            rc, out = self.fc.modify(sync, OP_PREPARE)
            assert rc == 4096
            assert self.fc.conn.GetInstance(out["Job"])["JobState"] == 4     # running while flushing
            self.tick(2)
            assert self.fc.conn.GetInstance(out["Job"])["JobState"] == 7
            assert self.fc.modify(sync, OP_RESYNC)[0] == 0
            self.start_now(i)
        else:   # Force: the agent prepares first, the start happens when the flush ends
            assert self.fc.modify(sync, OP_RESYNC)[0] == NOT_STARTED_IDLE
            assert self.fc.modify(sync, OP_RESYNC, Force=True)[0] == 0
            self.pending.append((self.now + 2, i))

    @rule(s1=st.integers(0, VOLUMES - 1), t1=st.integers(0, VOLUMES - 1),
          s2=st.integers(0, VOLUMES - 1), t2=st.integers(0, VOLUMES - 1), rate=st.sampled_from([0, 100]))
    def group_snapshot(self, s1, t1, s2, t2, rate):
        """Two mappings in one consistency group, started at one instant."""
        pairs = [(s1, t1), (s2, t2)]
        if s1 == t1 or s2 == t2 or t1 == t2:
            return
        states = self.states()
        if any(self.needs_restore(t, states) or self.may_need_restore(t, states) for _, t in pairs) \
                or {t1, t2} & {s1, s2}:
            return
        rc, out = self.fc.call("CreateSynchronizedSet", ElementName=f"grp{next(FcCim._names)}", CopyType=Uint16(4))
        assert rc == 0
        group = out["Set"]
        rc, out = self.fc.call("AttachReplicas", SourceElements=[self.vols[s][0] for s, _ in pairs],
                               TargetElements=[self.vols[t][0] for _, t in pairs], CopyType=Uint16(4),
                               BackgroundCopyRate=Uint16(rate), GrainSize=Uint16(64), Set=group)
        expected = [TARGET_IS_TARGET if self.targeted(t) else 0 for _, t in pairs]
        assert list(out["ReturnValues"]) == expected
        if any(expected):   # per pair: the ones taken were made, and are removed again
            assert rc == next(r for r in expected if r)
            assert self.fc.call("DeleteSynchronizedSet", Set=group, Force=True)[0] == 0
            for (s, t), code in zip(pairs, expected):
                if not code:
                    made = self.fc.sync_of(self.vols[s][0], self.vols[t][0])
                    assert self.fc.modify(made, OP_DETACH)[0] == 0
            return
        assert rc == 0
        for s, t in pairs:
            self.maps.append(Known(self.fc.sync_of(self.vols[s][0], self.vols[t][0]), s, t, 64, group))
        assert self.fc.modify(self.maps[-1].sync, OP_RESYNC)[0] == IN_USE      # only through the group
        rc, out = self.fc.modify_set(group, OP_PREPARE)
        assert rc == 4096 and len(out["Job"]) == 2                          # a job per mapping
        self.tick(2)
        assert [self.fc.conn.GetInstance(j)["JobState"] for j in out["Job"]] == [7, 7]
        assert self.fc.modify_set(group, OP_RESYNC)[0] == 0
        self.start_now(len(self.maps) - 2)
        self.start_now(len(self.maps) - 1)

    @rule(i=pick)
    def stop(self, i):
        j = self.pick_map(i, lambda k, state: state == "copying")
        if j is None:
            return
        k = self.maps[j]
        if k.group is not None:
            assert self.fc.modify(k.sync, OP_QUIESCE)[0] == IN_USE
            assert self.fc.modify_set(k.group, OP_QUIESCE)[0] == 0
            for m in [m for m, other in enumerate(self.maps) if other.group is k.group]:
                self.adopt_broken(m)
            return
        assert self.fc.modify(k.sync, OP_QUIESCE)[0] == 0
        self.adopt_broken(j)

    @rule(i=pick, force=st.booleans())
    def delete(self, i, force):
        j = self.pick_map(i, lambda k, state: k.group is None and state in ("copying", "idle_or_copied", "stopped"))
        if j is None:
            return
        state = self.states()[j]
        rc, _ = self.fc.modify(self.maps[j].sync, OP_DETACH, Force=force)
        if state in ("copying", "stopped") and not force:
            assert rc == (NOT_DELETED_COPYING if state == "copying" else NOT_DELETED_STOPPED)
            return
        assert rc == 0
        if state == "copying":
            self.adopt_broken(j)
        self.drop(j)

    def drop(self, j: int) -> None:
        del self.maps[j]
        self.pending = [(at, i - (i > j)) for at, i in self.pending if i != j]

    @rule(i=pick)
    def restore(self, i):
        """Copy a target back onto its source (reverse mapping with Restore)."""
        states = self.states()
        j = self.pick_map(i, lambda k, state: k.group is None and state in ("copying", "idle_or_copied")
                          and not self.targeted(k.source) and all(p[1] != self.maps.index(k) for p in self.pending))
        if j is None:
            return
        k = self.maps[j]
        rc, back = self.fc.attach(self.vols[k.target][0], self.vols[k.source][0], rate=100, grain=k.grain)
        assert rc == 0
        if states[j] == "copying":
            assert self.fc.modify(back, OP_PREPARE)[0] == RESTORE_NOT_TRUE
        rc, out = self.fc.modify(back, OP_PREPARE, Restore=True)
        assert rc == 4096
        self.maps.append(Known(back, k.target, k.source, k.grain))
        self.tick(2)
        assert self.fc.modify(back, OP_RESYNC, Restore=True)[0] == 0
        self.start_now(len(self.maps) - 1)

    # ------------------------------------------------------------ check
    @invariant()
    def every_volume_reads_as_the_model_says(self):
        for v, (_, uid) in enumerate(self.vols):
            assert self.fc.read(uid) == self.expected[v], f"volume {v}"


@pytest.fixture(scope="module")
def machine(fc):
    CimFlashCopyModel.fc = fc
    return CimFlashCopyModel


def test_random_sequences_match_the_model(machine):
    settings_ = settings(max_examples=int(os.environ.get("CIM_FC_EXAMPLES", "200")), stateful_step_count=6, deadline=None, derandomize=False,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    case = machine.TestCase
    case.settings = settings_
    case().runTest()
