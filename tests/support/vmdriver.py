"""What the VM crash tests' orchestrator processes share: run one lifecycle operation
(or a cleanup) with a test-built consumer, and die in the middle of a host step.

DISK_CRASH_ENV=attach:N or detach:N kills the process (states.machine's crash exit code)
right after the N-th disk is attached to or removed from the VM: inside one lifecycle
step, where the lifecycle crash points (before/after a step) cannot reach."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from orchestrator.engine import Orchestrator
from states.machine import CRASH_EXIT

DISK_CRASH_ENV = "VSSORCH_TEST_DISK_CRASH"


class DiskCrash:
    def __init__(self) -> None:
        plan = os.environ.get(DISK_CRASH_ENV)
        self.kind, self.nth = (plan.split(":")[0], int(plan.split(":")[1])) if plan else (None, 0)
        self.calls = {"attach": 0, "detach": 0}

    def count(self, kind: str) -> None:
        self.calls[kind] += 1
        if kind == self.kind and self.calls[kind] == self.nth:
            os._exit(CRASH_EXIT)


def main(argv: list[str], build: Callable[[dict], Orchestrator]) -> int:
    spec_file, action, *args = argv
    orch = build(json.loads(Path(spec_file).read_text()))
    if action == "create":
        print(json.dumps(orch.create(args[1:], set_id=args[0]).to_json()))
    elif action == "delete":
        print(json.dumps(orch.delete(set_id=args[0])))
    elif action == "cleanup":
        print(json.dumps(orch.cleanup()))
    else:
        raise SystemExit(f"unknown action {action}")
    return 0
