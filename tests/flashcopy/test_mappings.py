"""Single mappings: creation rules, the state table, point-in-time reads, background
copy, stop/clean, delete, incremental, restore, queries and persistence."""
import pytest

from simulator import returncodes as rc
from simulator.flashcopy import (
    GROUP_STATUS, PREPARE_SECONDS, SYNC_STATE, TRANSITIONS, copy_speed)
from simulator.voldata import CHUNK

from tests.support.data import pattern
from tests.support.fcengine import N, refused

KIB = 1024


@pytest.fixture
def sv(array):
    """A source with recognisable content and three spare targets."""
    s = array.volume()
    array.fc.write(s, 0, pattern(1, N))
    return s, array.volume(), array.volume(), array.volume()


# ------------------------------------------------------------------ tables
def test_state_numbers_and_copy_speeds():
    assert SYNC_STATE == {"idle_or_copied": 2, "preparing": 3, "prepared": 4, "copying": 5,
                          "stopping": 8, "stopped": 13}
    assert GROUP_STATUS["empty"] == 0x1000 and GROUP_STATUS["stopped"] == 0x8001
    assert copy_speed(0) == 0
    assert copy_speed(1) == copy_speed(10) == 128 * KIB
    assert copy_speed(11) == 256 * KIB
    assert copy_speed(50) == 2 * 1024 * KIB
    assert copy_speed(91) == copy_speed(100) == 64 * 1024 * KIB
    # every request is refused unless listed
    assert ("copying", "prepare") not in TRANSITIONS and ("preparing", "start") not in TRANSITIONS


# ------------------------------------------------------------------ creation
def test_create_refusals(array, sv):
    s, t1, t2, t3 = sv
    fc = array.fc
    odd = array.volume(N + 512)
    refused(rc.INVALID_SOURCE, fc.create_mapping, 999, t1)
    refused(rc.INVALID_TARGET, fc.create_mapping, s, 999)
    refused(rc.INVALID_TARGET, fc.create_mapping, s, s)
    refused(rc.FC_SIZE_MISMATCH, fc.create_mapping, s, odd)
    refused(rc.INVALID_PARAMETER, fc.create_mapping, s, t1, copy_rate=101)
    refused(rc.INVALID_PARAMETER, fc.create_mapping, s, t1, clean_rate=-1)
    refused(rc.INVALID_PARAMETER, fc.create_mapping, s, t1, grain_size=128)
    refused(rc.INVALID_SET, fc.create_mapping, s, t1, group_id=42)
    m = fc.create_mapping(s, t1, incremental=True, name="lcmapi1")
    refused(rc.FC_TARGET_IS_TARGET, fc.create_mapping, t3, t1)
    refused(rc.INVALID_SOURCE, fc.create_mapping, s, t2, incremental=True)
    refused(rc.OBJECT_EXISTS, fc.create_mapping, s, t2, name="lcmapi1")
    m2 = fc.create_mapping(s, t2)                 # a non-incremental one is fine
    assert fc.mapping(m2).name == f"fcmap{m2}"
    assert [v.id for v in fc.list_mappings()] == [m, m2]
    refused(rc.INVALID_PARAMETER, fc.mapping, 999)


def test_a_new_mapping(array, sv):
    s, t1, t2, _ = sv
    v = array.fc.mapping(array.fc.create_mapping(s, t1, incremental=True, grain_size=64,
                                                 copy_rate=30, clean_rate=7))
    assert (v.state, v.sync_state, v.progress, v.difference) == ("idle_or_copied", 2, 0, 100)
    assert (v.copy_rate, v.clean_rate, v.grain_size, v.incremental) == (30, 7, 64, True)
    assert v.start_time is None and v.group_id is None and v.dependent_count == 0
    assert array.fc.mapping(array.fc.create_mapping(s, t2)).difference is None


