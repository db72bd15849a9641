"""The embedded array dies (SIGKILL) and restarts in the middle of a create: killed while
it answers one of the create's requests (the work may or may not have been committed), it
comes back on the same port from its state folder. The create ends with the manual's
code or succeeds; `cleanup` then leaves the array as before or with the finished shadow
copy, and nothing leaked. The suite kills it in the array's copy-service calls; `--long`
at every request of the create."""
from __future__ import annotations

import os
import threading
import time

import pytest

from tests.support.data import fill
from tests.support.demo import SRC1, SRC2
from tests.support.lifecycle import assert_clean_after_cleanup, try_create

LONG = os.environ.get("VSSORCH_LONG") == "1"
CREATE_CALLS = 16          # requests of a 2-volume create by a new process
POINTS = ([("*", n) for n in range(1, CREATE_CALLS + 1)] if LONG else
          [("CreateSynchronizedSet", 1), ("AttachReplicas", 1), ("ModifySynchronizedSet", 1),
           ("ModifySynchronizedSet", 2), ("ExposePaths", 1)])


class KillDuring(threading.Thread):
    """Hold the reply to the nth such request, and kill the array while it is held."""

    def __init__(self, array, method: str, nth: int):
        super().__init__(daemon=True)
        self.array, self.method, self.nth = array, method, nth
        self.over = threading.Event()          # the create ended: stop watching
        self.killed = False
        array.faults([{"method": method, "action": "delay", "nth": nth, "count": 1, "seconds": 30}])

    def run(self):
        while self.array.admin("GET", "faults")["seen"].get(self.method.lower(), 0) < self.nth:
            if self.over.wait(0.01):
                return
        time.sleep(0.05)           # usually after the request's work, sometimes not
        self.array.kill_and_restart()
        self.killed = True


@pytest.mark.parametrize("method,nth", POINTS, ids=[f"{m}-{n}" for m, n in POINTS])
def test_array_restarted_in_the_middle_of_a_create(array, view, make_orch, method, nth):
    fill(array, SRC1, b"src1 ")
    fill(array, SRC2, b"src2 ")
    baseline = view.snapshot()
    orch = make_orch("r", consumer=None)
    restart = KillDuring(array, method, nth)
    restart.start()
    outcome = try_create(orch, [SRC1, SRC2])
    print(f"\n{method} #{nth}: {outcome}")
    restart.over.set()
    restart.join(timeout=60)
    assert restart.killed, f"the create made fewer than {nth} {method} requests"
    assert array.admin("GET", "faults")["faults"] == []           # this is the restarted array

    # cleanup in a new process
    assert_clean_after_cleanup(array, make_orch("r", consumer=None), view, baseline, outcome, f"{method} #{nth}: {outcome}")
