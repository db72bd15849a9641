"""Changes: volumes, host mappings, FlashCopy mappings and consistency groups, each
read back over a separate connection."""
from __future__ import annotations

import pytest

from core.errors import ArrayCallError
from core.model import COPYING, EMPTY_GROUP, IDLE, PREPARED, STOPPED

from .conftest import MiB, SRC1, SRC2


def free_targets(cim, n):
    free = next(h for h in cim.hosts() if h.name == "vss_free_host")
    return sorted(cim.host_volumes(free.id), key=lambda v: int(v.id))[:n]


def test_create_and_delete_volume(cim, view):
    vol = cim.create_volume("cim-new-1", 64 * MiB, "ThinPool0", "io_grp0", thin=True, compressed=True,
                            deduped=False)
    on_array = view.volumes()["cim-new-1"]
    assert (vol.id, vol.uid, vol.size) == (on_array["id"], on_array["uid"].upper(), 64 * MiB)
    assert vol.thin and vol.compressed and vol.pool == "ThinPool0" and vol.iogroup == "io_grp0"
    cim.delete_volume(vol.id)
    assert "cim-new-1" not in view.volumes()
    assert cim.volume(vol.id) is None


def test_create_volume_in_unknown_pool_changes_nothing(cim, view):
    before = view.volumes()
    with pytest.raises(ArrayCallError) as err:
        cim.create_volume("cim-new-2", MiB, "NoSuchPool", None, thin=False, compressed=False, deduped=False)
    assert err.value.code == 3007 and "NoSuchPool" in str(err.value)
    assert view.volumes() == before


def test_map_and_unmap_are_one_request_each(cim, view):
    hosts = {h.name: h for h in cim.hosts()}
    backup, free = hosts["backup_host"], hosts["vss_free_host"]
    vols = free_targets(cim, 3)
    ids = [v.id for v in vols]
    cim.unmap_volumes(backup.id, ids[:1])             # not mapped: fine; service and paths known from here on
    assert not {(backup.id, i) for i in ids} & view.mapped()
    sent = cim.requests
    cim.map_volumes(backup.id, ids)
    assert cim.requests - sent == 1
    assert {(backup.id, i) for i in ids} <= view.mapped()
    assert {(free.id, i) for i in ids} <= view.mapped()      # Force: on both hosts for a moment
    sent = cim.requests
    cim.unmap_volumes(free.id, ids)
    assert cim.requests - sent == 1
    assert not {(free.id, i) for i in ids} & view.mapped()
    # already mapped / not mapped: fine, and the others still move
    cim.map_volumes(backup.id, ids[:2])
    cim.unmap_volumes(free.id, ids[:1])
    cim.map_volumes(free.id, ids)
    cim.unmap_volumes(backup.id, ids)
    mapped = view.mapped()
    assert {(free.id, i) for i in ids} <= mapped and not {(backup.id, i) for i in ids} & mapped
    cim.map_volumes(backup.id, [])                    # nothing to do: nothing sent
    with pytest.raises(ArrayCallError) as err:
        cim.map_volumes(backup.id, ["4242"])
    assert err.value.code == 201


def test_mapping_lifecycle(cim, view):
    src = cim.volumes_by_uid([SRC1])[SRC1]
    t1, t2 = free_targets(cim, 2)
    first, = cim.attach([(src.id, t1.id, "cim-a")], copy_rate=0, incremental=False, group_id=None)
    assert (first.source_id, first.target_id, first.state, first.copy_rate) == (src.id, t1.id, IDLE, 0)
    assert view.fcmaps()["cim-a"]["id"] == first.id
    cim.prepare_fcmap(first.id)
    assert cim.fcmap(first.id).state == PREPARED == view.fcmaps()["cim-a"]["state"]
    cim.start_fcmap(first.id)
    assert view.fcmaps()["cim-a"]["state"] == COPYING
    second, = cim.attach([(src.id, t2.id, "cim-b")], copy_rate=0, incremental=False, group_id=None)
    with pytest.raises(ArrayCallError) as err:        # idle: the agent wants a prepare first
        cim.start_fcmap(second.id)
    assert (err.value.code, err.value.rc) == (3009, 38825)          # CMMVC5905E
    assert view.fcmaps()["cim-b"]["state"] == IDLE
    cim.prepare_fcmap(second.id)
    cim.start_fcmap(second.id)
    # the older target now reads through the newer one
    assert cim.dependent_fcmaps(second.id) == [first.id]
    assert {m.id for m in cim.fcmaps_of_volume(src.id)} == {first.id, second.id}
    sent = cim.requests
    found = cim.fcmaps_of_volumes([t1.id, t2.id])
    assert cim.requests - sent == 1 and {m.name for m in found} == {"cim-a", "cim-b"}
    assert sorted(m.name for m in cim.fcmaps_named("cim-")) == ["cim-a", "cim-b"]
    assert cim.fcmaps_named("vss-") == []
    cim.stop_fcmap(second.id, stop_dependent=None, force=True)
    assert cim.fcmap(second.id).state == STOPPED == view.fcmaps()["cim-b"]["state"]
    with pytest.raises(ArrayCallError) as err:        # stopped: deleted with force only
        cim.delete_fcmap(second.id)
    assert err.value.rc == 38819                                     # CMMVC5899E
    cim.delete_fcmap(second.id, force=True)
    cim.delete_fcmap(first.id, force=True)
    assert view.fcmaps() == {}
    assert cim.fcmap(first.id) is None


def test_group_operations(cim, view):
    src1, src2 = cim.volumes_by_uid([SRC1, SRC2]).values()
    t1, t2 = free_targets(cim, 2)
    group = cim.create_group("cim-g")
    assert group.state == EMPTY_GROUP and view.groups()["cim-g"]["id"] == group.id
    assert cim.groups_named("cim-") == [group] and cim.groups_named("vss-") == []
    maps = cim.attach([(src1.id, t1.id, "cim-g-1")], copy_rate=50, incremental=False, group_id=group.id)
    solo, = cim.attach([(src2.id, t2.id, "cim-g-2")], copy_rate=50, incremental=True, group_id=None)
    cim.add_to_group(group.id, solo.id)
    assert {m["group"] for m in view.fcmaps().values()} == {group.id}
    assert cim.group(group.id).state == IDLE
    cim.prepare_group(group.id)
    assert cim.group(group.id).state == PREPARED
    sent = cim.requests
    cim.start_group(group.id)
    assert cim.requests - sent == 1
    assert {m["state"] for m in view.fcmaps().values()} <= {COPYING, IDLE}
    with pytest.raises(ArrayCallError) as err:                # members are driven through the group
        cim.start_fcmap(maps[0].id)
    assert err.value.code == 3009
    cim.delete_group(group.id, force=True)
    assert view.groups() == {} and cim.group(group.id) is None
    assert {m["group"] for m in view.fcmaps().values()} == {None}   # the mappings stay


def test_group_lookups_when_absent(cim):
    assert cim.group("77") is None
    with pytest.raises(ArrayCallError) as err:
        cim.prepare_group("77")
    assert err.value.code == 711
    assert cim.fcmap("77") is None
    with pytest.raises(ArrayCallError) as err:
        cim.prepare_fcmap("77")
    assert err.value.code == 501
