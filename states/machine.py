"""The frame every lifecycle shares: a declared state table, run so that each step is
persisted before its side effect and can be undone.

A lifecycle module declares `STEPS`: rows of (trigger, from, to, do, undo). Going
forward runs `do_<trigger>`; rolling back walks the reached rows backwards running
`undo_<trigger>`. Both directions are ordinary pytransitions transitions (`<trigger>`
and `revert_<trigger>`), so
the table a reader checks against the manual is the machine that runs, and the
diagram command draws it.

Before a step's side effect the lifecycle's file says "in state X, about to run T";
after it, "in state Y". A crash in between leaves `pending = T`: the cleanup then runs
T again or undoes it, so every `do` and `undo` must be safe to repeat: it first looks
at the array when `resuming` is set. A step that must not wait for a file write (the
commit, inside VSS's flush-and-hold window) is armed first (`arm`: the "about to" write,
before the window) and run by `run_armed` with no write of its own: the next write (the
next step's or a rollback's) records its outcome, and a crash until then is a crash
mid-step.

Fault injection for the crash tests: VSSORCH_CRASH_AT=<kind>:<trigger>:before|after
makes the process exit at once (os._exit, no cleanup of any kind) at that point.
VSSORCH_PAUSE_AT=<kind>:<trigger>:before|after@<gate file> makes it stop there, a live
owner, until the gate file exists (it writes <gate file>.ready when it stops).
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from transitions import EventData, Machine

if TYPE_CHECKING:
    from states.context import Context

from core.log import get_logger
from core.poll import DeadlinePassed, Pending, poll_until

log = get_logger("vssorch.lifecycle")

CRASH_ENV = "VSSORCH_CRASH_AT"
PAUSE_ENV = "VSSORCH_PAUSE_AT"
CRASH_EXIT = 86
ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class Step:
    trigger: str
    source: str
    dest: str
    # undo is "" when the step changes nothing outside (or cannot be undone: then
    # the lifecycle's policy completes instead of rolling back past it)
    undoable: bool = True


def crash_point(kind: str, trigger: str, when: str) -> None:
    point, _, gate = os.environ.get(PAUSE_ENV, "").partition("@")
    if gate and point == f"{kind}:{trigger}:{when}":
        Path(gate + ".ready").touch()
        with contextlib.suppress(DeadlinePassed):   # a test that never opens the gate: go on
            poll_until(lambda: True if Path(gate).exists() else Pending(), clock=time, interval=0.02,
                       deadline=120, what=gate)
    if os.environ.get(CRASH_ENV) == f"{kind}:{trigger}:{when}":
        os._exit(CRASH_EXIT)


class Lifecycle:
    """Subclasses set KIND, STATES (forward order, last = done) and STEPS, and define
    `do_<trigger>()` and `undo_<trigger>()` methods.

    Their recovery policy after a crash: a rollback that had begun goes on; otherwise
    cleanup completes a lifecycle that reached COMPLETE_FROM (or was running one of the
    COMPLETE_WHEN_PENDING steps) and rolls back the others. IN_SET_FILE: the lifecycle
    runs in its shadow-copy set's file (else in a file of its own)."""

    KIND: str = ""
    STATES: list[str] = []
    STEPS: list[Step] = []
    COMPLETE_FROM: str = ""              # "" = the first state: always completed
    COMPLETE_WHEN_PENDING: tuple[str, ...] = ()
    IN_SET_FILE: bool = False
    ctx: Context                         # every kind works with the array through its context

    if TYPE_CHECKING:                    # added by pytransitions (Machine(model=self))
        state: str

        def trigger(self, trigger_name: str) -> bool: ...

        def give_up(self) -> bool: ...

    def __init__(self, lifecycle_id: str, persist: Callable[[Lifecycle], None],
                 state: str | None = None, pending: str | None = None, rolling_back: bool = False,
                 recovering: bool = False) -> None:
        self.lifecycle_id = lifecycle_id
        self._persist = persist
        self.pending = pending
        self.rolling_back = rolling_back
        # a step that was running when the process died may have happened or not
        self.resuming = pending is not None
        # run from a file another process left: every object is read back and must carry
        # this lifecycle's name before it is touched; what now belongs to another
        # lifecycle is left alone and noted here for the report
        self.recovering = recovering
        self.retired: list[str] = []
        self.objects: list[str | None] = []   # array objects the current step touched, for the log
        self._quiet = False               # run_armed: the step writes nothing
        self.machine = self.build_machine(self, state or self.STATES[0])

    @classmethod
    def build_machine(cls, model: object, initial: str, machine_class: type[Machine] = Machine,
                      give_up: bool = True, **kw: Any) -> Machine:
        transitions: list[dict[str, str]] = []
        for s in cls.STEPS:
            transitions.append({"trigger": s.trigger, "source": s.source, "dest": s.dest,
                                "before": "_before", "after": "_after"})
            if s.undoable:
                transitions.append({"trigger": f"revert_{s.trigger}", "source": s.dest, "dest": s.source,
                                    "before": "_before", "after": "_after"})
        if give_up:     # the end of a rollback, from wherever it started
            transitions.append({"trigger": "give_up", "source": "*", "dest": ROLLED_BACK,
                                "after": "_after"})
        return machine_class(model=model, states=[*cls.STATES, ROLLED_BACK], transitions=transitions,
                             initial=initial, auto_transitions=False, send_event=True, **kw)

    # ----------------------------------------------------------- the frame
    def _before(self, event: EventData) -> None:
        trigger = event.event.name
        self.pending = trigger
        self.objects = []
        if not self._quiet:
            self._persist(self)
        crash_point(self.KIND, trigger, "before")
        getattr(self, trigger.replace("revert_", "undo_", 1) if trigger.startswith("revert_") else f"do_{trigger}")()

    def _after(self, event: EventData) -> None:
        trigger = event.event.name
        self.pending = None
        if not self._quiet:
            self._persist(self)
        move = event.transition
        assert move is not None          # an "after" callback runs inside its transition
        log.info("transition", lifecycle=self.lifecycle_id, kind=self.KIND, trigger=trigger,
                 src=move.source, dst=move.dest, objects=self.objects)
        crash_point(self.KIND, trigger, "after")

    @property
    def done(self) -> bool:
        return self.state == self.STATES[-1]

    def wanted(self, step: Step) -> bool:
        """Rows a particular lifecycle skips (e.g. expose for transportable sets)."""
        return True

    def run(self, until: str | None = None) -> None:
        """Walk forward to `until` (default: done). A pending step (a crash mid-step)
        runs again: its `do` checks what already happened. Rows not wanted are passed
        over without a side effect."""
        for step in self.STEPS:
            if self.state == until:
                break
            if step.source != self.state:
                continue
            if self.wanted(step):
                self.trigger(step.trigger)
            else:
                self.machine.set_state(step.dest)
        if until is None and not self.done:
            raise RuntimeError(f"{self.KIND} {self.lifecycle_id} stopped in {self.state}")

    def arm(self, trigger: str) -> None:
        """Write "about to run `trigger`" ahead of a window in which run_armed() runs it."""
        self.pending = trigger
        self._persist(self)

    def run_armed(self, trigger: str) -> None:
        """Run the step `arm` announced without writing: the file goes on saying "about to
        run it" until the next write records the outcome (arms it first if nobody did)."""
        if self.pending != trigger:
            self.arm(trigger)
        self._quiet = True
        try:
            self.trigger(trigger)
        finally:
            self._quiet = False

    def rollback(self) -> None:
        """Undo every reached step, newest first; the file ends as rolled_back."""
        self.rolling_back = True
        if self.pending and not self.pending.startswith("revert_"):
            # the crash came mid-step: its effect may be there, undo it as if it ran
            step = next(s for s in self.STEPS if s.trigger == self.pending)
            if step.undoable:
                self.resuming = True
                getattr(self, f"undo_{step.trigger}")()
            self.pending = None
        order = {s: i for i, s in enumerate(self.STATES)}
        while order.get(self.state, 0) > 0:
            step = next(s for s in self.STEPS if s.dest == self.state)
            if not step.undoable:
                raise RuntimeError(f"{self.KIND}: {step.trigger} cannot be undone")
            if self.wanted(step):
                self.trigger(f"revert_{step.trigger}")
            else:
                self.machine.set_state(step.source)
        self.give_up()

    @classmethod
    def completes(cls, op: dict[str, Any], persistent: bool = True) -> bool:
        """After a crash: complete (True) or roll back the lifecycle this file snapshot is."""
        if op.get("rolling_back"):
            return False
        order = cls.STATES.index
        state: str = op["state"] if op.get("state") in cls.STATES else cls.STATES[0]
        return (order(state) >= order(cls.COMPLETE_FROM or cls.STATES[0])
                or op.get("pending") in cls.COMPLETE_WHEN_PENDING)

    @classmethod
    def policy(cls) -> str:
        """The recovery policy in words, for `vssorch states` and docs/STATES.md."""
        if not cls.COMPLETE_FROM or cls.COMPLETE_FROM == cls.STATES[0]:
            return "after a crash, cleanup completes it"
        when = "".join(f" or while running {t}" for t in cls.COMPLETE_WHEN_PENDING)
        return (f"after a crash, cleanup completes it from {cls.COMPLETE_FROM}{when}, "
                f"and rolls it back before that (or once a rollback has begun)")

    def snapshot(self) -> dict[str, Any]:
        """The lifecycle's part of its file (the subclass adds its data)."""
        return {"kind": self.KIND, "lifecycle_id": self.lifecycle_id, "state": self.state,
                "pending": self.pending, "rolling_back": self.rolling_back}

    def can_roll_back(self) -> bool:
        order = {s: i for i, s in enumerate(self.STATES)}
        return all(s.undoable for s in self.STEPS
                   if order[s.dest] <= order.get(self.state, 0) and self.wanted(s))
