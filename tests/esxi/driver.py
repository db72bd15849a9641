"""The orchestrator process of the ESXi crash tests: a VMware guest whose targets reach it
as pRDMs through vcsim, with the SAN of tests/esxi/fabric.py in between.

    python -m tests.esxi.driver SPEC.json create|delete|cleanup [ARG...]
"""
from __future__ import annotations

import sys
from pathlib import Path

from adapters.esxi.session import VSphereSession
from adapters.host.simulated import SimulatedHost
from orchestrator.config import load_config
from orchestrator.consumers import EsxiVm, GuestIdentity, Rescans
from orchestrator.engine import Orchestrator
from tests.support.arrayproc import PASSWORD, USER, ArrayProcess
from tests.support.vmdriver import DiskCrash, main

from .fabric import Fabric


class CrashingFabric(Fabric):
    def __init__(self, *args):
        super().__init__(*args)
        self.crash = DiskCrash()

    def attach_prdm(self, vm, uid: str):
        result = self.session.attach_prdm(vm, uid)
        self.crash.count("attach")
        return result

    def detach_prdm(self, vm, uid: str) -> bool:
        result = super().detach_prdm(vm, uid)
        self.crash.count("detach")
        return result


def orchestrator(spec: dict) -> Orchestrator:
    config = load_config(Path(spec["config"]))
    array = ArrayProcess.running_at(spec["array_url"])
    guest = SimulatedHost(spec["array_url"], spec["wwpn"], Path(spec["guest_state"]), auth=(USER, PASSWORD))

    def connect():
        session = VSphereSession.connect(spec["vcsim_url"], spec["user"], spec["password"], 10_000,
                                         cafile=spec["cafile"])
        return CrashingFabric(session, Path(spec["lun_file"]), array, spec["wwpn"])
    consumer = EsxiVm(guest, connect, GuestIdentity(ips=(spec["ip"],)), Rescans.from_config(config),
                      config.storage_protocol, arrival_timeout_s=10)
    return Orchestrator.from_config(config, consumer=consumer)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], orchestrator))
