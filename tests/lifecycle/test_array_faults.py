"""Array faults at every array call of create and delete: a failure return code, a reply
cut off after the array did the work, or a reply later than cimomTimeout. Each run ends
with the manual's code (or success), and after cleanup nothing is leaked: the array is as
before, or holds the finished shadow copy."""
from __future__ import annotations

import os

import pytest

from core.errors import MESSAGES, VssError

from .conftest import SRC1, SRC2, assert_clean_after_cleanup, fill, try_create


def calls_of(array, orch, fn) -> int:
    sent = orch.array.requests
    fn()
    return orch.array.requests - sent


@pytest.mark.parametrize("action", ["fail", "drop"])
def test_create_with_a_fault_at_each_call(array, view, make_orch, action):
    orch = make_orch("f", consumer=None)
    fill(array, SRC1, b"src1 ")
    fill(array, SRC2, b"src2 ")
    baseline = view.snapshot()
    total = calls_of(array, orch, lambda: orch.delete(set_id=orch.create([SRC1, SRC2]).set_id))
    assert view.snapshot() == baseline
    codes = []
    for nth in range(1, total + 1):
        fresh = make_orch(f"f{nth}", consumer=None)          # a new process: no cached paths
        array.faults([{"method": "*", "action": action, "nth": nth, "count": 1, "rc": 4}])
        outcome = try_create(fresh, [SRC1, SRC2])
        array.clear_faults()
        assert_clean_after_cleanup(array, fresh, view, baseline, outcome, f"fault at call {nth}: {outcome}")
        codes.append(outcome)
    print(f"\n{action}: {len(codes)} fault points, outcomes {sorted(set(map(str, codes)))}")
    assert any(c != "created" for c in codes)


@pytest.mark.parametrize("action", ["fail", "drop"])
def test_delete_with_a_fault_at_each_call(array, view, make_orch, action):
    fill(array, SRC1, b"src1 ")
    baseline = view.snapshot()
    probe = make_orch("p", consumer=None)
    total = calls_of(array, probe, lambda: probe.delete(set_id=probe.create([SRC1, SRC2]).set_id))
    for nth in range(1, total + 1):
        orch = make_orch(f"d{nth}", consumer=None)
        orch.create([SRC1, SRC2], set_id="s")
        with_set = view.snapshot()
        again = make_orch(f"d{nth}", consumer=None)
        array.faults([{"method": "*", "action": action, "nth": nth, "count": 1, "rc": 4}])
        try:
            again.delete(set_id="s")
        except VssError as err:
            assert err.code in MESSAGES
        array.clear_faults()
        again.cleanup()
        if again.sets():          # refused before anything changed: the set is whole
            assert view.snapshot() == with_set, f"fault at call {nth}"
            again.delete(set_id="s")
        assert view.snapshot() == baseline, f"fault at call {nth}"


LONG = os.environ.get("VSSORCH_LONG") == "1"
CREATE_CALLS = 16          # requests of a 2-volume create by a new process
SLOW_POINTS = ([("*", n) for n in range(1, CREATE_CALLS + 1)] if LONG else
               [("CreateSynchronizedSet", 1), ("AttachReplicas", 1), ("ModifySynchronizedSet", 1),
                ("ModifySynchronizedSet", 2)])


@pytest.mark.parametrize("method,nth", SLOW_POINTS, ids=[f"{m}-{n}" for m, n in SLOW_POINTS])
def test_create_with_a_reply_later_than_the_timeout(array, view, make_orch, method, nth):
    """The array does the work but answers after cimomTimeout: the client cannot know the
    outcome. The create ends with the manual's code or succeeds; cleanup leaves the
    array as before or with the finished shadow copy."""
    fill(array, SRC1, b"src1 ")
    fill(array, SRC2, b"src2 ")
    baseline = view.snapshot()
    orch = make_orch("slow", consumer=None, cimomTimeout=1000)
    array.faults([{"method": method, "action": "delay", "nth": nth, "count": 1, "seconds": 2.5}])
    outcome = try_create(orch, [SRC1, SRC2])
    assert array.admin("GET", "faults")["seen"].get(method.lower(), 0) >= nth, "the slow request never came"
    array.clear_faults()
    print(f"\nreply after the timeout at {method} #{nth}: {outcome}")
    assert_clean_after_cleanup(array, make_orch("slow", consumer=None), view, baseline, outcome,
                               f"{method} #{nth}: {outcome}")


def test_a_lost_reply_to_attach_replicas_is_resolved_by_reading_the_array(array, view, make_orch):
    """AttachReplicas did its work but the reply was cut: the create reads its mappings
    by name and goes on instead of rolling back a copy the array made."""
    fill(array, SRC1, b"src1 ")
    orch = make_orch("lost", consumer=None)
    array.faults([{"method": "AttachReplicas", "action": "drop", "nth": 1, "count": 1}])
    record = orch.create([SRC1, SRC2], set_id="s")
    assert array.admin("GET", "faults")["seen"]["attachreplicas"] == 1      # sent once, not repeated
    assert sorted(view.fcmaps()) == sorted(s.fcmap_name for s in record.shadows)
    for s in record.shadows:
        assert array.read(s.target_uid, 0, 1 << 20) == array.read(s.source_uid, 0, 1 << 20)
