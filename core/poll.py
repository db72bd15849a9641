"""One wait: read until done, with a deadline and a stall window, on an injected clock.

A stall is what a deadline alone cannot tell from a long job: the caller's progress
reading (a copy's percentage, a job's state and PercentComplete) has not changed for
`stall` seconds. Both end the wait with their own error, which callers turn into theirs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from core.ports import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class FuncClock:
    """A Clock from two callables, for callers injected with `clock=` and `sleep=`."""

    monotonic: Callable[[], float]
    sleep: Callable[[float], None]


@dataclass(frozen=True)
class Pending:
    """What a probe returns while not done; `progress` is what the stall window watches."""

    progress: object = None


class WaitFailed(Exception):
    def __init__(self, what: str, waited_s: float, progress: object):
        super().__init__(what)
        self.what, self.waited_s, self.progress = what, waited_s, progress


class DeadlinePassed(WaitFailed):
    """The whole wait took longer than its deadline."""


class Stalled(WaitFailed):
    """The progress reading stood still for the stall window."""


def poll_until(probe: Callable[[], T | Pending], *, clock: Clock, interval: float, what: str,
               deadline: float | None = None, stall: float | None = None,
               backoff: float = 1.0, max_interval: float | None = None) -> T:
    """probe() until it returns something other than Pending, sleeping `interval` (times
    `backoff` after each sleep, up to `max_interval`) in between; the clock is read once
    before the first probe and once after each pending one. A sleep is cut to what is
    left of the deadline or the stall window."""
    start = changed = clock.monotonic()
    last: object = None
    first = True
    while True:
        reading = probe()
        if not isinstance(reading, Pending):
            return reading
        now = clock.monotonic()
        if first or reading.progress != last:
            changed, last, first = (start if first else now), reading.progress, False
        left = [interval]
        if deadline is not None:
            if now - start >= deadline:
                raise DeadlinePassed(what, now - start, last)
            left.append(start + deadline - now)
        if stall is not None:
            if now - changed >= stall:
                raise Stalled(what, now - changed, last)
            left.append(changed + stall - now)
        clock.sleep(min(left))
        interval *= backoff
        if max_interval is not None:
            interval = min(interval, max_interval)
