"""Simulated time for the FlashCopy engine, at a cost independent of how many
mappings are copying.

Each mapping's next event (prepare flushed, copy complete, cleaning finished) sits in
a heap keyed by the array's clock; a request pops only the events that are due.
Background copy is not moved every request: a copying mapping's `held` and
`copy_time` say what it had copied at copy_time, and since it copies its lowest
missing grains at a steady rate, what it holds at any later time follows from them
(`held_at`). The grains are moved into the target (`settle`) only before something
else changes that mapping's bitmap or place in its chain (a write to its volumes, a
stop, its own or its upstream neighbour's event, a rate change), so that the
grains it copies are exactly those it would have copied step by step; reading a
volume needs no settling, as a grain not yet moved reads the same through the chain.
"""
from __future__ import annotations

import heapq
import itertools
from collections import Counter

from .cascade import Cascade, grain_count, lowest_grains
from .flashcopy_rules import copy_speed
from .flashcopy_states import COPYING, PREPARING, STOPPING
from .flashcopy_store import MapRecord
from .voldata import CHUNK


class Timeline:
    def __init__(self, casc: Cascade, work: Counter):
        self._casc = casc
        self._work = work       # mappings settled and scheduled: the cost test counts them
        self._heap: list[tuple[float, int, int]] = []     # (time, mapping id, entry)
        self._entry: dict[int, tuple[float, int]] = {}    # mapping id -> its live entry
        self._seq = itertools.count()

    # ------------------------------------------------------------ background copy
    def _due(self, m: MapRecord, until: float) -> tuple[int, int]:
        """(mask, count) of the grains m's background copy adds from copy_time to until."""
        if m.state != COPYING or not m.copy_rate:
            return 0, 0
        due = int((until - m.copy_time) / _grain_time(m))
        missing = m.missing()
        if due <= 0 or not missing:
            return 0, 0
        due = min(due, grain_count(missing, m.cpg, m.nchunks))
        return lowest_grains(missing, due, m.cpg, m.nchunks), due

    def held_at(self, m: MapRecord, t: float) -> int:
        """The grains m's target holds at t (t not before its last settling)."""
        return m.held | self._due(m, t)[0]

    def settle(self, m: MapRecord | None, until: float) -> None:
        """Move the grains m's background copy has copied by `until` into its target."""
        if m is None:
            return
        mask, due = self._due(m, until)
        if due:
            self._work["settled"] += 1
            self._casc.fill(m, mask)
            m.copy_time += due * _grain_time(m)

    # ------------------------------------------------------------ events
    def schedule(self, m: MapRecord, now: float) -> None:
        """(Re)compute m's next event after anything about it changed."""
        self._work["scheduled"] += 1
        at = self._event_time(m, now)
        entry = self._entry.get(m.id)
        if at is None:
            self._entry.pop(m.id, None)
        elif entry is None or entry[0] != at:
            seq = next(self._seq)
            self._entry[m.id] = (at, seq)
            heapq.heappush(self._heap, (at, m.id, seq))

    def drop(self, map_id: int) -> None:
        self._entry.pop(map_id, None)

    def pop_due(self, now: float) -> tuple[float, int] | None:
        """The earliest event due by now (ties: lowest mapping id), taken off the heap."""
        while self._heap:
            at, map_id, seq = self._heap[0]
            if self._entry.get(map_id) != (at, seq):
                heapq.heappop(self._heap)          # superseded or dropped
                continue
            if at > now:
                return None
            heapq.heappop(self._heap)
            del self._entry[map_id]
            return at, map_id
        return None

    def _event_time(self, m: MapRecord, now: float) -> float | None:
        if m.state in (PREPARING, STOPPING):
            return m.until
        if m.state != COPYING:
            return None
        if m.complete():
            # Copied, but older targets reading through it keep it copying at 100% (as
            # SVC does) rather than being filled up by it.
            if self._casc.downstream(m.target_id) is not None:
                return None
            return m.copy_time if m.copy_rate else now
        if not m.copy_rate:
            return None
        left = grain_count(m.missing(), m.cpg, m.nchunks)
        return m.copy_time + left * _grain_time(m)


def _grain_time(m: MapRecord) -> float:
    return m.cpg * CHUNK / copy_speed(m.copy_rate)
