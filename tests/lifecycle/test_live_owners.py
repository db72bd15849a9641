"""Ownership between processes: while one process creates a shadow copy and another runs
a batch job, two `vssorch cleanup`s at once and a failing batch job run beside them.
Nothing of the live processes is touched, both finish, and the lifecycle a crashed
process left is cleaned up exactly once (issue 14, scenario 2)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from states.machine import CRASH_ENV, CRASH_EXIT, PAUSE_ENV

from tests.support.configfile import write_config
from tests.support.data import fill, MiB
from tests.support.demo import HOST_IQN, SRC1, SRC2

ROOT = Path(__file__).resolve().parents[2]
MAIN = ["-m", "orchestrator.cli.main"]


def spawn(args, **env) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, PAUSE_ENV)} | env
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=180)
    return proc.returncode, out, err


def paused(proc: subprocess.Popen, gate: Path) -> None:
    """Wait until the process stopped at its pause point (it is a live owner then)."""
    for _ in range(3000):
        if gate.with_name(gate.name + ".ready").exists():
            return
        assert proc.poll() is None, finish(proc)
        time.sleep(0.05)
    raise AssertionError("the live process never reached its pause point")


def test_cleanups_and_a_failing_batch_leave_live_owners_alone(array, view, tmp_path):
    cfg = write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0,
                       hostAdapter="sim", simInitiator=HOST_IQN)
    state = tmp_path / "state"
    live_bytes = fill(array, SRC1, b"live create ")
    fill(array, SRC2, b"live batch ")
    driver = ["-m", "tests.lifecycle.driver", str(cfg)]

    # a crashed process left a create with a mapping and a group: its owner is gone
    dead = spawn([*driver, "create", "dead", SRC2], **{CRASH_ENV: "create:attach:after"})
    assert finish(dead)[0] == CRASH_EXIT
    # a live shadow copy, stopped between prepare and commit (a VSS set waiting for its freeze)
    gate1 = tmp_path / "gate1"
    live = spawn([*driver, "create", "live", SRC1], **{PAUSE_ENV: f"create:commit:before@{gate1}"})
    paused(live, gate1)
    # a live batch job, stopped after its commit
    gate2 = tmp_path / "gate2"
    (tmp_path / "b.yaml").write_text("jobs:\n  - name: nightly\n    create: {volumes: [vss_src_vol2], "
                                     "transportable: true, verify: true}\n")
    batch = spawn([*MAIN, "batch", str(tmp_path / "b.yaml"), "--config", str(cfg), "--json"],
                  **{PAUSE_ENV: f"create:reserve:before@{gate2}"})
    paused(batch, gate2)
    live_files = {p.name: p.read_bytes() for p in state.glob("set-*.json") if p.name != "set-dead.json"}
    assert len(live_files) == 2

    # two cleanups at once: they take turns; the dead create is rolled back once
    c1, c2 = (spawn([*MAIN, "cleanup", "--config", str(cfg), "--json"]) for _ in range(2))
    (rc1, out1, err1), (rc2, out2, err2) = finish(c1), finish(c2)
    assert rc1 == rc2 == 0, err1 + err2
    rows = json.loads(out1) + json.loads(out2)
    assert [r["action"] for r in rows if r["file"] == "set-dead"] == ["rolled back"]
    skipped = [r for r in rows if r["action"] == "skipped"]
    assert sorted(r["file"] + ".json" for r in skipped) == sorted(list(live_files) * 2)
    assert all(r["owner"]["pid"] in (live.pid, batch.pid) for r in skipped)
    # their group and mappings are named in their files: never orphans
    rc, out, err = finish(spawn([*MAIN, "cleanup", "--config", str(cfg), "--orphans", "--json"]))
    assert rc == 0 and json.loads(out) == {"cleanup": [], "orphans": []}, out + err
    assert len(view.fcmaps()) == 2 and len(view.groups()) == 1

    # a batch job that fails (no free targets left for two volumes) undoes only its own work
    orch = Orchestrator.from_config(load_config(cfg), consumer=None)
    free = orch.ctx.host("vss_free_host", 3005)
    spare = [v.id for v in orch.array.host_volumes(free.id)][1:]
    orch.array.unmap_volumes(free.id, spare)
    (tmp_path / "bad.yaml").write_text("jobs:\n  - create: {volumes: [vss_src_vol, vss_src_vol2], transportable: true}\n")
    rc, out, err = finish(spawn([*MAIN, "batch", str(tmp_path / "bad.yaml"), "--config", str(cfg)]))
    assert rc == 1 and "error 3007" in err, out + err
    assert {p.name: p.read_bytes() for p in state.glob("set-*.json")} == live_files

    # the live owners go on and finish
    gate1.touch()
    gate2.touch()
    rc, out, err = finish(live)
    assert rc == 0, err
    record = json.loads(out.strip().splitlines()[-1])
    assert array.read(record["shadows"][0]["target_uid"], 0, MiB) == live_bytes[:MiB]
    rc, out, err = finish(batch)
    assert rc == 0, err
    job = json.loads(out)["jobs"][0]
    assert job["result"] == "ok" and job["verified"] is True
    sets = {r.set_id: r for r in orch.sets()}
    assert set(sets) == {"live", job["set_id"]} and all(r.state == "done" for r in sets.values())
    assert view.groups() == []
    assert {n for n in view.fcmaps()} == {s.fcmap_name for r in sets.values() for s in r.shadows}
    assert run_cleanup(cfg) == "nothing to clean up"


def run_cleanup(cfg: Path) -> str:
    rc, out, err = finish(spawn([*MAIN, "cleanup", "--config", str(cfg)]))
    assert rc == 0, err
    return out.strip()
