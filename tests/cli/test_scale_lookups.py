"""Issue 17: what a command asks the array does not grow with the array. The same
commands run against a small array and a large one (2,000 more volumes, 200 more hosts
each seeing ten of them, more free targets); the array counts the requests and the
instances it had to build per class. A lookup that enumerated volumes or hosts would
build thousands more on the large array."""
from __future__ import annotations

from collections import Counter

import pytest

from bench.bench_scale import APP_IQN, seed_text, start, uids, write_config
from orchestrator.cli import inspurvcfg
from orchestrator.cli import main as vssorch
from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from core.records import SetOptions
from tests.cli.conftest import needs_cim

pytestmark = needs_cim

VOLUME, HARDWARE_ID = "IBMTSSVC_StorageVolume", "IBMTSSVC_StorageHardwareID"
SMALL_FREE, LARGE_FREE = 64, 300


class Measured:
    """One seeded array and the cost of each command run against it."""

    def __init__(self, tmp, text: str):
        self.sim = start(tmp, text)
        self.cfg = write_config(tmp, self.sim, hostAdapter="sim", simInitiator=APP_IQN, backgroundCopy=0)
        self.tmp = tmp

    def cost(self, fn) -> tuple[int, Counter, Counter]:
        """(requests, requests by operation, instances built by class) of fn()."""
        self.sim.admin("DELETE", "stats")
        fn()
        stats = self.sim.admin("GET", "stats")
        return int(stats["total"]), Counter(stats["requests"]), Counter(stats["built"])

    def commands(self) -> dict[str, tuple[int, Counter, Counter]]:
        cli = ["--config", str(self.cfg)]
        batch = self.tmp / "batch.yaml"
        batch.write_text("jobs:\n  - name: one\n    create: {volumes: [src0001]}\n  - delete: {job: one}\n")

        def ok(code: int) -> None:
            assert code == 0

        out = {
            "listvols all": self.cost(lambda: ok(inspurvcfg.main([*cli, "listvols", "all", "--json"]))),
            "add": self.cost(lambda: ok(inspurvcfg.main([*cli, "add", "spare"]))),
            "rem": self.cost(lambda: ok(inspurvcfg.main([*cli, "rem", "spare"]))),
            "batch": self.cost(lambda: ok(vssorch.main(["batch", *cli, str(batch)]))),
        }
        orch = Orchestrator.from_config(load_config(self.cfg), consumer=None)
        sources = uids(self.sim, [f"src{n:04d}" for n in range(8)])

        def create(set_id, chosen):
            orch.prepare(set_id, chosen, SetOptions())
            orch.commit(set_id)
            orch.post_commit(set_id)

        out["first create"] = self.cost(lambda: create("first", sources[:1]))
        out["8-volume create"] = self.cost(lambda: create("eight", sources))
        out["delete"] = self.cost(lambda: (orch.delete(set_id="first"), orch.delete(set_id="eight")))
        return out


@pytest.fixture(scope="module")
def costs(tmp_path_factory):
    sides = {}
    for side, text in (("small", seed_text(8, SMALL_FREE, 26)),
                       ("large", seed_text(8, LARGE_FREE, 2026, hosts=200))):
        m = Measured(tmp_path_factory.mktemp(side), text)
        try:
            sides[side] = m.commands()
        finally:
            m.sim.stop()
    return sides


@pytest.mark.parametrize("command", ["add", "rem", "8-volume create", "delete"])
def test_requests_and_instances_built_do_not_grow_with_the_array(costs, command):
    small, large = costs["small"][command], costs["large"][command]
    assert large[0] == small[0] and large[1] == small[1]           # the same requests
    assert large[2] == small[2]                                    # the same instances built
    assert large[2][VOLUME] < 40 and large[2][HARDWARE_ID] <= 3


@pytest.mark.parametrize("command", ["batch", "first create"])
def test_a_first_create_reads_the_free_pool_once_and_nothing_else_by_size(costs, command):
    """A process's first create (`vssorch batch` is one) lists the free pool; later
    ones only check the targets they pick (8-volume create above)."""
    small, large = costs["small"][command], costs["large"][command]
    assert large[:2] == small[:2]
    # the free pool's listing is the one read that grows (LARGE_FREE vs SMALL_FREE targets)
    assert large[2][VOLUME] - small[2][VOLUME] == LARGE_FREE - SMALL_FREE
    assert large[2][HARDWARE_ID] == small[2][HARDWARE_ID] <= 10    # the hosts asked for, not 200


def test_listvols_sends_as_many_requests_whatever_it_lists(costs):
    small, large = costs["small"]["listvols all"], costs["large"]["listvols all"]
    assert large[0] == small[0] <= 6
    assert large[2][VOLUME] > small[2][VOLUME] + 2000              # it does list every volume
    assert large[2][HARDWARE_ID] == small[2][HARDWARE_ID] <= 3
