"""Create, import, expose and delete shadow-copy sets against the embedded array."""
from __future__ import annotations

import pytest
from pywbem import Uint16

from core.errors import VssError
from core.records import SetOptions

from tests.support.arrayproc import PREPARE_AT_ONCE
from tests.support.data import fill, MiB
from tests.support.demo import BACKUP_IQN, SRC1, SRC2


def test_create_non_transportable_keeps_the_point_in_time(array, view, orch):
    before = fill(array, SRC1, b"monday ")
    record = orch.create([SRC1])
    shadow = record.shadows[0]
    fill(array, SRC1, b"tuesday")                       # the application goes on writing
    assert array.read(shadow.target_uid, 0, 4 * MiB) == before
    maps = view.fcmaps()
    assert maps[f"vss-{record.lifecycle_id}-0"][0] == "vss_src_vol"
    hosts = view.host_volumes()
    target = next(n for n, v in view.volumes().items() if v["uid"] == shadow.target_uid)
    assert target in hosts["vss_res_host"] and target not in hosts["vss_free_host"]
    assert view.groups() == []                          # the group only served the common start
    assert orch.get_set(record.set_id).state == "done"


def test_a_set_starts_at_one_instant_with_one_request(array, view, orch):
    fill(array, SRC1, b"one ")
    fill(array, SRC2, b"two ")
    orch.prepare("set-a", [SRC1, SRC2])
    assert view.groups() == [f"vss-{orch.get_set('set-a').lifecycle_id}"]
    sent = orch.array.requests
    orch.commit("set-a")
    assert orch.array.requests - sent == 1
    fill(array, SRC1, b"ONE ")
    record = orch.post_commit("set-a")
    for shadow, tag in zip(record.shadows, (b"one ", b"two ")):
        assert array.read(shadow.target_uid, 0, 8) == tag * 2


def test_delete_gives_everything_back(array, view, orch):
    empty = view.snapshot()
    record = orch.create([SRC1, SRC2])
    assert view.snapshot() != empty
    deleted = orch.delete(set_id=record.set_id)
    assert sorted(deleted) == sorted(s.shadow_id for s in record.shadows)
    assert view.snapshot() == empty
    assert orch.sets() == [] and orch.store.keys() == []


def test_transportable_import_on_another_host(array, view, orch):
    data = fill(array, SRC1, b"ledger ")
    record = orch.create([SRC1], SetOptions(transportable=True))
    target_uid = record.shadows[0].target_uid
    assert array.host_luns(BACKUP_IQN) == []
    orch.import_set(record.set_id, "backup_host")
    luns = [lun["uid"] for lun in array.host_luns(BACKUP_IQN)]
    assert target_uid in luns
    assert array.host_read(BACKUP_IQN, target_uid, 0, 4 * MiB) == data
    orch.unexpose_set(record.set_id, "backup_host")
    assert array.host_luns(BACKUP_IQN) == []
    orch.import_set(record.set_id, "backup_host")
    orch.delete(set_id=record.set_id)
    assert array.host_luns(BACKUP_IQN) == []
    assert view.fcmaps() == {}


@pytest.mark.parametrize("phase", ["prepared", "committed", "done"])
def test_abort_at_each_phase_leaves_the_array_as_before(array, view, orch, phase):
    empty = view.snapshot()
    orch.prepare("s1", [SRC1, SRC2])
    if phase != "prepared":
        orch.commit("s1")
    if phase == "done":
        orch.post_commit("s1")
    orch.abort("s1")
    assert view.snapshot() == empty
    assert orch.store.keys() == []


def test_not_enough_targets_is_3007_and_leaves_nothing(array, view, orch):
    for _ in range(4):                    # the demo's eight free targets
        orch.create([SRC1, SRC2])
    before = view.snapshot()
    with pytest.raises(VssError) as err:
        orch.create([SRC1])
    assert err.value.code == 3007
    assert view.snapshot() == before


def test_offline_source_is_512_and_changes_nothing(array, view, orch):
    array.admin("PUT", f"volumes/{SRC2}/online", {"online": False})
    before = view.snapshot()
    with pytest.raises(VssError) as err:
        orch.create([SRC1, SRC2])
    assert err.value.code == 512
    assert view.snapshot() == before


def test_unknown_lun_is_refused_before_anything(array, view, orch):
    before = view.snapshot()
    assert orch.supported([SRC1, "60050760008D89C0D0000000000000FF"]) == {
        SRC1: True, "60050760008D89C0D0000000000000FF": False}
    with pytest.raises(VssError) as err:
        orch.create([SRC1, "60050760008D89C0D0000000000000FF"])
    assert err.value.code == 201
    assert view.snapshot() == before


def test_mixing_copy_rates_in_one_cascade_is_800(array, view, make_orch):
    nocopy = make_orch("a", consumer=None, backgroundCopy=0)
    nocopy.create([SRC1])
    copying = make_orch("b", consumer=None, backgroundCopy=50)
    before = view.snapshot()
    with pytest.raises(VssError) as err:
        copying.create([SRC1])
    assert err.value.code == 800
    assert view.snapshot() == before