# ------------------------------------------------------------------ prepare / start
def test_prepare_then_start(array, sv):
    s, t1, _, _ = sv
    fc, clock = array.fc, array.clock
    m = fc.create_mapping(s, t1, copy_rate=0)
    fc.prepare_mapping(m)
    assert fc.mapping(m).sync_state == 3
    refused(38821, fc.prepare_mapping, m)                   # CMMVC5901E already preparing
    refused(38826, fc.start_mapping, m)                     # CMMVC5906E still flushing
    refused(38831, fc.stop_mapping, m)                      # CMMVC5911E
    clock.tick(PREPARE_SECONDS - 0.01)
    assert fc.mapping(m).state == "preparing"
    clock.tick(0.01)
    assert (fc.mapping(m).state, fc.mapping(m).sync_state) == ("prepared", 4)
    fc.write(s, 0, b"before")                        # prepared is not yet the instant
    clock.tick(5)
    fc.start_mapping(m)
    v = fc.mapping(m)
    assert (v.state, v.sync_state, v.start_time) == ("copying", 5, clock.now)
    fc.write(s, 0, b"after!")
    assert fc.read(t1, 0, 6) == b"before"
    assert fc.read(s, 0, 6) == b"after!"
    refused(38827, fc.start_mapping, m)                     # CMMVC5907E already copying
    refused(38823, fc.prepare_mapping, m)                   # CMMVC5903E


def test_start_from_idle_needs_the_prepare(array, sv):
    """Idle or stopped: a start is refused (CMMVC5905E/5908E) unless it prepares first
    (the agent's Force on Resync), and then the image is taken once flushed."""
    s, t1, _, _ = sv
    fc, clock = array.fc, array.clock
    m = fc.create_mapping(s, t1, copy_rate=0)
    refused(38825, fc.start_mapping, m)
    assert fc.mapping(m).state == "idle_or_copied"
    t0 = clock.now
    fc.start_mapping(m, prepare=True)
    assert fc.mapping(m).state == "preparing"
    clock.tick(1)
    fc.write(s, 0, b"in the image")                  # before the instant
    clock.tick(1.5)
    fc.write(s, 0, b"not in image")                  # after it: the engine catches up first
    v = fc.mapping(m)
    assert (v.state, v.start_time) == ("copying", t0 + PREPARE_SECONDS)
    assert fc.read(t1, 0, 12) == b"in the image"


def test_start_refuses_offline_volumes(array, sv):
    s, t1, _, _ = sv
    m = array.fc.create_mapping(s, t1)
    array.set_online(t1, False)
    refused(rc.VOLUME_OFFLINE, array.fc.prepare_mapping, m)
    refused(rc.VOLUME_OFFLINE, array.fc.start_mapping, m, prepare=True)
    array.set_online(t1, True)
    array.fc.start_mapping(m, prepare=True)


