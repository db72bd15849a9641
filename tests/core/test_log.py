"""core.log: a logger loads structlog at its first event only, after the registered
setup, which runs once however many loggers and threads log first. In a fresh
interpreter: this one has long imported structlog."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, sys, threading
from core import log
seen = []
log.on_first_use(lambda: seen.append("setup"))
a, b = log.get_logger("a"), log.get_logger("b")
before = "structlog" in sys.modules
from structlog.testing import capture_logs
with capture_logs() as events:
    threads = [threading.Thread(target=(a if i % 2 else b).info, args=("e",), kwargs={"n": i}) for i in range(6)]
    for t in threads: t.start()
    for t in threads: t.join()
    a.bind(lifecycle="L1").warning("bound")
print(json.dumps({"before": before, "seen": seen, "events": events}))
"""


def test_structlog_loads_at_the_first_event_after_the_setup_once():
    done = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["before"] is False and out["seen"] == ["setup"]
    assert sorted(e["n"] for e in out["events"] if e["event"] == "e") == list(range(6))
    assert {"event": "bound", "lifecycle": "L1", "log_level": "warning"} in out["events"]
