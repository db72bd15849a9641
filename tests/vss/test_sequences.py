"""Full VSS sequences through the service against the embedded array: what VSS calls, in
its order, and what the array and the volumes' bytes look like afterwards."""
from __future__ import annotations

import uuid

import pytest

from orchestrator.cli.shadow import CallFailed, Requestor
from orchestrator.vss_luns import LunChange
from orchestrator.vss_types import Attr, LunInfo

from tests.support.data import fill, MiB
from tests.support.demo import BACKUP_IQN, HOST_IQN, SRC1, SRC2
from tests.support.service import client_of

PERSISTENT = int(Attr.PERSISTENT | Attr.NO_AUTO_RELEASE)


def lun(uid: str) -> dict:
    return LunInfo.for_uid(uid).to_json()


def test_non_transportable_create_is_surfaced_on_this_host(requestor, array, view):
    before = fill(array, SRC1, b"before-commit", MiB)
    res = requestor.create([SRC1, SRC2])
    fill(array, SRC1, b"after-commit!", MiB)
    assert res["array_requests"]["CommitSnapshots"] == 1
    assert 0 < res["hold_ms"] <= res["frozen_ms"] <= res["create_ms"]
    targets = [t["serial"] for t in res["targets"]]
    assert all(t["identifiers"][0]["id"] == t["serial"] for t in res["targets"])
    mapped = view.host_volumes()
    names = {v["uid"]: n for n, v in view.volumes().items()}
    assert {names[t] for t in targets} <= mapped["vss_iscsi_host"]
    assert not {names[t] for t in targets} & mapped["vss_free_host"]
    # the shadow copy holds the point in time, read by this host through its own path
    assert array.host_read(HOST_IQN, targets[0], 0, MiB) == before
    [listed] = requestor.sets(res["set_id"])
    assert sorted(s["snapshot_id"] for s in listed["shadows"]) == sorted(res["snapshot_ids"])
    assert listed["persistent"] and not listed["transportable"]


def test_transportable_is_imported_on_a_second_host(service, requestor, array, view, start_service):
    data = fill(array, SRC2, b"transport-me", MiB)
    res = requestor.create([SRC2], transportable=True)
    target = res["targets"][0]["serial"]
    name = next(n for n, v in view.volumes().items() if v["uid"] == target)
    assert name in view.host_volumes()["vss_res_host"]
    assert "LocateLuns" not in res["array_requests"]          # not surfaced where created
    # the backup server's service imports with exactly the LUN information GetTargetLuns gave
    # one service per state folder (its lock): the backup host's service follows this one
    service.stop()
    other = start_service(host_name="backup_host")
    backup = Requestor(client_of(other))
    assert backup.import_(res["targets"]) == [target]
    assert name in view.host_volumes()["backup_host"]
    assert array.host_read(BACKUP_IQN, target, 0, MiB) == data
    [listed] = backup.sets(res["set_id"])
    assert listed["imported_by"]


def test_delete_gives_targets_back(requestor, array, view):
    start = view.snapshot()
    res = requestor.create([SRC1, SRC2])
    assert view.snapshot() != start
    deleted = requestor.delete(set_id=res["set_id"])
    assert len(deleted) == 2
    assert view.snapshot() == start
    assert requestor.sets() == []


def test_resync_copies_the_shadow_copy_back(requestor, array):
    old = fill(array, SRC1, b"good-data", MiB)
    res = requestor.create([SRC1])
    fill(array, SRC1, b"corrupted", MiB)
    requestor.resync(res["snapshot_ids"][0])
    assert array.read(SRC1, 0, MiB) == old


def test_unexpose_and_expose_again(requestor, view):
    res = requestor.create([SRC1])
    target = res["targets"][0]["serial"]
    name = next(n for n, v in view.volumes().items() if v["uid"] == target)
    assert requestor.unexpose(res["snapshot_ids"][0]) == [target]
    assert name not in view.host_volumes()["vss_iscsi_host"]
    assert requestor.expose(res["snapshot_ids"][0]) == [target]
    assert name in view.host_volumes()["vss_iscsi_host"]


STEPS = ["BeginPrepareSnapshot", "EndPrepareSnapshots", "PreCommitSnapshots", "CommitSnapshots",
         "PostCommitSnapshots", "PostFinalCommitSnapshots"]


# after PostFinalCommitSnapshots the set is finished: an abort keeps it (test_recovery_states)
@pytest.mark.parametrize("last", STEPS[:-1])
def test_abort_at_every_phase_leaves_the_array_as_before(client, view, last):
    start = view.snapshot()
    set_id = f"{{{uuid.uuid4()}}}"
    for uid in (SRC1, SRC2):
        assert client.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id=str(uuid.uuid4()),
                           context=PERSISTENT, luns=[lun(uid)])["ok"]
    for step in STEPS[1:STEPS.index(last) + 1]:
        args = {"snapshots_count": 2} if step == "PostCommitSnapshots" else {}
        assert client.call(step, set_id=set_id, **args)["ok"]
    reply = client.call("AbortSnapshots", set_id=set_id)
    assert reply["ok"], reply
    assert view.snapshot() == start
    assert client.call("AbortSnapshots", set_id=set_id)["ok"]        # again: harmless
    assert client.call("ListSnapshots")["result"]["sets"] == []


