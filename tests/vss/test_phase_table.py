"""The phase table (orchestrator/vss_phases.py) is the order the provider runs: a creation
call the table has no row for in the set's phase is refused with VSS_E_BAD_STATE, sends
no array request and leaves the phase as it was; a call it has a row for moves the set to
that row's phase."""
from __future__ import annotations

import pytest

from orchestrator import vss_phases
from orchestrator.vss_book import PhaseBook
from orchestrator.vss_phases import STEPS, Phase, SnapshotSet, accepts
from orchestrator.vss_types import Attr, LunInfo, VssFault

from tests.support.demo import SRC1, SRC2

PERSISTENT = int(Attr.PERSISTENT | Attr.NO_AUTO_RELEASE)
SET_ID = "{00000000-0000-0000-0000-0000000000a1}"
CALLS = ["BeginPrepareSnapshot", "EndPrepareSnapshots", "PreCommitSnapshots", "CommitSnapshots",
         "PostCommitSnapshots", "PreFinalCommitSnapshots", "PostFinalCommitSnapshots"]


def args(call: str, uid: str = SRC2) -> dict:
    if call == "BeginPrepareSnapshot":
        return {"snapshot_id": f"snap-{uid}", "context": PERSISTENT, "luns": [LunInfo.for_uid(uid).to_json()]}
    return {"snapshots_count": 1} if call == "PostCommitSnapshots" else {}


def test_every_call_out_of_order_is_refused_and_changes_nothing(client, view):
    start = view.snapshot()
    assert client.call("BeginPrepareSnapshot", set_id=SET_ID, **args("BeginPrepareSnapshot", SRC1))["ok"]
    here = Phase.PREPARING
    for forward in CALLS[1:]:
        for call in CALLS:
            if accepts(here, call):
                continue
            reply = client.call(call, set_id=SET_ID, **args(call))
            assert reply["hresult"] == "VSS_E_BAD_STATE" and reply["array_requests"] == 0, (here, call, reply)
            assert f"in phase {here.value}" in reply["error"], reply
        reply = client.call(forward, set_id=SET_ID, **args(forward))
        assert reply["ok"], (here, forward, reply)
        here = next(s.dest for s in STEPS if s.source is here and s.trigger == forward)
        assert reply["result"]["phase"] == here.value
    assert here is Phase.FINAL
    assert client.call("AbortSnapshots", set_id=SET_ID)["result"]["phase"] == "final"    # kept
    assert len(view.snapshot()["fcmaps"]) == len(start["fcmaps"]) + 1


def test_after_an_abort_only_the_abort_is_taken(client, view):
    start = view.snapshot()
    assert client.call("BeginPrepareSnapshot", set_id=SET_ID, **args("BeginPrepareSnapshot"))["ok"]
    assert client.call("EndPrepareSnapshots", set_id=SET_ID)["ok"]
    assert client.call("AbortSnapshots", set_id=SET_ID)["result"]["phase"] == "aborted"
    for call in CALLS:
        reply = client.call(call, set_id=SET_ID, **args(call))
        assert reply["hresult"] == "VSS_E_BAD_STATE" and reply["array_requests"] == 0, (call, reply)
    assert client.call("AbortSnapshots", set_id=SET_ID)["result"]["phase"] == "aborted"
    assert view.snapshot() == start


def test_the_book_asks_the_table_not_a_copy_of_it(tmp_path, monkeypatch):
    book = PhaseBook(tmp_path)
    book.save(SnapshotSet(SET_ID, PERSISTENT, Phase.PREPARED, {"s": SRC1}))
    assert book.step(SET_ID, "PreCommitSnapshots", exists=lambda _: True).phase is Phase.PREPARED
    monkeypatch.delitem(vss_phases._DEST, (Phase.PREPARED, "PreCommitSnapshots"))
    with pytest.raises(VssFault) as e:
        book.step(SET_ID, "PreCommitSnapshots", exists=lambda _: True)
    assert e.value.hr.name == "VSS_E_BAD_STATE"
    assert book.load(SET_ID).phase is Phase.PREPARED


def test_a_set_whose_lifecycle_is_gone_is_rolled_back_by_the_table(tmp_path):
    book = PhaseBook(tmp_path)
    book.save(SnapshotSet(SET_ID, PERSISTENT, Phase.COMMITTED, {"s": SRC1}))
    with pytest.raises(VssFault) as e:
        book.step(SET_ID, "PostCommitSnapshots", exists=lambda _: False)
    assert e.value.hr.name == "VSS_E_BAD_STATE"
    assert book.load(SET_ID).phase is Phase.ABORTED       # the table's rolled_back row, on disk
