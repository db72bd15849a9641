"""Lifecycles end to end: a real embedded-array process (tests/conftest.py's demo `array`),
the real CIM adapter, and the array view (tests/support/view.py) for the assertions."""
from __future__ import annotations

import pytest

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from tests.support.arrayproc import PASSWORD, USER
from tests.support.configfile import write_config
from tests.support.demo import HOST_IQN


@pytest.fixture
def make_orch(array, tmp_path):
    """An orchestrator on "this host" (the simulated application host of the demo seed),
    with its own state folder; extra keyword arguments are configuration parameters."""
    def make(name: str = "host1", consumer="sim", initiator: str = HOST_IQN, **params) -> Orchestrator:
        state = tmp_path / name
        cfg = load_config(write_config(tmp_path / f"{name}.yaml", array, state, **params))
        orch = Orchestrator.from_config(cfg, consumer=None)
        if consumer == "sim":
            from orchestrator.consumers import PhysicalHost
            from adapters.host.simulated import SimulatedHost
            orch.ctx.consumer = PhysicalHost(SimulatedHost(array.url, initiator, state / "host", auth=(USER, PASSWORD)))
        return orch
    return make


@pytest.fixture
def orch(make_orch):
    return make_orch(consumer=None)
