"""The service's phase files against what recovery did to the sets: a set rolled back
while the service was down, an abort after the set is finished, phase files of sets
that are gone, sources that are not this host's, and a cascade restore (manual 5.1)."""
from __future__ import annotations

import uuid

from orchestrator.cli.shadow import CallFailed, Requestor
from orchestrator.vss_types import Attr, LunInfo

from tests.support.data import fill, MiB
from tests.support.demo import SRC1
from tests.support.service import client_of

PERSISTENT = int(Attr.PERSISTENT | Attr.NO_AUTO_RELEASE)


def lun(uid: str) -> dict:
    return LunInfo.for_uid(uid).to_json()


def prepared(client, uid: str = SRC1) -> str:
    set_id = f"{{{uuid.uuid4()}}}"
    assert client.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id="a", context=PERSISTENT,
                       luns=[lun(uid)])["ok"]
    assert client.call("EndPrepareSnapshots", set_id=set_id)["ok"]
    return set_id


def phase_files(svc) -> list[str]:
    return svc.provider.book.files.keys()


def test_a_set_rolled_back_while_the_service_was_down_is_bad_state(start_service, view):
    start = view.snapshot()
    svc = start_service()
    set_id = prepared(client_of(svc))
    svc.stop()
    fresh = client_of(start_service())                 # its cleanup rolls the set back
    assert view.snapshot() == start
    for call in ("PreCommitSnapshots", "CommitSnapshots"):
        reply = fresh.call(call, set_id=set_id)
        assert reply["hresult"] == "VSS_E_BAD_STATE", reply
    assert fresh.call("AbortSnapshots", set_id=set_id)["ok"]
    assert view.snapshot() == start


def test_a_set_cleaned_up_by_another_process_is_bad_state_at_its_next_callback(service, client, view):
    start = view.snapshot()
    set_id = prepared(client)
    assert client.call("PreCommitSnapshots", set_id=set_id)["ok"]
    orch = service.provider.orch
    orch.abort(set_id)                                  # as `vssorch cleanup` would, behind VSS's back
    reply = client.call("CommitSnapshots", set_id=set_id)
    assert reply["hresult"] == "VSS_E_BAD_STATE" and reply["array_requests"] == 0, reply
    assert view.snapshot() == start


def test_abort_after_post_final_commit_keeps_the_persistent_copy(requestor, client, array, view):
    image = fill(array, SRC1, b"keep me ", MiB)
    res = requestor.create([SRC1])
    after = view.snapshot()
    reply = client.call("AbortSnapshots", set_id=res["set_id"])
    assert reply["ok"] and reply["result"]["phase"] == "final" and reply["array_requests"] == 0
    assert view.snapshot() == after
    [listed] = requestor.sets(res["set_id"])
    assert array.read(listed["shadows"][0]["target_uid"], 0, MiB) == image[:MiB]


def test_phase_files_of_finished_sets_go(start_service, view):
    svc = start_service()
    client, requestor = client_of(svc), Requestor(client_of(svc))
    aborted = prepared(client)
    assert client.call("AbortSnapshots", set_id=aborted)["ok"]
    done = requestor.create([SRC1])
    svc.provider.orch.delete(set_id=done["set_id"])     # deleted outside VSS (batch, cleanup)
    kept = requestor.create([SRC1])
    assert len(phase_files(svc)) == 3
    svc.stop()
    again = start_service()
    assert phase_files(again) == [again.provider.book._key(kept["set_id"])]


def test_a_volume_of_another_host_is_unsupported_before_anything_changes(requestor, view):
    start = view.snapshot()
    other = view.uid("vss_target_vol")                 # on the free host, not this one
    try:
        requestor.create([other])
        raise AssertionError("created a shadow copy of another host's volume")
    except CallFailed as exc:
        assert exc.code == 201 and exc.reply["hresult"] == "VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER"
        assert "vss_target_vol" in exc.reply["error"] and "\n" not in exc.reply["error"]
    assert view.snapshot() == start and requestor.sets() == []


def test_a_cascade_restore_reports_300_with_the_copies_it_deleted(requestor, array):
    images, made = [], []
    for i in range(3):          # backgroundCopy 0 (the fixture's configuration): one cascade
        images.append(fill(array, SRC1, f"image{i} ".encode(), MiB))
        made.append(requestor.create([SRC1]))
    shadow_of = {s["snapshot_id"]: s["shadow_id"] for r in requestor.sets() for s in r["shadows"]}
    snap = [LunInfo.for_uid(made[1]["targets"][0]["serial"]).to_json()]
    result = requestor.call("ResyncLuns", source_luns=snap, target_luns=[lun(SRC1)])
    assert result["code"] == 300 and "cascaded" in result["message"]
    assert result["cascaded"] == [shadow_of[made[2]["snapshot_ids"][0]]]
    assert sorted(result["removed"]) == sorted(shadow_of[m["snapshot_ids"][0]] for m in made[1:])
    assert array.read(SRC1, 0, MiB) == images[1][:MiB]
    assert [r["set_id"] for r in requestor.sets()] == [made[0]["set_id"]]
