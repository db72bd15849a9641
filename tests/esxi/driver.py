"""The orchestrator process of the ESXi crash tests: one lifecycle operation (or a
cleanup) by a VMware guest whose targets reach it as pRDMs through vcsim, with the SAN
of tests/esxi/fabric.py in between. Besides the lifecycle crash points (states.machine),
VSSORCH_TEST_RDM_CRASH=attach:N or detach:N kills the process right after the N-th RDM
is attached or removed, in the middle of one step.

    python -m tests.esxi.driver SPEC.json ACTION [ARG...]
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from adapters.esxi.session import VSphereSession
from adapters.host.simulated import SimulatedHost
from orchestrator.config import load_config
from orchestrator.consumers import EsxiVm, GuestIdentity, Rescans
from orchestrator.engine import Orchestrator
from states.machine import CRASH_EXIT
from tests.support.arrayproc import PASSWORD, USER, ArrayProcess

from .fabric import Fabric

RDM_CRASH_ENV = "VSSORCH_TEST_RDM_CRASH"


class CrashingFabric(Fabric):
    def __init__(self, *args, crash: str | None):
        super().__init__(*args)
        self.crash = crash.split(":") if crash else None
        self.calls = {"attach": 0, "detach": 0}

    def _count(self, kind: str) -> None:
        self.calls[kind] += 1
        if self.crash and self.crash[0] == kind and self.calls[kind] == int(self.crash[1]):
            os._exit(CRASH_EXIT)

    def attach_prdm(self, vm, uid: str):
        result = self.session.attach_prdm(vm, uid)
        self._count("attach")
        return result

    def detach_prdm(self, vm, uid: str) -> bool:
        result = super().detach_prdm(vm, uid)
        self._count("detach")
        return result


class _Harness:
    def __init__(self, lun_file: Path):
        self.lun_file = lun_file

    def map_luns(self, *uids: str) -> None:
        tmp = self.lun_file.with_suffix(".tmp")
        tmp.write_text(json.dumps([{"uid": uid} for uid in uids]))
        os.replace(tmp, self.lun_file)


def orchestrator(spec: dict) -> Orchestrator:
    config = load_config(Path(spec["config"]))
    array = ArrayProcess(state=Path(spec["guest_state"]), http=True)
    array.url = spec["array_url"]
    guest = SimulatedHost(spec["array_url"], spec["wwpn"], Path(spec["guest_state"]), auth=(USER, PASSWORD))

    def connect():
        session = VSphereSession.connect(spec["vcsim_url"], spec["user"], spec["password"], 10_000,
                                         cafile=spec["cafile"])
        return CrashingFabric(session, _Harness(Path(spec["lun_file"])), array, spec["wwpn"],
                              crash=os.environ.get(RDM_CRASH_ENV))
    consumer = EsxiVm(guest, connect, GuestIdentity(ips=(spec["ip"],)), Rescans.from_config(config),
                      config.storage_protocol, arrival_timeout_s=10)
    return Orchestrator.from_config(config, consumer=consumer)


def main(argv: list[str]) -> int:
    spec_file, action, *args = argv
    orch = orchestrator(json.loads(Path(spec_file).read_text()))
    if action == "create":
        print(json.dumps(orch.create(args[1:], set_id=args[0]).to_json()))
    elif action == "delete":
        print(json.dumps(orch.delete(set_id=args[0])))
    elif action == "cleanup":
        print(json.dumps(orch.cleanup()))
    else:
        raise SystemExit(f"unknown action {action}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