def test_a_target_another_host_took_is_skipped(array, view, orch):
    """Another host attached the first free target a moment ago (32816): the next one is used."""
    conn = view.conn
    vols = view.volumes()
    free = sorted(view.host_volumes()["vss_free_host"], key=lambda n: int(vols[n]["id"]))
    first = free[0]
    scs = conn.EnumerateInstanceNames("IBMTSSVC_StorageConfigurationService")[0]
    src = next(p for p in conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")
               if p.keybindings["DeviceID"] == vols["vss_src_vol2"]["id"])
    tgt = next(p for p in conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")
               if p.keybindings["DeviceID"] == vols[first]["id"])
    rc, _ = conn.InvokeMethod("AttachReplica", scs, SourceElement=src, TargetElement=tgt,
                              ElementName="other-host-map", CopyType=Uint16(4))   # Required in the MOF
    assert rc == 0
    record = orch.create([SRC1])
    assert record.shadows[0].target_uid != vols[first]["uid"]
    assert view.fcmaps()["other-host-map"][1] == first


def test_dynamic_targets_are_created_and_deleted(array, view, make_orch):
    orch = make_orch("dyn", consumer=None, storagePool="Pool0")
    before = view.snapshot()
    record = orch.create([SRC1, SRC2])
    created = [n for n in view.volumes() if n.startswith(f"vss-{record.lifecycle_id}-t")]
    assert len(created) == 2
    assert set(created) <= view.host_volumes()["vss_res_host"]
    orch.delete(set_id=record.set_id)
    assert view.snapshot() == before


def test_thin_targets_need_copy_rate_0(array, view, make_orch):
    orch = make_orch("thin", consumer=None, storagePool="ThinPool0", allocateOption="se", backgroundCopy=50)
    before = view.snapshot()
    with pytest.raises(VssError) as err:
        orch.create([SRC1])
    assert err.value.code == 800
    assert view.snapshot() == before
    orch = make_orch("thin0", consumer=None, storagePool="ThinPool0", allocateOption="se", backgroundCopy=0)
    data = fill(array, SRC1, b"sparse ")
    record = orch.create([SRC1])
    assert array.read(record.shadows[0].target_uid, 0, 4 * MiB) == data


def test_incremental_mapping_is_kept_and_reused(array, view, make_orch):
    orch = make_orch("inc", consumer=None, incrementalLC="true", backgroundCopy=100)
    first = orch.create([SRC1])
    name = first.shadows[0].fcmap_name
    orch.delete(set_id=first.set_id)
    assert name in view.fcmaps()                       # the mapping stays for next time
    target = first.shadows[0].target_uid
    data = fill(array, SRC1, b"incremental ")
    second = orch.create([SRC1])
    assert second.shadows[0].target_uid == target and second.shadows[0].fcmap_name == name
    assert array.read(target, 0, 4 * MiB) == data


def test_a_kept_incremental_mapping_still_copying_is_reused(array, view, make_orch):
    """Copy rate 1: the kept mapping is still copying the deleted copy's image when the
    next create takes it; the agent groups only a mapping that stands still."""
    orch = make_orch("inc_busy", consumer=None, incrementalLC="true", backgroundCopy=1)
    first = orch.create([SRC1])
    name = first.shadows[0].fcmap_name
    orch.delete(set_id=first.set_id)
    assert view.fcmaps()[name][2] == "copying"
    data = fill(array, SRC1, b"incremental again ")
    second = orch.create([SRC1])
    assert second.shadows[0].fcmap_name == name
    assert array.read(second.shadows[0].target_uid, 0, 4 * MiB) == data


def test_cleanup_with_nothing_broken_does_nothing(array, view, orch):
    orch.create([SRC1])
    before = view.snapshot()
    assert orch.cleanup() == []
    assert orch.cleanup() == []
    assert view.snapshot() == before


def test_request_budget_does_not_grow_with_the_set(array, orch):
    """Create: at most 10 + 2 requests per volume, in fact constant; commit 1; delete 3 + 1 per volume."""
    array.admin("POST", "clock", {"scale": PREPARE_AT_ONCE})
    orch.delete(set_id=orch.create([SRC1]).set_id)          # first use: services and paths found once
    for uids in ([SRC1], [SRC1, SRC2]):
        sent = orch.array.requests
        orch.prepare("budget", uids)
        before_commit = orch.array.requests
        orch.commit("budget")
        assert orch.array.requests - before_commit == 1
        orch.post_commit("budget")
        created = orch.array.requests - sent
        assert created <= 12 <= 10 + 2 * len(uids)
        sent = orch.array.requests
        orch.delete(set_id="budget")
        assert orch.array.requests - sent <= 3 + len(uids)
