"""Consistency groups: membership rules, one start instant, group status."""
import pytest

from simulator import returncodes as rc
from simulator.flashcopy import PREPARE_SECONDS
from simulator.voldata import CHUNK

from tests.support.data import pattern
from tests.support.fcengine import N, refused


@pytest.fixture
def pair(array):
    """Two sources with content, each with an idle mapping to a spare target."""
    fc = array.fc
    out = []
    for tag in (1, 2):
        s, t = array.volume(), array.volume()
        fc.write(s, 0, pattern(tag, N))
        out.append((s, t, fc.create_mapping(s, t, copy_rate=0)))
    return out


def test_a_copying_mapping_joins_only_once_stopped(array, pair):
    (_, _, m1), _ = pair
    fc = array.fc
    g = fc.create_group()
    fc.start_mapping(m1, prepare=True)
    array.clock.tick(PREPARE_SECONDS + 1)
    assert fc.mapping(m1).state == "copying"
    refused(38835, fc.add_to_group, g, m1)       # CMMVC5915E: not while copying
    fc.stop_mapping(m1, force=True)
    assert fc.mapping(m1).state == "stopped"
    fc.add_to_group(g, m1)
    assert fc.group(g).members == (m1,)


def test_create_and_view(array):
    fc = array.fc
    g = fc.create_group()
    v = fc.group(g)
    assert (v.name, v.state, v.dmtf_status, v.members, v.autodelete) == \
        (f"fccstgrp{g}", "empty", 0x1000, (), False)
    refused(rc.OBJECT_EXISTS, fc.create_group, f"fccstgrp{g}")
    g2 = fc.create_group("vss-1", autodelete=True)
    assert [x.id for x in fc.list_groups()] == [g, g2]
    refused(rc.INVALID_SET, fc.group, 99)


def test_membership_rules(array, pair):
    fc = array.fc
    (s1, t1, m1), (s2, t2, m2) = pair
    g, other = fc.create_group(), fc.create_group()
    fc.add_to_group(g, m1)
    refused(rc.ALREADY_IN_SET, fc.add_to_group, other, m1)
    refused(rc.ALREADY_IN_SET, fc.add_to_group, g, m1)
    refused(rc.INVALID_SET, fc.add_to_group, 99, m2)
    auto = fc.create_mapping(s2, array.volume(), autodelete=True)
    refused(rc.INCOMPATIBLE_SET, fc.add_to_group, g, auto)     # CopyType 4 and 5
    fc.prepare_mapping(m2)
    refused(38833, fc.add_to_group, g, m2)      # CMMVC5913E: only idle or stopped mappings join
    fc.prepare_group(g)
    fc.delete_mapping(m2, force=True)
    m2 = fc.create_mapping(s2, t2)
    refused(rc.INVALID_STATE, fc.add_to_group, g, m2)          # the group is busy
    refused(rc.INVALID_STATE, fc.remove_from_group, g, m1)
    refused(rc.NOT_IN_SET, fc.remove_from_group, g, m2)
    array.clock.tick(PREPARE_SECONDS)
    fc.stop_group(g)
    fc.remove_from_group(g, m1)
    assert fc.mapping(m1).group_id is None and fc.group(g).state == "empty"


def test_members_are_driven_through_the_group(array, pair):
    fc = array.fc
    (_, _, m1), _ = pair
    g = fc.create_group()
    fc.add_to_group(g, m1)
    for call in (fc.prepare_mapping, fc.start_mapping, fc.stop_mapping):
        refused(rc.IN_USE, call, m1)
    fc.set_copy_rate(m1, 10)                                   # not a state change


def test_prepare_then_start_all_at_one_instant(array, pair):
    fc, clock = array.fc, array.clock
    (s1, t1, m1), (s2, t2, m2) = pair
    g = fc.create_group()
    fc.add_to_group(g, m1)
    fc.add_to_group(g, m2)
    refused(38830, fc.stop_group, g)                           # CMMVC5910E idle
    refused(38825, fc.start_group, g)                          # CMMVC5905E: prepare first
    fc.prepare_group(g)
    assert (fc.group(g).state, fc.group(g).dmtf_status) == ("preparing", 3)
    refused(38826, fc.start_group, g)                          # CMMVC5906E
    refused(38831, fc.stop_group, g)                           # CMMVC5911E
    clock.tick(PREPARE_SECONDS)
    assert (fc.group(g).state, fc.group(g).dmtf_status) == ("prepared", 4)
    fc.start_group(g, prepare=True)
    v = fc.group(g)
    assert (v.state, v.dmtf_status, v.members) == ("copying", 5, (m1, m2))
    assert fc.mapping(m1).start_time == fc.mapping(m2).start_time == clock.now
    fc.write(s1, 0, b"x" * N)
    fc.write(s2, 0, b"y" * N)
    assert fc.read(t1, 0, N) == pattern(1, N) and fc.read(t2, 0, N) == pattern(2, N)


def test_start_from_idle_prepares_all_then_starts_all_together(array, pair):
    fc, clock = array.fc, array.clock
    (s1, t1, m1), (s2, t2, m2) = pair
    g = fc.create_group()
    fc.add_to_group(g, m1)
    fc.add_to_group(g, m2)
    t0 = clock.now
    fc.start_group(g, prepare=True)
    clock.tick(1)
    fc.write(s1, 0, b"in")
    clock.tick(1)
    fc.write(s2, 0, b"out")
    assert fc.mapping(m1).start_time == fc.mapping(m2).start_time == t0 + PREPARE_SECONDS
    assert fc.read(t1, 0, 2) == b"in"
    assert fc.read(t2, 0, 3) == pattern(2, 3)


