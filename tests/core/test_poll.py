"""poll_until on a fake clock: time moves only when it sleeps, so nothing really waits."""
from __future__ import annotations

import pytest

from core.poll import DeadlinePassed, FuncClock, Pending, Stalled, poll_until
from tests.support.clock import FakeClock


def readings(*values):
    """A probe answering Pending(value) for each value in turn, then "done"."""
    queue = list(values)
    return lambda: Pending(queue.pop(0)) if queue else "done"


def test_returns_what_the_probe_gives_once_it_is_not_pending():
    clock = FakeClock()
    assert poll_until(readings(1, 1), clock=clock, interval=2, deadline=60, what="x") == "done"
    assert clock.sleeps == [2, 2]


def test_done_at_once_does_not_sleep():
    clock = FakeClock()
    assert poll_until(lambda: 0, clock=clock, interval=2, what="x") == 0   # a falsy value is done too
    assert clock.sleeps == []


def test_the_deadline_ends_the_wait_and_cuts_the_last_sleep():
    clock = FakeClock()
    with pytest.raises(DeadlinePassed) as err:
        poll_until(lambda: Pending(clock.now), clock=clock, interval=2, deadline=5, stall=3, what="disk")
    assert sum(clock.sleeps) == 5 and clock.sleeps[-1] == 1        # 2, 2, then what is left
    assert err.value.what == "disk" and err.value.waited_s == 5    # moving progress: no stall


def test_a_reading_that_stands_still_is_a_stall_not_a_deadline():
    clock = FakeClock()
    with pytest.raises(Stalled) as err:
        poll_until(readings(*[7] * 100), clock=clock, interval=10, deadline=600, stall=30, what="copy")
    assert not isinstance(err.value, DeadlinePassed)
    assert sum(clock.sleeps) == 30 and err.value.progress == 7 and err.value.waited_s == 30


def test_progress_starts_the_stall_window_again():
    clock = FakeClock()
    # 7 for 20 s, then 8 for 20 s, then 9 for 20 s: never 30 s on one value
    values = [7, 7, 7, 8, 8, 9, 9]
    assert poll_until(readings(*values), clock=clock, interval=10, stall=30, what="copy") == "done"
    assert sum(clock.sleeps) == 70

    clock = FakeClock()
    with pytest.raises(Stalled) as err:
        poll_until(readings(7, 7, 8, 8, 8, 8, 8), clock=clock, interval=10, stall=30, what="copy")
    assert err.value.progress == 8 and clock.now - 1000 == 50    # 8 first seen at 20 s


def test_without_a_deadline_only_a_stall_ends_it():
    clock = FakeClock()
    values = list(range(1000))                                    # always moving: 10 000 s
    assert poll_until(readings(*values), clock=clock, interval=10, stall=30, what="copy") == "done"
    assert sum(clock.sleeps) == 10_000


def test_backoff_grows_the_interval_up_to_its_maximum():
    clock = FakeClock()
    poll_until(readings(*[None] * 6), clock=clock, interval=0.05, backoff=2, max_interval=0.5, what="task")
    assert clock.sleeps == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5]


def test_a_probe_error_goes_through():
    def probe():
        raise KeyError("gone")
    with pytest.raises(KeyError):
        poll_until(probe, clock=FakeClock(), interval=1, deadline=5, what="x")


def test_callables_make_a_clock():
    clock = FakeClock()
    assert poll_until(readings(1), clock=FuncClock(clock.monotonic, clock.sleep), interval=3, what="x") == "done"
    assert clock.sleeps == [3]
