"""The FlashCopy mapping state table: SVC's mapping states (lsfcmap's `status`; the
agent's ListVDiskFlashCopyMapCopies Status[]), and every move between them a request
or the array itself makes, one row each.

A request (what the CIM method does in the CLI's words: ModifySynchronization's
Prepare, Resync, Unprepare, Quiesce and Detach are prestartfcmap, startfcmap (with Force:
prepare_start), stopping a prepared mapping, stopfcmap and rmfcmap; ModifySynchronizedSet's
add and remove are chfcmap -consistgrp) is taken only in a state the table has a row
for; in any other state it is refused with the CLI's message for that request and state
(returncodes.FC_REFUSED), before anything changes. The engine (flashcopy_core.py, flashcopy.py) changes a state
only through `move`, so this table is what runs; `vssorch states flashcopy` draws it.

A consistency group has no table of its own: its members move together by these rows,
and a group request needs every member in a state that takes it (`expect_group`); the
group shows the state of its members (flashcopy_rules.group_state).

Not modelled: `suspended` (a mapping whose nodes lost access to its bitmap; the array
has no nodes to lose).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from . import returncodes as rc
from .returncodes import ArrayError

IDLE = "idle_or_copied"
PREPARING = "preparing"
PREPARED = "prepared"
COPYING = "copying"
STOPPING = "stopping"
STOPPED = "stopped"
DELETED = "deleted"      # not a state: the mapping is gone
STATES = (IDLE, PREPARING, PREPARED, COPYING, STOPPING, STOPPED)


@dataclass(frozen=True)
class Move:
    trigger: str
    source: str
    dest: str
    event: bool = False      # the array's own move (its clock), not a request


MOVES: tuple[Move, ...] = (
    Move("prepare", IDLE, PREPARING),             # preparefcmap: the array flushes the source's cache
    Move("prepare", STOPPED, PREPARING),
    Move("prepare_start", IDLE, PREPARING),       # Resync with Force (startfcmap -prep): starts
    Move("prepare_start", STOPPED, PREPARING),    # once flushed; without Force CMMVC5905E/5908E
    Move("start", PREPARED, COPYING),             # the point in time
    Move("unprepare", PREPARED, STOPPED),         # only a prepared state is cleared
    Move("stop", PREPARED, STOPPED),              # target content is then only the grains it holds
    Move("stop", COPYING, STOPPING),              # cleaned at once; stopping lasts the cleaning time
    Move("force_stop", PREPARED, STOPPED),        # stop -force: no cleaning time
    Move("force_stop", COPYING, STOPPED),
    Move("force_stop", STOPPING, STOPPED),        # again with force: skip the rest of the cleaning
    Move("split", COPYING, IDLE),                 # 100% copied: older targets now read this target
    Move("join_group", IDLE, IDLE),               # chfcmap -consistgrp: only while standing still
    Move("join_group", STOPPED, STOPPED),
    Move("leave_group", IDLE, IDLE),
    Move("leave_group", STOPPED, STOPPED),
    Move("delete", IDLE, DELETED),                # stopped: only with force (CMMVC5899E)
    *(Move("force_delete", s, DELETED)            # rmfcmap -force: stopped first, cleaning at once
      for s in (PREPARING, PREPARED, COPYING, STOPPING, STOPPED)),
    Move("flushed", PREPARING, PREPARED, event=True),
    Move("flushed_start", PREPARING, COPYING, event=True),   # a start was pending (prepare_start)
    Move("copied", COPYING, IDLE, event=True),    # once no older target depends on it
    Move("autodeleted", IDLE, DELETED, event=True),          # copied, with autodelete
    Move("cleaned", STOPPING, STOPPED, event=True),
)
# (state, trigger) -> next state: the rows as the engine looks them up
TRANSITIONS: dict[tuple[str, str], str] = {(m.source, m.trigger): m.dest for m in MOVES}
# the array event that ends each timed state (a pending start ends preparing by flushed_start)
EVENT = {PREPARING: "flushed", COPYING: "copied", STOPPING: "cleaned"}

# The CLI verb whose refusal family (returncodes.FC_REFUSED) answers a request in a
# state the table has no row for; no entry there: INVALID_STATE.
_VERB = {"prepare_start": "start", "force_stop": "stop", "split": "stop", "force_delete": "delete",
         "join_group": "modify"}


class Stateful(Protocol):
    id: int
    state: str


def refusal(request: str, state: str) -> int:
    return rc.FC_REFUSED.get((_VERB.get(request, request), state), rc.INVALID_STATE)


def expect(m: Stateful, request: str) -> None:
    if (m.state, request) not in TRANSITIONS:
        raise ArrayError(refusal(request, m.state), f"cannot {request} mapping {m.id}: it is {m.state}")


def move(m: Stateful, trigger: str) -> str:
    """Move m by the table's row for `trigger` (refused as `expect` says without one)."""
    expect(m, trigger)
    m.state = TRANSITIONS[(m.state, trigger)]
    return m.state


def takes(members: list, request: str) -> bool:
    """Every member is in a state the table takes `request` in (the members of a group
    move together)."""
    return all((m.state, request) in TRANSITIONS for m in members)