def test_group_state_follows_members(array, pair):
    fc, clock = array.fc, array.clock
    (_, _, m1), (_, _, m2) = pair
    fc.set_copy_rate(m1, 100)
    g = fc.create_group()
    fc.add_to_group(g, m1)
    fc.add_to_group(g, m2)
    fc.start_group(g, prepare=True)
    clock.tick(PREPARE_SECONDS + 1)
    assert [fc.mapping(m).state for m in (m1, m2)] == ["idle_or_copied", "copying"]
    assert fc.group(g).state == "copying"
    fc.stop_group(g)                                           # only m2 had to stop
    assert [fc.mapping(m).state for m in (m1, m2)] == ["idle_or_copied", "stopped"]
    assert (fc.group(g).state, fc.group(g).dmtf_status) == ("stopped", 0x8001)
    fc.start_group(g, prepare=True)                                          # idle and stopped: fine
    clock.tick(PREPARE_SECONDS)
    assert fc.group(g).state == "copying"


def test_stop_group_with_dependents(array):
    """Stopping the group of the newer snapshots, keeping older ones (cleaned)."""
    fc = array.fc
    s, t1, t2 = array.volume(), array.volume(), array.volume()
    fc.write(s, 0, pattern(3, N))
    m1 = array.snapshot(s, t1, grain_size=64)
    fc.write(s, 0, b"z" * CHUNK)
    m2 = fc.create_mapping(s, t2, copy_rate=0, grain_size=64)
    g = fc.create_group()
    fc.add_to_group(g, m2)
    fc.start_group(g, prepare=True)
    array.clock.tick(PREPARE_SECONDS)
    fc.write(s, 0, b"w" * N)
    refused(rc.NOT_OLDEST, fc.stop_group, g, stop_dependent=5)
    refused(rc.INVALID_PARAMETER, fc.stop_group, g, stop_dependent=7)
    fc.stop_group(g)
    array.clock.tick(10)
    # Cleaning gave t1 every grain it lacked: it is complete now.
    assert [fc.mapping(m).state for m in (m1, m2)] == ["idle_or_copied", "stopped"]
    assert fc.read(t1, 0, N) == pattern(3, N)


def test_busy_members_are_deleted_through_the_group(array, pair):
    fc = array.fc
    (_, _, m1), (_, _, m2) = pair
    g = fc.create_group()
    fc.add_to_group(g, m1)
    fc.add_to_group(g, m2)
    fc.start_group(g, prepare=True)
    array.clock.tick(PREPARE_SECONDS)
    refused(rc.IN_USE, fc.delete_mapping, m1, force=True)
    fc.delete_mapping(m1, force=True, via_group=True)
    fc.stop_group(g, force=True)
    assert fc.mapping(m2).state == "stopped"
    refused(38819, fc.delete_mapping, m2)                      # stopped: force needed
    fc.delete_mapping(m2, force=True)                          # stopped: directly, forced
    assert fc.group(g).state == "empty"


def test_delete_group(array, pair):
    fc = array.fc
    (_, _, m1), (_, _, m2) = pair
    g = fc.create_group()
    fc.add_to_group(g, m1)
    refused(rc.IN_USE, fc.delete_group, g)
    fc.start_group(g, prepare=True)
    array.clock.tick(PREPARE_SECONDS)
    fc.delete_group(g, force=True)                             # members stay, stand-alone
    v = fc.mapping(m1)
    assert (v.group_id, v.state) == (None, "copying")
    refused(rc.INVALID_SET, fc.group, g)
    fc.stop_mapping(m1)


def test_autodelete_group_goes_with_its_last_member(array, pair):
    fc = array.fc
    (_, _, m1), (_, _, m2) = pair
    g = fc.create_group(autodelete=True)
    fc.add_to_group(g, m1)
    fc.add_to_group(g, m2)
    fc.delete_mapping(m1)
    assert fc.group(g).members == (m2,)
    fc.remove_from_group(g, m2)
    refused(rc.INVALID_SET, fc.group, g)


def test_autodelete_members_and_group_vanish_when_copied(array):
    fc = array.fc
    s, t = array.volume(), array.volume()
    m = fc.create_mapping(s, t, copy_rate=100, autodelete=True)
    g = fc.create_group(autodelete=True)
    fc.add_to_group(g, m)
    fc.start_group(g, prepare=True)
    array.clock.tick(PREPARE_SECONDS + 1)
    assert fc.list_mappings() == [] and fc.list_groups() == []


def test_group_restore_needs_the_flag(array):
    fc = array.fc
    s, t = array.volume(), array.volume()
    fc.write(s, 0, pattern(4, N))
    array.snapshot(s, t)
    fc.write(s, 0, b"damage" * 1000)
    back = fc.create_mapping(t, s)
    g = fc.create_group()
    fc.add_to_group(g, back)
    refused(rc.RESTORE_NOT_TRUE, fc.prepare_group, g)
    refused(rc.RESTORE_NOT_TRUE, fc.start_group, g, prepare=True)
    fc.prepare_group(g, restore=True)
    array.clock.tick(PREPARE_SECONDS)
    fc.start_group(g)                                          # the flag was given at prepare
    assert fc.read(s, 0, N) == pattern(4, N)
