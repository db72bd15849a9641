"""Restore (the reverse mapping started with the Restore flag) and stopping or deleting
mappings of a cascade with their dependents; bytes read back through the data endpoint."""
from __future__ import annotations

import pytest

from core.errors import ArrayCallError
from core.model import COPYING, IDLE, PREPARED, STOPPED, STOP_NEWER, STOP_OLDER

from .conftest import MiB, SRC1


def started_copies(cim, n, rate=0):
    """n mappings from SRC1 onto free targets, prepared and started one after the other
    (a cascade): each is copying when this returns, so a write that follows is after
    its point in time."""
    src = cim.volumes_by_uid([SRC1])[SRC1]
    free = cim.host_named("vss_free_host")
    targets = sorted(cim.host_volumes(free.id), key=lambda v: int(v.id))[:n]
    maps = []
    for i, t in enumerate(targets):
        m, = cim.attach([(src.id, t.id, f"cim-c{i}")], copy_rate=rate, incremental=False, group_id=None)
        cim.prepare_fcmap(m.id)
        cim.start_fcmap(m.id)
        assert cim.fcmap(m.id).state == COPYING
        maps.append(m)
    return src, targets, maps


def test_restore_brings_back_the_copy(sim, cim, view):
    original = (b"original" * MiB)[:MiB]
    sim.write(SRC1, 0, original)
    src, (target,), (forward,) = started_copies(cim, 1)
    sim.write(SRC1, 0, b"damaged!" * 1024)
    assert sim.read(target.uid, 0, MiB) == original
    # copy rate 1: the copy back takes 80 s of real time at the array's 1000x clock, so it
    # is still copying (and a dependent of the forward mapping) when looked at below
    reverse, = cim.attach([(target.id, src.id, "cim-rev")], copy_rate=1, incremental=False, group_id=None)
    assert (reverse.source_id, reverse.target_id) == (target.id, src.id)

    # the target is the source of a copying mapping: without the Restore flag it is refused
    for step in (cim.prepare_fcmap, cim.start_fcmap):
        with pytest.raises(ArrayCallError) as err:
            step(reverse.id)
        assert err.value.code == 3009
    assert view.fcmaps()["cim-rev"]["state"] == IDLE

    # the array fails the method: the restore's own codes, nothing moves
    sim.faults([{"method": "ModifySynchronization", "action": "fail", "rc": 4, "count": 0}])
    for step, code in ((cim.prepare_fcmap, 720), (cim.start_fcmap, 730)):
        with pytest.raises(ArrayCallError) as err:
            step(reverse.id, restore=True)
        assert (err.value.code, err.value.rc) == (code, 4)
    assert view.fcmaps()["cim-rev"]["state"] == IDLE
    sim.clear_faults()

    cim.prepare_fcmap(reverse.id, restore=True)
    assert view.fcmaps()["cim-rev"]["state"] == PREPARED
    cim.start_fcmap(reverse.id, restore=True)
    got = cim.fcmap(reverse.id)
    assert got.restoring and got.state == COPYING
    assert sim.read(SRC1, 0, MiB) == original
    assert cim.dependent_fcmaps(forward.id) == [reverse.id]


def test_stop_and_delete_with_their_dependents(sim, cim, view):
    _, _, (oldest, middle, newest) = started_copies(cim, 3)
    assert cim.dependent_fcmaps(newest.id) == [middle.id, oldest.id]
    assert cim.dependent_fcmaps(oldest.id) == []
    # StopDependentMaps 1: the newer mapping stops, the one asked about keeps copying
    cim.stop_fcmap(middle.id, stop_dependent=STOP_NEWER)
    states = {n: m["state"] for n, m in view.fcmaps().items()}
    assert states == {"cim-c0": COPYING, "cim-c1": COPYING, "cim-c2": STOPPED}
    # StopDependentMaps 4 on a forced delete: the older one stops, this one goes
    cim.delete_fcmap(middle.id, force=True, stop_dependent=STOP_OLDER)
    assert {n: m["state"] for n, m in view.fcmaps().items()} == {"cim-c0": STOPPED, "cim-c2": STOPPED}
    assert cim.fcmap(middle.id) is None
    with pytest.raises(ArrayCallError) as err:
        cim.delete_fcmap(middle.id)
    assert err.value.code == 501
