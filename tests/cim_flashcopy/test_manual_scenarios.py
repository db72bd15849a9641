"""The manual's section 5.1 over CIM: four cascaded no-copy snapshots S>T1..T4 with
writes to S between them; deleting S>T2 with StopDependentMaps=4 takes S>T1 with it
and keeps the images of T3 and T4; restoring from T2 leaves only S>T1. Bytes are read
back through the data endpoint, mappings through EnumerateInstances."""
from dataclasses import dataclass

import pytest
from pywbem import Uint16

from tests.support.data import pattern
from tests.support.fccim import CHUNK, OP_DETACH, OP_PREPARE, OP_QUIESCE, OP_RESYNC, FcCim

SIZE = 16 * CHUNK
STOP_NEWER_AND_CURRENT, STOP_OLDER, FAIL_IF_NOT_OLDEST = 2, 4, 5
NOT_OLDEST, RESTORE_NOT_TRUE, STOP_DEPENDENT_INVALID = 0x8101, 0x8102, 0x8104
NOT_DELETED_STOPPED = 38819      # CMMVC5899E: a stopped mapping is deleted with Force


@dataclass
class Cascade:
    s: object
    s_uid: str
    syncs: list          # S>T1 .. S>T4
    targets: list        # (path, uid)
    images: list         # S's bytes at each start


@pytest.fixture
def cascade(fc: FcCim):
    s, s_uid = fc.volume(SIZE, tag=0)
    c = Cascade(s, s_uid, [], [], [])
    for i in range(4):
        t = fc.volume(SIZE)
        c.images.append(fc.read(s_uid))
        c.syncs.append(fc.snapshot(s, t[0], rate=0))
        c.targets.append(t)
        fc.write(s_uid, i * 3 * CHUNK + 1000, pattern(10 + i, 4 * CHUNK))
    yield c
    for path in [s] + [t[0] for t in c.targets]:
        fc.drop_volume(path)


def targets_of(fc: FcCim, c: Cascade) -> list[str]:
    """The T1..T4 names (by position) of S's mappings still on the array."""
    ids = {t[0].keybindings["DeviceID"]: f"T{i + 1}" for i, t in enumerate(c.targets)}
    sid = c.s.keybindings["DeviceID"]
    return sorted(ids[t] for (s, t) in fc.mappings() if s == sid and t in ids)


def check_images(fc: FcCim, c: Cascade, which) -> None:
    for i in which:
        assert fc.read(c.targets[i][1]) == c.images[i], f"T{i + 1} lost its image"


def test_cascade_newest_first_and_dependent_names(fc, cascade):
    check_images(fc, cascade, range(4))
    rc, out = fc.call("GetDependentMappingNames", Mapping=cascade.syncs[3])
    assert rc == 0
    assert set(out) == {"Dependentnames"}                        # names only, as the agent answers
    by_name = {m["ElementName"]: m["SyncedElementID"] for m in fc.mappings().values()}
    order = [t[0].keybindings["DeviceID"] for t in cascade.targets]
    assert [by_name[n] for n in out["Dependentnames"]] == [order[2], order[1], order[0]]   # T3, T2, T1
    assert fc.call("GetDependentMappingNames", Mapping=cascade.syncs[0])[1].get("Dependentnames") in (None, [])


def test_delete_s_t2_stop_older_takes_s_t1_and_keeps_t3_t4(fc, cascade):
    # "stop older" and "fail if not oldest" are stop options: stop with them, then delete
    refused, _ = fc.modify(cascade.syncs[1], OP_QUIESCE, StopDependentMaps=Uint16(FAIL_IF_NOT_OLDEST))
    assert refused == NOT_OLDEST
    assert targets_of(fc, cascade) == ["T1", "T2", "T3", "T4"]     # the refusal changed nothing
    assert fc.modify(cascade.syncs[1], OP_DETACH, Force=True,
                     StopDependentMaps=Uint16(STOP_OLDER))[0] == STOP_DEPENDENT_INVALID
    rc, _ = fc.modify(cascade.syncs[1], OP_QUIESCE, Force=True, StopDependentMaps=Uint16(STOP_OLDER))
    assert rc == 0
    assert fc.modify(cascade.syncs[1], OP_DETACH, Force=True)[0] == 0
    assert fc.state(cascade.syncs[0]) == "stopped"
    assert fc.read(cascade.targets[0][1]) != cascade.images[0]
    assert fc.modify(cascade.syncs[0], OP_DETACH)[0] == NOT_DELETED_STOPPED   # needs Force
    assert fc.modify(cascade.syncs[0], OP_DETACH, Force=True)[0] == 0         # the stopped S>T1 goes too
    assert targets_of(fc, cascade) == ["T3", "T4"]
    check_images(fc, cascade, (2, 3))
    fc.write(cascade.s_uid, 0, b"later" * (SIZE // 5))
    check_images(fc, cascade, (2, 3))


def test_delete_s_t2_cleaning_keeps_s_t1(fc, cascade):
    assert fc.modify(cascade.syncs[1], OP_DETACH, Force=True)[0] == 0
    assert targets_of(fc, cascade) == ["T1", "T3", "T4"]
    check_images(fc, cascade, (0, 2, 3))


def test_restore_from_t2_leaves_only_s_t1(fc, cascade):
    t2_path, _ = cascade.targets[1]
    rc, back = fc.attach(t2_path, cascade.s, rate=50)
    assert rc == 0
    assert fc.modify(back, OP_RESYNC, Force=True)[0] == RESTORE_NOT_TRUE   # S is an active source
    rc, out = fc.modify(back, OP_PREPARE, Restore=True)
    assert rc == 4096
    fc.advance(2)
    assert fc.conn.GetInstance(out["Job"])["JobState"] == 7
    assert fc.modify(back, OP_RESYNC, Restore=True)[0] == 0
    assert fc.read(cascade.s_uid) == cascade.images[1]              # at once, while copying back
    check_images(fc, cascade, range(4))
    fc.advance(600)
    assert fc.modify(back, OP_DETACH, Force=True)[0] == 0
    assert fc.modify(cascade.syncs[1], OP_DETACH, Force=True,          # a restore option:
                     StopDependentMaps=Uint16(STOP_NEWER_AND_CURRENT))[0] == STOP_DEPENDENT_INVALID
    rc, _ = fc.modify(cascade.syncs[1], OP_DETACH, Force=True, Restore=True,   # with Restore
                      StopDependentMaps=Uint16(STOP_NEWER_AND_CURRENT))
    assert rc == 0
    fc.advance(600)                                                  # S>T3, S>T4 finish stopping
    for sync in cascade.syncs[2:]:
        assert fc.state(sync) == "stopped"
        assert fc.modify(sync, OP_DETACH, Force=True)[0] == 0
    assert targets_of(fc, cascade) == ["T1"]
    assert fc.read(cascade.s_uid) == cascade.images[1]
    check_images(fc, cascade, (0,))
