"""The wait for a restore's reverse copy: a copy that keeps moving may take far longer
than restoreStallSeconds; one that stands still that long fails with 740 and is left
for cleanup to complete. Time is the array's: each poll's sleep moves the array's clock
(the admin endpoint) and the orchestrator's by the same step, so nothing really sleeps."""
from __future__ import annotations

import pytest

from orchestrator.engine import Orchestrator
from core.errors import VssError

from .conftest import MiB, SRC1, fill

STEP = 100.0       # simulated seconds per poll; the 10 GiB reverse copy moves 1% per ~51 s


class ArrayTime:
    """The orchestrator's clock and sleep on the array's time. The array's own clock is
    frozen from the first poll on (scale ~0) and moved only by sleep, unless `stuck`."""

    def __init__(self, array, stuck: bool = False):
        self.array, self.stuck, self.now, self.polls = array, stuck, 0.0, 0

    def clock(self) -> float:
        return self.now

    def sleep(self, _seconds: float) -> None:
        if self.polls == 0:
            self.array.admin("PUT", "clock", {"scale": 1e-9})
        self.polls += 1
        self.now += STEP
        if not self.stuck:
            self.array.admin("PUT", "clock", {"advance": STEP})


def restorer(make_orch, time: ArrayTime) -> Orchestrator:
    base = make_orch("r", consumer=None, backgroundCopy=0, restoreStallSeconds=300)
    return Orchestrator(base.config, base.array, base.store, sleep=time.sleep, clock=time.clock)


def test_a_long_restore_that_keeps_moving_is_not_cut_off(array, make_orch):
    time = ArrayTime(array)
    orch = restorer(make_orch, time)
    image = fill(array, SRC1, b"image ")
    record = orch.create([SRC1])
    fill(array, SRC1, b"later ")
    orch.restore(record.shadows[0].shadow_id)
    assert time.polls * STEP > 600              # longer than the old flat limit
    assert array.read(SRC1, 0, 4 * MiB) == image and orch.sets() == [] and orch.unfinished() == []


def test_a_stalled_restore_is_740_and_cleanup_completes_it(array, make_orch):
    time = ArrayTime(array, stuck=True)
    orch = restorer(make_orch, time)
    image = fill(array, SRC1, b"image ")
    record = orch.create([SRC1])
    fill(array, SRC1, b"later ")
    with pytest.raises(VssError) as err:
        orch.restore(record.shadows[0].shadow_id)
    assert err.value.code == 740 and "no progress for 300 s" in err.value.detail
    assert time.polls * STEP <= 300 + 2 * STEP
    [(key, data)] = orch.unfinished()
    assert data["kind"] == "restore" and data["state"] == "withdrawn"
    array.admin("PUT", "clock", {"advance": 6000})   # the array moves again: the copy is done
    [row] = make_orch("r", consumer=None).cleanup()
    assert row["action"] == "completed"
    assert array.read(SRC1, 0, 4 * MiB) == image
