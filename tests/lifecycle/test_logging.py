"""One structlog event per state transition, with the lifecycle id; the password
appears nowhere: not in the log, the output or the recovery files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from states.create import CreateLifecycle

from tests.support.configfile import write_config
from tests.support.demo import HOST_IQN, SRC1

ROOT = Path(__file__).resolve().parents[2]


def test_transitions_are_logged_and_secrets_are_not(array, tmp_path):
    cfg = write_config(tmp_path / "c.yaml", array, tmp_path / "state", hostAdapter="sim", simInitiator=HOST_IQN)
    log = tmp_path / "vssorch.log"
    env = {**os.environ, "VSSORCH_LOG_FILE": str(log)}
    done = subprocess.run([sys.executable, "-m", "tests.lifecycle.driver", str(cfg), "create", "s1", SRC1],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    transitions = [e for e in events if e["event"] == "transition"]
    wanted = [s.trigger for s in CreateLifecycle.STEPS]
    assert [e["trigger"] for e in transitions] == wanted
    assert {e["lifecycle"] for e in transitions} == {record["lifecycle_id"]}
    assert all(e["level"] == "info" and "src" in e and "dst" in e for e in transitions)
    everything = log.read_text() + done.stdout + done.stderr + "".join(
        p.read_text() for p in (tmp_path / "state").glob("*.json"))
    assert "passw0rd" not in everything
