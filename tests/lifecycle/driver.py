"""A stand-in for any orchestrator process (service, CLI, batch) in the crash tests:
runs one lifecycle operation with the real Orchestrator, nothing else.

    python -m tests.lifecycle.driver CONFIG ACTION [ARG...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from core.records import SetOptions


def main(argv: list[str]) -> int:
    config, action, *args = argv
    orch = Orchestrator.from_config(load_config(Path(config)))
    if action == "create":
        record = orch.create(args[1:], SetOptions(), set_id=args[0])
    elif action == "create-transportable":
        record = orch.create(args[1:], SetOptions(transportable=True), set_id=args[0])
    elif action == "abort-after-commit":
        orch.prepare(args[0], args[1:])
        orch.commit(args[0])
        orch.abort(args[0])
        record = None
    elif action == "delete":
        print(json.dumps(orch.delete(set_id=args[0])))
        return 0
    elif action == "restore":
        print(json.dumps(orch.restore(args[0])))
        return 0
    elif action == "import":
        record = orch.import_set(args[0], args[1])
    elif action == "unexpose":
        record = orch.unexpose_set(args[0], args[1])
    else:
        raise SystemExit(f"unknown action {action}")
    print(json.dumps(record.to_json() if record else None))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
