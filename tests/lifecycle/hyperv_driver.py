"""The orchestrator process of the Hyper-V crash tests: a guest whose targets reach it as
pass-through disks of the fake parent (tests/support/hyperv.py).

    python -m tests.lifecycle.hyperv_driver SPEC.json create|delete|cleanup [ARG...]
"""
from __future__ import annotations

import sys
from pathlib import Path

from orchestrator.config import load_config
from orchestrator.consumers import HyperVVm, Rescans
from orchestrator.engine import Orchestrator
from tests.support.arrayproc import PASSWORD, USER, ArrayProcess
from tests.support.hyperv import FakeParent, PassThroughGuest
from tests.support.vmdriver import DiskCrash, main


class CrashingParent(FakeParent):
    def __init__(self, *args):
        super().__init__(*args)
        self.crash = DiskCrash()

    def attach_passthrough(self, uid):
        super().attach_passthrough(uid)
        self.crash.count("attach")

    def detach_passthrough(self, uid):
        removed = super().detach_passthrough(uid)
        self.crash.count("detach")
        return removed


def orchestrator(spec: dict) -> Orchestrator:
    config = load_config(Path(spec["config"]))
    array = ArrayProcess.running_at(spec["array_url"])
    guest = PassThroughGuest(spec["array_url"], spec["port"], Path(spec["guest_state"]), auth=(USER, PASSWORD))
    parent = CrashingParent(array, spec["port"], Path(spec["parent_state"]))
    consumer = HyperVVm(guest, lambda: parent, Rescans.from_config(config), config.storage_protocol,
                        arrival_timeout_s=10)
    return Orchestrator.from_config(config, consumer=consumer)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], orchestrator))
