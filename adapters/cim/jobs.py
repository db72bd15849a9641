"""Waiting for the agent's jobs (a method answering 4096 hands back a CIM_ConcreteJob).

The job instance is read until its JobState ends; a failed job becomes the calling
operation's typed error with the job's own description; one not ended within the deadline
fails. No stall window: nothing in IBM's references shows a job's PercentComplete moving
before it ends (the embedded array reports 0 then 100), so a long prepare's cache flush
cannot be told from a stuck one. Sleep and clock are injected,
so tests (and the simulator's --time-scale) decide how long a wait really takes.
"""
from __future__ import annotations

from typing import Callable

from pywbem import CIMInstanceName

from adapters.cim import errors as E
from adapters.cim.connection import Transport
from core.errors import ArrayCallError
from core.poll import DeadlinePassed, FuncClock, Pending, poll_until

COMPLETED = 7
FAILED = {8: "terminated", 9: "killed", 10: "exception"}


def wait_job(transport: Transport, job: object, *, what: str, code: int, sleep: Callable[[float], None],
             clock: Callable[[], float], poll_s: float, timeout_s: float) -> None:
    if not isinstance(job, CIMInstanceName):
        raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the job reference is {type(job).__name__}, "
                                             "not an instance path")
    def probe() -> Pending | None:
        inst = transport.get(job)
        if inst is None:
            return None     # DeleteOnCompletion jobs vanish once they succeed
        state = inst.get("JobState")
        if state is None or isinstance(state, bool) or not isinstance(state, int):
            raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the job has no numeric JobState")
        if state == COMPLETED:
            return None
        if state in FAILED:
            detail = E.one_line(inst.get("ErrorDescription") or "no description", 160)
            raise ArrayCallError(code, f"{what}: the array's job ended in {FAILED[state]}: {detail}")
        return Pending()

    try:
        poll_until(probe, clock=FuncClock(clock, sleep), interval=poll_s, deadline=timeout_s,
                   what=what)
    except DeadlinePassed:
        raise ArrayCallError(code, f"{what}: the job did not finish within {timeout_s:.0f} s") from None
