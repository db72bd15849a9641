"""The mapping state table (simulator/flashcopy_states.py) is what the engine runs: each
request in each state is taken exactly when the table has a row for it and ends in that
row's state; without one it is refused with the device code of the CLI's message for
that state, as before the table, and nothing changes."""
from __future__ import annotations

import pytest

from simulator import flashcopy_states as fs
from simulator import returncodes as rc
from simulator.flashcopy import PREPARE_SECONDS
from simulator.returncodes import ArrayError

from tests.support.fcengine import N, refused

# request -> the engine call that makes it (g: a consistency group)
REQUESTS = {
    "prepare": lambda fc, m, g: fc.prepare_mapping(m),
    "prepare_start": lambda fc, m, g: fc.start_mapping(m, prepare=True),
    "start": lambda fc, m, g: fc.start_mapping(m),
    "unprepare": lambda fc, m, g: fc.unprepare_mapping(m),
    "stop": lambda fc, m, g: fc.stop_mapping(m),
    "force_stop": lambda fc, m, g: fc.stop_mapping(m, force=True),
    "delete": lambda fc, m, g: fc.delete_mapping(m),
    "force_delete": lambda fc, m, g: fc.delete_mapping(m, force=True),
    "join_group": lambda fc, m, g: fc.add_to_group(g, m),
}
# the CLI verb whose message (returncodes.FC_REFUSED) a refused request gets; unprepare
# has none (INVALID_STATE)
VERB = {"prepare": "prepare", "prepare_start": "start", "start": "start", "stop": "stop",
        "force_stop": "stop", "delete": "delete", "force_delete": "delete", "join_group": "modify"}


def in_state(array, state: str) -> int:
    """A mapping in `state` that stays there while the clock stands still: copying and
    stopping ones have an older mapping below them to clean into."""
    fc = array.fc
    s, t1, t2 = array.volume(), array.volume(), array.volume()
    if state in (fs.COPYING, fs.STOPPING):
        array.snapshot(s, t1, grain_size=64)
        m = array.snapshot(s, t2, grain_size=64, clean_rate=1)
        fc.write(s, 0, b"x" * N)                 # every grain goes to t2, t1 reads through it
        if state == fs.STOPPING:
            fc.stop_mapping(m)                   # cleaning into t1 takes 4 s
        return m
    m = fc.create_mapping(s, t1, copy_rate=0)
    if state != fs.IDLE:
        fc.prepare_mapping(m)
        if state != fs.PREPARING:
            array.clock.tick(PREPARE_SECONDS)
            if state == fs.STOPPED:
                fc.stop_mapping(m)
    return m


@pytest.mark.parametrize("state", fs.STATES)
@pytest.mark.parametrize("request_", REQUESTS)
def test_each_request_in_each_state_follows_the_table(array, state, request_):
    fc = array.fc
    m = in_state(array, state)
    g = fc.create_group()
    before = fc.mapping(m)
    assert before.state == state
    # the engine's own choice: a forced start of a prepared mapping is its start, a forced
    # delete of an idle one its delete
    row = {("prepare_start", fs.PREPARED): "start", ("force_delete", fs.IDLE): "delete"}.get(
        (request_, state), request_)
    dest = fs.TRANSITIONS.get((state, row))
    if dest is None:
        refused(rc.FC_REFUSED.get((VERB.get(request_), state), rc.INVALID_STATE), REQUESTS[request_], fc, m, g)
        assert fc.mapping(m) == before
    else:
        REQUESTS[request_](fc, m, g)
        if dest == fs.DELETED:
            refused(rc.INVALID_PARAMETER, fc.mapping, m)
        else:
            assert fc.mapping(m).state == dest


def test_the_events_follow_the_table(array):
    fc, clock = array.fc, array.clock
    m = in_state(array, fs.PREPARING)
    clock.tick(PREPARE_SECONDS)
    assert fc.mapping(m).state == fs.TRANSITIONS[(fs.PREPARING, "flushed")]
    s, t = array.volume(), array.volume()
    auto = fc.create_mapping(s, t, copy_rate=100, autodelete=True)
    fc.start_mapping(auto, prepare=True)
    clock.tick(PREPARE_SECONDS)
    assert fc.mapping(auto).state == fs.TRANSITIONS[(fs.PREPARING, "flushed_start")]
    clock.tick(60)                               # copied, then autodeleted
    assert fs.TRANSITIONS[(fs.COPYING, "copied")] == fs.IDLE
    assert fs.TRANSITIONS[(fs.IDLE, "autodeleted")] == fs.DELETED
    assert all(v.id != auto for v in fc.list_mappings())
    m = in_state(array, fs.STOPPING)
    clock.tick(5)
    assert fc.mapping(m).state == fs.TRANSITIONS[(fs.STOPPING, "cleaned")]


def test_a_row_taken_out_of_the_table_is_refused(array, monkeypatch):
    """The engine asks the table, not a copy of it."""
    m = in_state(array, fs.IDLE)
    monkeypatch.delitem(fs.TRANSITIONS, (fs.IDLE, "prepare"))
    with pytest.raises(ArrayError) as e:
        array.fc.prepare_mapping(m)
    assert e.value.rc == rc.INVALID_STATE and array.fc.mapping(m).state == fs.IDLE


def test_one_row_per_state_and_trigger_and_only_known_states():
    assert len(fs.TRANSITIONS) == len(fs.MOVES)
    known = {*fs.STATES, fs.DELETED}
    assert all(m.source in fs.STATES and m.dest in known for m in fs.MOVES)
    assert set(fs.EVENT.values()) <= {m.trigger for m in fs.MOVES if m.event}


def test_a_member_leaves_its_group_only_standing_still(array):
    fc = array.fc
    s, t = array.volume(), array.volume()
    m = fc.create_mapping(s, t, copy_rate=0)
    g = fc.create_group()
    fc.add_to_group(g, m)
    fc.start_group(g, prepare=True)
    array.clock.tick(PREPARE_SECONDS)
    assert fc.mapping(m).state == fs.COPYING and (fs.COPYING, "leave_group") not in fs.TRANSITIONS
    refused(rc.INVALID_STATE, fc.remove_from_group, g, m)
    assert fc.mapping(m).group_id == g
    fc.stop_group(g, force=True)
    assert fc.mapping(m).state == fs.STOPPED and (fs.STOPPED, "leave_group") in fs.TRANSITIONS
    fc.remove_from_group(g, m)
    assert fc.mapping(m).group_id is None