# ------------------------------------------------------------------ point in time, cascade
def test_targets_keep_their_instant_whatever_is_written(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    img1 = fc.read(s, 0, N)
    array.snapshot(s, t1, grain_size=64)
    fc.write(s, 3 * CHUNK + 10, b"S" * (2 * CHUNK))
    img2 = fc.read(s, 0, N)
    array.snapshot(s, t2, grain_size=256)
    fc.write(s, 0, b"s" * N)
    fc.write(t2, CHUNK - 3, b"T2")                  # a target is writable too
    img2 = img2[:CHUNK - 3] + b"T2" + img2[CHUNK - 1:]
    fc.write(t1, 7 * CHUNK, b"T1")
    img1 = img1[:7 * CHUNK] + b"T1" + img1[7 * CHUNK + 2:]
    assert fc.read(t1, 0, N) == img1
    assert fc.read(t2, 0, N) == img2
    assert fc.read(s, 0, N) == b"s" * N


def test_copy_on_write_moves_whole_grains(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    m64 = array.snapshot(s, t1, grain_size=64)
    fc.write(s, 0, b"x")
    assert fc.mapping(m64).progress == 12           # 1 of 8 grains
    fc.delete_mapping(m64, force=True)
    m256 = array.snapshot(s, t2, grain_size=256)
    fc.write(s, 0, b"x")
    assert fc.mapping(m256).progress == 50          # 1 of 2 grains


def test_dependent_mappings_are_the_older_ones(array, sv):
    s, t1, t2, t3 = sv
    fc = array.fc
    m1, m2, m3 = (array.snapshot(s, t) for t in (t1, t2, t3))
    assert fc.dependent_mappings(m3) == [m2, m1]
    assert fc.dependent_mappings(m2) == [m1]
    assert fc.dependent_mappings(m1) == []
    assert [fc.mapping(m).dependent_count for m in (m1, m2, m3)] == [0, 1, 2]
    idle = fc.create_mapping(t1, array.volume())
    assert fc.dependent_mappings(idle) == []


# ------------------------------------------------------------------ background copy
def test_background_copy_rate_and_completion(array):
    fc, clock = array.fc, array.clock
    size = 64 * CHUNK                                 # 4 MiB: 16 grains of 256 KiB
    s, t = array.volume(size), array.volume(size)
    fc.write(s, 0, pattern(3, size))
    m = fc.create_mapping(s, t, copy_rate=1)          # 128 KiB/s: a grain every 2 s
    fc.prepare_mapping(m)
    clock.tick(2)
    fc.start_mapping(m, prepare=True)
    fc.write(s, 0, b"later")                          # grain 0 by copy-on-write
    clock.tick(8)
    assert fc.mapping(m).progress == 31               # 1 + 4 of 16 grains
    clock.tick(21.9)                                  # the other 15 need 30 s
    assert fc.mapping(m).state == "copying"
    clock.tick(0.1)
    v = fc.mapping(m)
    assert (v.state, v.progress, v.sync_state) == ("idle_or_copied", 100, 6)
    assert fc.read(t, 0, size) == pattern(3, size)
    assert fc.dependent_mappings(m) == []
    fc.write(s, 0, b"independent now")
    assert fc.read(t, 0, size) == pattern(3, size)


def test_rate_zero_never_completes_and_rate_changes_count_from_now(array, sv):
    s, t1, _, _ = sv
    fc, clock = array.fc, array.clock
    m = array.snapshot(s, t1, copy_rate=0, grain_size=64)
    clock.tick(10 ** 6)
    assert (fc.mapping(m).state, fc.mapping(m).progress) == ("copying", 0)
    fc.set_copy_rate(m, 1)                            # 2 grains of 64 KiB per second
    clock.tick(2)
    assert fc.mapping(m).progress == 50
    refused(rc.INVALID_PARAMETER, fc.set_copy_rate, m, 101)
    fc.set_copy_rate(m, 100)
    clock.tick(1)
    assert fc.mapping(m).state == "idle_or_copied"
    assert fc.read(t1, 0, N) == pattern(1, N)


def test_autodelete_mapping_vanishes_when_copied(array, sv):
    s, t1, _, _ = sv
    fc = array.fc
    m = array.snapshot(s, t1, copy_rate=100, autodelete=True)
    assert fc.mapping(m).autodelete
    array.clock.tick(1)
    refused(rc.INVALID_PARAMETER, fc.mapping, m)
    assert not fc.volume_in_mapping(t1)
    assert fc.read(t1, 0, N) == pattern(1, N)


# ------------------------------------------------------------------ stop / clean
def test_stop_leaves_only_held_grains(array, sv):
    s, t1, _, _ = sv
    fc = array.fc
    m = array.snapshot(s, t1, grain_size=64)
    fc.write(s, 2 * CHUNK, b"new")                    # grain 2 copied to the target
    fc.stop_mapping(m)
    v = fc.mapping(m)
    assert (v.state, v.sync_state, v.progress) == ("stopped", 13, 12)
    got = fc.read(t1, 0, N)
    assert got[2 * CHUNK:3 * CHUNK] == pattern(1, N)[2 * CHUNK:3 * CHUNK]
    assert got[:2 * CHUNK] == bytes(2 * CHUNK) and got[3 * CHUNK:] == bytes(5 * CHUNK)
    refused(38832, fc.stop_mapping, m)                # CMMVC5912E already stopped
    refused(38828, fc.start_mapping, m)               # CMMVC5908E: prepare first
    fc.start_mapping(m, prepare=True)                 # stopped can be restarted
    array.clock.tick(2)
    assert fc.read(t1, 0, N) == fc.read(s, 0, N)


def test_stop_cleans_into_the_older_target(array, sv):
    s, t1, t2, _ = sv
    fc, clock = array.fc, array.clock
    m1 = array.snapshot(s, t1, grain_size=64)
    fc.write(s, 0, b"C" * CHUNK)                      # grain 0 goes to t1
    m2 = array.snapshot(s, t2, grain_size=64, clean_rate=1)
    fc.write(s, CHUNK, b"D" * CHUNK)                  # grain 1 goes to t2 only
    assert fc.mapping(m1).progress == 12
    fc.stop_mapping(m2)
    v = fc.mapping(m2)
    assert (v.state, v.sync_state) == ("stopping", 8)
    assert fc.read(t1, 0, N) == pattern(1, N)         # cleaned at once
    assert fc.mapping(m1).progress == 25
    clock.tick(CHUNK / (128 * KIB) - 0.01)            # one grain at 128 KiB/s
    assert fc.mapping(m2).state == "stopping"
    refused(38863, fc.delete_mapping, m2)             # CMMVC6241E
    refused(38865, fc.stop_mapping, m2)               # CMMVC6243E: only a forced stop
    clock.tick(0.01)
    assert fc.mapping(m2).state == "stopped"


def test_second_forced_stop_ends_stopping_at_once(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    array.snapshot(s, t1, grain_size=64)
    m2 = array.snapshot(s, t2, grain_size=64, clean_rate=1)
    fc.write(s, 0, b"x" * N)                          # all eight grains go to t2
    fc.stop_mapping(m2)                                       # and are cleaned into t1: 4 s
    assert fc.mapping(m2).state == "stopping"
    refused(38865, fc.stop_mapping, m2)               # CMMVC6243E without force
    fc.stop_mapping(m2, force=True)
    assert fc.mapping(m2).state == "stopped"


def test_forced_stop_skips_the_cleaning_time(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    array.snapshot(s, t1, grain_size=64)
    m2 = array.snapshot(s, t2, grain_size=64, clean_rate=1)
    fc.write(s, 0, b"x" * N)
    fc.stop_mapping(m2, force=True)
    assert fc.mapping(m2).state == "stopped"
    assert fc.read(t1, 0, N) == pattern(1, N)         # cleaned all the same


def test_split_hands_older_targets_to_a_complete_one(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    m1 = array.snapshot(s, t1, copy_rate=0, grain_size=64)
    fc.write(s, 0, b"A" * CHUNK)
    m2 = array.snapshot(s, t2, copy_rate=0, grain_size=64)
    refused(rc.FC_SPLIT_REFUSED, fc.stop_mapping, m2, split=True)  # not copied yet
    fc.set_copy_rate(m2, 100)
    array.clock.tick(1)
    assert (fc.mapping(m2).state, fc.mapping(m2).progress) == ("copying", 100)
    fc.stop_mapping(m2, split=True)
    v = fc.mapping(m2)
    assert (v.state, v.progress, v.dependent_count) == ("idle_or_copied", 100, 0)
    assert fc.mapping(m1).progress == 12              # nothing was copied into t1
    fc.write(s, 0, b"S" * N)                          # s no longer matters to t1
    fc.write(t2, 0, b"T2" * (N // 2))                 # t2 heads t1 now: copy-on-write
    assert fc.read(t1, 0, N) == pattern(1, N)
    assert fc.read(t2, 0, N) == b"T2" * (N // 2)
    refused(38830, fc.stop_mapping, m2, split=True)   # CMMVC5910E idle


def test_prepared_mapping_can_be_stopped(array, sv):
    s, t1, _, _ = sv
    fc = array.fc
    fc.write(t1, 0, b"old target data")
    m = fc.create_mapping(s, t1)
    fc.prepare_mapping(m)
    array.clock.tick(2)
    fc.stop_mapping(m)
    assert fc.mapping(m).state == "stopped"
    assert fc.read(t1, 0, 15) == bytes(15)           # prepare invalidated the target


def test_invalidating_a_prepared_target_spares_copies_taken_from_it(array, sv):
    """Found by the model test: the target of a prepared mapping was snapshotted
    meanwhile; stopping the prepared mapping must not wipe what that snapshot reads."""
    s, t1, t2, _ = sv
    fc = array.fc
    fc.write(t1, 0, pattern(7, N))
    m = fc.create_mapping(s, t1)
    fc.prepare_mapping(m)
    array.snapshot(t1, t2)                            # t1 > t2
    fc.stop_mapping(m)
    assert fc.read(t1, 0, N) == bytes(N)
    assert fc.read(t2, 0, N) == pattern(7, N)


def test_stop_dependent_option_values(array, sv):
    s, t1, t2, t3 = sv
    fc = array.fc
    m1, m2, _ = (array.snapshot(s, t) for t in (t1, t2, t3))
    for bad in (0, 7):
        refused(rc.INVALID_PARAMETER, fc.stop_mapping, m2, stop_dependent=bad)
        refused(rc.INVALID_PARAMETER, fc.delete_mapping, m2, force=True, stop_dependent=bad)
    refused(rc.NOT_OLDEST, fc.stop_mapping, m2, stop_dependent=5)
    refused(rc.NOT_OLDEST, fc.delete_mapping, m2, force=True, stop_dependent=5)
    fc.stop_mapping(m1, stop_dependent=5)                     # the oldest may go
    assert fc.mapping(m1).state == "stopped"


def _cascade_of_four(array, s, rate=0):
    """S>T4>T3>T2>T1 with a write to S before every snapshot; returns maps, targets and
    their images."""
    fc = array.fc
    maps, targets, images = [], [], []
    for i in range(4):
        fc.write(s, i * 2 * CHUNK + 100, pattern(40 + i, CHUNK))
        t = array.volume()
        images.append(fc.read(s, 0, N))
        maps.append(array.snapshot(s, t, copy_rate=rate, grain_size=64))
        targets.append(t)
    fc.write(s, CHUNK, b"S" * (3 * CHUNK))
    return maps, targets, images


def test_stop_newer_keeps_current(array, sv):
    s = sv[0]
    fc = array.fc
    maps, targets, images = _cascade_of_four(array, s)
    fc.stop_mapping(maps[1], stop_dependent=1)
    assert [fc.mapping(m).state for m in maps] == ["copying", "copying", "stopping", "stopping"]
    array.clock.tick(10)                              # cleaning time at 2 MiB/s
    assert [fc.mapping(m).state for m in maps] == ["copying", "copying", "stopped", "stopped"]
    assert fc.read(targets[1], 0, N) == images[1]
    assert fc.read(targets[0], 0, N) == images[0]


def test_stop_newer_and_current_keeps_older(array, sv):
    s = sv[0]
    fc = array.fc
    maps, targets, images = _cascade_of_four(array, s)
    fc.stop_mapping(maps[1], stop_dependent=2)
    array.clock.tick(10)
    assert [fc.mapping(m).state for m in maps] == ["copying", "stopped", "stopped", "stopped"]
    assert fc.read(targets[0], 0, N) == images[0]


def test_stop_older_stops_them_without_cleaning(array, sv):
    s = sv[0]
    fc = array.fc
    maps, targets, images = _cascade_of_four(array, s)
    fc.stop_mapping(maps[2], stop_dependent=4)                # nothing below: no stopping time
    assert [fc.mapping(m).state for m in maps] == ["stopped", "stopped", "stopped", "copying"]
    assert fc.read(targets[3], 0, N) == images[3]


# ------------------------------------------------------------------ delete
def test_delete_rules(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    idle = fc.create_mapping(s, t1)
    fc.delete_mapping(idle)
    m = array.snapshot(s, t1)
    refused(38818, fc.delete_mapping, m)              # CMMVC5898E copying
    fc.write(s, 0, b"x")
    fc.delete_mapping(m, force=True)
    assert not fc.volume_in_mapping(t1)
    p = fc.create_mapping(s, t2)
    fc.prepare_mapping(p)
    refused(38816, fc.delete_mapping, p)              # CMMVC5896E preparing
    array.clock.tick(2)
    refused(38817, fc.delete_mapping, p)              # CMMVC5897E prepared
    fc.stop_mapping(p)
    refused(38819, fc.delete_mapping, p)              # CMMVC5899E stopped: force needed
    fc.delete_mapping(p, force=True)
    assert fc.list_mappings() == []


def test_unprepare_clears_only_a_prepared_state(array, sv):
    s, t1, _, _ = sv
    fc = array.fc
    m = fc.create_mapping(s, t1)
    refused(rc.INVALID_STATE, fc.unprepare_mapping, m)
    fc.prepare_mapping(m)
    refused(rc.INVALID_STATE, fc.unprepare_mapping, m)        # still preparing
    array.clock.tick(2)
    fc.unprepare_mapping(m)
    assert fc.mapping(m).state == "stopped"
    fc.start_mapping(m, prepare=True)
    array.clock.tick(2)
    refused(rc.INVALID_STATE, fc.unprepare_mapping, m)        # copying: a stop, not this


# ------------------------------------------------------------------ incremental
def test_incremental_restart_copies_only_the_difference(array):
    fc, clock = array.fc, array.clock
    size = 16 * CHUNK
    s, t = array.volume(size), array.volume(size)
    fc.write(s, 0, pattern(5, size))
    m = fc.create_mapping(s, t, incremental=True, copy_rate=100, grain_size=64)
    fc.start_mapping(m, prepare=True)
    clock.tick(3)
    v = fc.mapping(m)
    assert (v.state, v.progress, v.difference) == ("idle_or_copied", 100, 0)
    fc.write(s, 0, b"a")                                # grain 0 via the source
    fc.write(t, 5 * CHUNK, b"b")                        # grain 5 via the target
    fc.write(s, 15 * CHUNK, b"c" * CHUNK)               # grain 15
    assert fc.mapping(m).difference == 19               # 3 of 16 grains, rounded up
    fc.set_copy_rate(m, 0)                              # watch the restart itself
    fc.start_mapping(m, prepare=True)
    clock.tick(2)
    v = fc.mapping(m)
    assert (v.state, v.progress, v.difference) == ("copying", 81, 19)
    assert fc.read(t, 0, size) == fc.read(s, 0, size)
    fc.set_copy_rate(m, 100)
    clock.tick(1)
    assert fc.mapping(m).state == "idle_or_copied"
    assert fc.read(t, 0, size) == fc.read(s, 0, size)


def test_incremental_stopped_then_restarted(array):
    fc, clock = array.fc, array.clock
    size = 16 * CHUNK
    s, t = array.volume(size), array.volume(size)
    fc.write(s, 0, pattern(6, size))
    m = fc.create_mapping(s, t, incremental=True, copy_rate=1, grain_size=64)
    fc.start_mapping(m, prepare=True)
    clock.tick(2 + 4)                                   # 8 of 16 grains
    fc.write(s, 0, b"z" * CHUNK)                        # dirties a held grain
    fc.stop_mapping(m)
    assert fc.mapping(m).progress == 50
    fc.start_mapping(m, prepare=True)
    clock.tick(2)
    assert fc.read(t, 0, size) == fc.read(s, 0, size)
    assert fc.mapping(m).progress == 43                 # 7 grains kept


def test_incremental_target_reused_for_a_new_source_image(array):
    """The VSS provider keeps the incremental map and starts it again next time."""
    fc, clock = array.fc, array.clock
    s, t = array.volume(), array.volume()
    m = fc.create_mapping(s, t, incremental=True, copy_rate=50, grain_size=256)
    for round_ in range(3):
        fc.write(s, round_ * CHUNK, pattern(round_, CHUNK))
        fc.start_mapping(m, prepare=True)
        clock.tick(3)
        assert fc.mapping(m).state == "idle_or_copied"
        assert fc.read(t, 0, N) == fc.read(s, 0, N)


# ------------------------------------------------------------------ restore
def test_restore_needs_the_flag_and_keeps_other_images(array, sv):
    s = sv[0]
    fc, clock = array.fc, array.clock
    maps, targets, images = _cascade_of_four(array, s)
    back = fc.create_mapping(targets[1], s, copy_rate=50, grain_size=64)
    refused(rc.RESTORE_NOT_TRUE, fc.prepare_mapping, back)
    refused(rc.RESTORE_NOT_TRUE, fc.start_mapping, back, prepare=True)
    fc.start_mapping(back, restore=True, prepare=True)
    clock.tick(2)
    assert fc.mapping(back).restoring
    assert fc.read(s, 0, N) == images[1]
    for t, img in zip(targets, images):
        assert fc.read(t, 0, N) == img
    fc.write(s, 0, b"after restore" * 100)              # copy-on-write as usual
    for t, img in zip(targets, images):
        assert fc.read(t, 0, N) == img
    clock.tick(60)
    # Copied, but T1 (the oldest, rate 0) still reads through S: it stays copying.
    v = fc.mapping(back)
    assert (v.state, v.progress, v.dependent_count) == ("copying", 100, 1)
    assert fc.dependent_mappings(back) == [maps[0]]
    fc.delete_mapping(back, force=True)               # cleans S into T1
    assert fc.mapping(maps[0]).progress == 100
    for t, img in zip(targets, images):
        assert fc.read(t, 0, N) == img


def test_restore_flag_from_prepare_carries_to_start(array, sv):
    s, t1, _, _ = sv
    fc, clock = array.fc, array.clock
    array.snapshot(s, t1)
    fc.write(s, 0, b"changed")
    back = fc.create_mapping(t1, s)
    fc.prepare_mapping(back, restore=True)
    clock.tick(2)
    fc.start_mapping(back, prepare=True)
    assert fc.read(s, 0, N) == pattern(1, N)


def test_restore_of_a_target_that_is_no_source_needs_no_flag(array, sv):
    s, t1, _, _ = sv
    fc = array.fc
    m = array.snapshot(s, t1, copy_rate=100)
    array.clock.tick(1)
    assert fc.mapping(m).state == "idle_or_copied"      # not active: no restore needed
    fc.write(s, 0, b"oops")
    back = array.snapshot(t1, s)
    assert not fc.mapping(back).restoring
    assert fc.read(s, 0, N) == pattern(1, N)


def test_a_full_mapping_stays_copying_while_older_ones_read_through_it(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    m1 = array.snapshot(s, t1, copy_rate=0)
    m2 = array.snapshot(s, t2, copy_rate=100)
    array.clock.tick(1)
    v = fc.mapping(m2)
    assert (v.state, v.progress, v.sync_state, v.dependent_count) == ("copying", 100, 5, 1)
    assert fc.mapping(m1).progress == 0               # not filled up by the newer copy
    fc.delete_mapping(m1, force=True)
    assert fc.mapping(m2).state == "idle_or_copied"


def test_deleting_a_volume_older_targets_read_through_keeps_their_data(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    a = array.volume()
    fc.write(a, 0, pattern(2, N))
    m1 = array.snapshot(a, t1)                        # a > t1
    m2 = array.snapshot(t1, t2)                       # a > t1 > t2
    fc.delete_mapping(m1, force=True)                 # t1 cleans into t2: a > t2
    assert not fc.volume_in_mapping(a)
    fc.delete_volume_data(a)
    assert fc.read(t2, 0, N) == pattern(2, N)
    assert fc.read(a, 0, N) == bytes(N)
    fc.set_copy_rate(m2, 100)
    array.clock.tick(1)
    assert fc.mapping(m2).state == "idle_or_copied"
    assert fc.read(t2, 0, N) == pattern(2, N)
    assert array.conn.execute("SELECT COUNT(*) FROM fc_stores WHERE volume_id < 0"
                              ).fetchone()[0] == 0    # the hidden copy went with it
    stored = array.conn.execute("SELECT COUNT(*) FROM fc_chunks").fetchone()[0]
    assert stored == 8 + 8                            # s and t2 only


def test_copies_of_lists_restore_candidates(array, sv):
    s, t1, t2, t3 = sv
    fc = array.fc
    done = array.snapshot(s, t1, copy_rate=100)
    array.clock.tick(1)
    live = array.snapshot(s, t2)
    fc.create_mapping(s, t3)                            # never started: no copy
    assert [v.id for v in fc.copies_of(s)] == [done, live]
    fc.stop_mapping(live)
    assert [v.id for v in fc.copies_of(s)] == [done]
    assert fc.copies_of(t1) == []


# ------------------------------------------------------------------ helpers for the server
def test_volume_helpers(array, sv):
    s, t1, t2, _ = sv
    fc = array.fc
    m = fc.create_mapping(s, t1)
    assert fc.volume_in_mapping(s) and fc.volume_in_mapping(t1)
    assert not fc.volume_in_mapping(t2)
    assert [v.id for v in fc.mappings_of_volume(t1)] == [m]
    refused(rc.VOLUME_IN_FCMAP, fc.delete_volume_data, s)
    fc.write(t2, 0, b"bye")
    fc.delete_volume_data(t2)
    assert fc.read(t2, 0, 3) == bytes(3)


# ------------------------------------------------------------------ persistence
def test_restart_resumes_mid_copy_exactly(array, clock):
    size = 32 * CHUNK
    s, t1, t2 = array.volume(size), array.volume(size), array.volume(size)
    array.fc.write(s, 0, pattern(8, size))
    m1 = array.snapshot(s, t1, copy_rate=1, grain_size=64)
    array.fc.write(s, 0, b"x" * (size // 2))
    back = array.fc.create_mapping(t1, s, copy_rate=1, grain_size=64)
    array.fc.start_mapping(back, restore=True, prepare=True)                  # pending until flushed
    m2 = array.fc.create_mapping(s, t2, copy_rate=0)
    array.fc.prepare_mapping(m2)
    clock.tick(1)
    before = [array.fc.mapping(m) for m in (m1, back, m2)]
    array.restart()
    assert [array.fc.mapping(m) for m in (m1, back, m2)] == before
    for step in (1.5, 3, 7):
        clock.tick(step)
        other = type(array.fc)(array.conn, clock)
        assert [other.mapping(m) for m in (m1, back, m2)] == \
            [array.fc.mapping(m) for m in (m1, back, m2)]
    assert array.fc.mapping(back).restoring           # 32 grains at 2/s: 16 s
    assert array.fc.read(s, 0, size) == pattern(8, size)
    assert array.fc.read(t1, 0, size) == pattern(8, size)
    clock.tick(6)
    assert [array.fc.mapping(m).state for m in (m1, back)] == ["idle_or_copied"] * 2


def test_a_rolled_back_request_leaves_no_trace_in_the_cache(array, sv):
    s, t1, _, _ = sv
    fc, conn = array.fc, array.conn
    m = fc.create_mapping(s, t1, copy_rate=0)
    conn.execute("BEGIN IMMEDIATE")
    fc.start_mapping(m, prepare=True)
    array.clock.tick(3)
    fc.write(s, 0, b"gone")
    assert fc.mapping(m).state == "copying"
    conn.execute("ROLLBACK")
    assert fc.mapping(m).state == "idle_or_copied"
    assert fc.read(s, 0, N) == pattern(1, N)
