"""Waiting for the agent's jobs (a method answering 4096 hands back a CIM_ConcreteJob).

The job instance is read until its JobState ends; a failed job becomes the calling
operation's typed error with the job's own description. Sleep and clock are injected,
so tests (and the simulator's --time-scale) decide how long a wait really takes.
"""
from __future__ import annotations

from typing import Callable

from pywbem import CIMInstanceName

from adapters.cim import errors as E
from adapters.cim.connection import Transport
from adapters.cim.model import ArrayCallError

COMPLETED = 7
FAILED = {8: "terminated", 9: "killed", 10: "exception"}


def wait_job(transport: Transport, job: object, *, what: str, code: int, sleep: Callable[[float], None],
             clock: Callable[[], float], poll_s: float, timeout_s: float) -> None:
    if not isinstance(job, CIMInstanceName):
        raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the job reference is {type(job).__name__}, "
                                             "not an instance path")
    deadline = clock() + timeout_s
    while True:
        inst = transport.get(job)
        if inst is None:
            return      # DeleteOnCompletion jobs vanish once they succeed
        state = inst.get("JobState")
        if state is None or isinstance(state, bool) or not isinstance(state, int):
            raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the job has no numeric JobState")
        if state == COMPLETED:
            return
        if state in FAILED:
            detail = E.one_line(inst.get("ErrorDescription") or "no description", 160)
            raise ArrayCallError(code, f"{what}: the array's job ended in {FAILED[state]}: {detail}")
        if clock() >= deadline:
            raise ArrayCallError(code, f"{what}: the job did not finish within {timeout_s:.0f} s")
        sleep(poll_s)