def test_out_of_order_and_unknown_sets_change_nothing(client, view):
    start = view.snapshot()
    set_id = "{00000000-0000-0000-0000-000000000001}"
    assert client.call("CommitSnapshots", set_id=set_id)["hresult"] == "VSS_E_OBJECT_NOT_FOUND"
    assert client.call("AbortSnapshots", set_id=set_id)["hresult"] == "VSS_E_OBJECT_NOT_FOUND"
    assert client.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id="s1", context=PERSISTENT,
                       luns=[lun(SRC1)])["ok"]
    for call in ("PreCommitSnapshots", "CommitSnapshots", "PostFinalCommitSnapshots"):
        reply = client.call(call, set_id=set_id)
        assert reply["hresult"] == "VSS_E_BAD_STATE", reply
        assert reply["array_requests"] == 0
    assert client.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id="s2", context=PERSISTENT | 0x20,
                       luns=[lun(SRC2)])["hresult"] == "VSS_E_BAD_STATE"       # another context
    assert client.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id="s3", context=PERSISTENT,
                       luns=[lun(SRC1)])["hresult"] == "VSS_E_PROVIDER_VETO"   # same LUN twice
    assert client.call("EndPrepareSnapshots", set_id=set_id)["ok"]
    assert client.call("PostCommitSnapshots", set_id=set_id, snapshots_count=1)["hresult"] == "VSS_E_BAD_STATE"
    assert client.call("AbortSnapshots", set_id=set_id)["ok"]
    assert view.snapshot() == start


def test_unsupported_luns(client, view):
    start = view.snapshot()
    foreign = "60050760008D89C0D0000000000000FF"
    vhd = {**lun(SRC1), "vendor": "Msft", "product": "Virtual Disk", "bus_type": "filebackedvirtual"}
    reply = client.call("AreLunsSupported", context=0, luns=[lun(SRC1), lun(foreign)], device_names=["D:", "E:"])
    assert reply["ok"] and reply["result"] == {"supported": False, "reasons": {"E:": "not a volume of this array"}}
    assert reply["array_requests"] == 1
    assert client.call("AreLunsSupported", context=0, luns=[vhd])["result"]["supported"] is False
    assert client.call("AreLunsSupported", context=0x80000, luns=[lun(SRC1)])["result"]["supported"] is False
    assert client.call("AreLunsSupported", context=PERSISTENT, luns=[lun(SRC1), lun(SRC2)])["result"]["supported"]
    bad = client.call("BeginPrepareSnapshot", set_id="x", snapshot_id="s", context=0, luns=[vhd])
    assert bad["hresult"] == "VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER"
    assert client.call("BeginPrepareSnapshot", set_id="y", snapshot_id="s", context=0, luns=[lun(foreign)])["ok"]
    end = client.call("EndPrepareSnapshots", set_id="y")
    assert end["hresult"] == "VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER" and end["code"] == 201
    fill_in = client.call("FillInLunInfo", device_name="E:", lun=lun(foreign))["result"]
    assert fill_in["supported"] is False
    mine = client.call("FillInLunInfo", device_name="D:", lun=lun(SRC1))["result"]
    assert mine["supported"] and mine["lun"]["serial"] == SRC1 and mine["volume"] == "vss_src_vol"
    assert view.snapshot() == start


def test_no_free_target_is_insufficient_storage(client, view, array):
    # the demo array has 8 spare targets: a 9th source cannot get one
    start = view.snapshot()
    reply = client.call("BeginPrepareSnapshot", set_id="s", snapshot_id="a", context=0, luns=[lun(SRC1)])
    assert reply["ok"]
    sets = []
    for _ in range(4):
        r = Requestor(client)
        sets.append(r.create([SRC1, SRC2])["set_id"])
    with pytest.raises(CallFailed) as err:
        Requestor(client).create([SRC1])
    assert err.value.reply["hresult"] == "VSS_E_INSUFFICIENT_STORAGE" and err.value.code == 3007
    for s in sets:
        Requestor(client).delete(set_id=s)
    assert client.call("AbortSnapshots", set_id="s")["ok"]
    assert view.snapshot() == start


def test_lun_state_change_flags(client, requestor):
    res = requestor.create([SRC1])
    t = res["targets"]
    assert client.call("OnLunStateChange", snapshot_luns=t, flags=LunChange.NOTIFY_READ_WRITE)["result"] == {"masked": []}
    assert client.call("OnLunStateChange", snapshot_luns=t, flags=0x1)["hresult"] == "E_INVALIDARG"
    assert client.call("OnLunStateChange", snapshot_luns=t, flags=LunChange.DO_MASK_LUNS)["result"]["masked"] == [t[0]["serial"]]


def test_an_unreachable_array_is_a_veto_with_the_manuals_code(client, array):
    array.stop()
    reply = client.call("AreLunsSupported", context=0, luns=[lun(SRC1)])
    assert reply["hresult"] == "VSS_E_PROVIDER_VETO" and reply["code"] in (3002, 911), reply
