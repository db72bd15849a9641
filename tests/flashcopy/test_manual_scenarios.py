"""The manual's section 5.1 "deleting/restoring cascaded localcopy mappings".

Four no-copy snapshots of S taken in order, S > T4 > T3 > T2 > T1, with writes to S
between them. Deleting S>T2 also deletes S>T1 and keeps S>T3, S>T4; restoring S>T2
deletes S>T2, S>T3, S>T4 and keeps only S>T1.
"""
from dataclasses import dataclass

import pytest

from simulator import returncodes as rc
from simulator.voldata import CHUNK

from tests.support.data import pattern
from tests.support.fcengine import refused

SIZE = 16 * CHUNK
STOP_NEWER_AND_CURRENT, STOP_OLDER, FAIL_IF_NOT_OLDEST = 2, 4, 5


@dataclass
class Cascade:
    s: int
    maps: list[int]        # S>T1 .. S>T4
    targets: list[int]
    images: list[bytes]    # S at each start


@pytest.fixture
def cascade(array) -> Cascade:
    fc = array.fc
    s = array.volume(SIZE)
    fc.write(s, 0, pattern(0, SIZE))
    c = Cascade(s, [], [], [])
    for i in range(4):
        t = array.volume(SIZE)
        c.images.append(fc.read(s, 0, SIZE))
        c.maps.append(array.snapshot(s, t, copy_rate=0, grain_size=64))
        c.targets.append(t)
        # Different regions each time, overlapping the previous ones.
        fc.write(s, i * 3 * CHUNK + 1000, pattern(10 + i, 4 * CHUNK))
    return c


def check_images(array, c: Cascade, which) -> None:
    for i in which:
        assert array.fc.read(c.targets[i], 0, SIZE) == c.images[i], f"T{i + 1} lost its image"


def test_the_cascade_is_newest_first(array, cascade):
    fc = array.fc
    t1, t2, t3, t4 = cascade.maps
    assert fc.dependent_mappings(t4) == [t3, t2, t1]
    assert fc.dependent_mappings(t1) == []
    check_images(array, cascade, range(4))


def test_a_delete_s_t2_stopping_older_takes_s_t1_with_it(array, cascade):
    fc = array.fc
    m1, m2, m3, m4 = cascade.maps
    refused(rc.NOT_OLDEST, fc.delete_mapping, m2, force=True, stop_dependent=FAIL_IF_NOT_OLDEST)
    fc.delete_mapping(m2, force=True, stop_dependent=STOP_OLDER)
    assert fc.mapping(m1).state == "stopped"
    assert fc.read(cascade.targets[0], 0, SIZE) != cascade.images[0]   # T1 is no image now
    fc.delete_mapping(m1, force=True)         # the provider removes the stopped S>T1
    assert [v.id for v in fc.list_mappings()] == [m3, m4]
    check_images(array, cascade, (2, 3))
    fc.write(cascade.s, 0, b"later" * (SIZE // 5))
    check_images(array, cascade, (2, 3))


def test_b_delete_s_t2_cleaning_keeps_s_t1(array, cascade):
    fc = array.fc
    m1, m2, m3, m4 = cascade.maps
    fc.delete_mapping(m2, force=True)
    assert [v.id for v in fc.list_mappings()] == [m1, m3, m4]
    assert fc.dependent_mappings(m3) == [m1]
    check_images(array, cascade, (0, 2, 3))
    fc.write(cascade.s, 0, b"later" * (SIZE // 5))
    fc.write(cascade.targets[2], 5 * CHUNK, b"T3 mounted and written")
    check_images(array, cascade, (0, 3))


def restore_from_t2(array, c: Cascade) -> int:
    fc = array.fc
    back = fc.create_mapping(c.targets[1], c.s, copy_rate=50, grain_size=64)
    refused(rc.RESTORE_NOT_TRUE, fc.start_mapping, back, prepare=True)
    fc.prepare_mapping(back, restore=True)
    array.clock.tick(2)
    fc.start_mapping(back, restore=True, prepare=True)
    assert fc.read(c.s, 0, SIZE) == c.images[1]       # at once, while copying back
    check_images(array, c, range(4))
    return back


def test_c_restore_from_t2_then_delete_newer_and_current(array, cascade):
    fc = array.fc
    m1, m2, m3, m4 = cascade.maps
    back = restore_from_t2(array, cascade)
    array.clock.tick(60)
    v = fc.mapping(back)
    assert (v.progress, v.state) == (100, "copying")    # S>T1 still reads through S
    fc.delete_mapping(back, force=True)
    fc.delete_mapping(m2, force=True, stop_dependent=STOP_NEWER_AND_CURRENT)
    array.clock.tick(60)                                # let S>T3, S>T4 finish stopping
    assert [fc.mapping(m).state for m in (m3, m4)] == ["stopped", "stopped"]
    fc.delete_mapping(m3, force=True)
    fc.delete_mapping(m4, force=True)
    assert [v.id for v in fc.list_mappings()] == [m1]
    assert fc.read(cascade.s, 0, SIZE) == cascade.images[1]
    check_images(array, cascade, (0,))


def test_c_restore_finished_by_a_split_copies_nothing_into_t1(array, cascade):
    fc = array.fc
    m1, m2, m3, m4 = cascade.maps
    back = restore_from_t2(array, cascade)
    array.clock.tick(60)
    progress_t1 = fc.mapping(m1).progress
    fc.stop_mapping(back, split=True)                 # S>T1 now reads S alone
    assert fc.mapping(back).state == "idle_or_copied"
    fc.delete_mapping(back)
    fc.delete_mapping(m2, force=True, stop_dependent=STOP_NEWER_AND_CURRENT)
    for m in (m3, m4):
        fc.delete_mapping(m, force=True)
    assert fc.mapping(m1).progress == progress_t1
    assert fc.read(cascade.s, 0, SIZE) == cascade.images[1]
    check_images(array, cascade, (0,))
    fc.write(cascade.s, 0, b"new day" * 1000)
    check_images(array, cascade, (0,))


def test_c_deleting_while_the_restore_still_copies(array, cascade):
    fc = array.fc
    m1, m2, m3, m4 = cascade.maps
    back = restore_from_t2(array, cascade)
    fc.write(cascade.s, 7 * CHUNK, b"the host already writes to S")
    expected_s = fc.read(cascade.s, 0, SIZE)
    fc.delete_mapping(m2, force=True, stop_dependent=STOP_NEWER_AND_CURRENT)
    for m in (m3, m4):
        fc.delete_mapping(m, force=True)
    assert fc.read(cascade.s, 0, SIZE) == expected_s
    check_images(array, cascade, (0,))
    array.clock.tick(60)
    fc.delete_mapping(back, force=True)
    assert fc.read(cascade.s, 0, SIZE) == expected_s
    check_images(array, cascade, (0,))
    assert [v.id for v in fc.list_mappings()] == [m1]


def test_stopping_the_wrong_mapping_shows_in_the_bytes(array, cascade):
    """A wrong orchestrator decision: stopping S>T3 "stop older" when S>T2 was meant
    leaves T2 with holes where it had no grains of its own."""
    fc = array.fc
    fc.stop_mapping(cascade.maps[2], stop_dependent=STOP_OLDER)
    assert fc.read(cascade.targets[1], 0, SIZE) != cascade.images[1]
    check_images(array, cascade, (3,))
