"""Crash matrix: the orchestrator process dies (os._exit) just before and just after
every side effect of every lifecycle; `vssorch cleanup` then leaves the array either as
it was before the operation or with the operation completed, never with a leaked target,
mapping, group or host mapping, and the source's bytes unchanged.

The points come from the state tables of the kind registry (states.KINDS). At each point
the process first stops, alive, while a second process (this one) runs a cleanup, which
must leave the live owner's lifecycle alone; then it dies. The `retry` rows add the
retried delete: after the crash the delete is asked again, the file an older version
would have left is put back, a newer shadow copy of the same sources takes the same
targets and mapping ids, and the cleanup must not harm it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from core.errors import VssError
from core.records import SetOptions
from states import KINDS
from states.machine import CRASH_ENV, CRASH_EXIT, PAUSE_ENV

from .conftest import BACKUP_IQN, HOST_IQN, MiB, SRC1, SRC2, fill, write_config

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = {"create": "create", "abort": "create", "delete": "delete", "retry": "delete",
             "restore": "restore", "import": "expose", "unexpose": "unexpose"}


def _points():
    for scenario, kind in SCENARIOS.items():
        cls = KINDS[kind]
        triggers = [s.trigger for s in cls.STEPS]
        if scenario == "abort":
            triggers = [f"revert_{s.trigger}" for s in cls.STEPS
                        if cls.STATES.index(s.dest) <= cls.STATES.index("committed")]
        for t in triggers:
            for when in ("before", "after"):
                yield pytest.param(scenario, f"{kind}:{t}:{when}", id=f"{scenario}-{t}-{when}")


def run(args, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, PAUSE_ENV)}
    if crash:
        env[CRASH_ENV] = crash
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def run_live_then_crash(args, crash: str, gate: Path, cfg_path: Path, view) -> subprocess.CompletedProcess:
    """Stop at the crash point alive; a cleanup by this (second) process must skip the
    live owner's files and change nothing; then let the process die there."""
    env = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, PAUSE_ENV)}
    env.update({CRASH_ENV: crash, PAUSE_ENV: f"{crash}@{gate}"})
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ready = gate.with_name(gate.name + ".ready")
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    state = cfg_path.parent / "state"
    files, array_before = {p.name: p.read_bytes() for p in state.glob("*.json")}, view.snapshot()
    second = Orchestrator.from_config(load_config(cfg_path), consumer=None)
    rows = second.cleanup()
    assert [r["action"] for r in rows] == ["skipped"] * len(second.unfinished())
    assert {p.name: p.read_bytes() for p in state.glob("*.json")} == files
    assert view.snapshot() == array_before
    gate.touch()
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


@pytest.mark.parametrize("scenario,crash", list(_points()))
def test_crash_then_cleanup(array, view, tmp_path, scenario, crash):
    # this host is the embedded array's simulated host: exposing to it is a step too
    cfg_path = write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0,
                            hostAdapter="sim", simInitiator=HOST_IQN)
    orch = Orchestrator.from_config(load_config(cfg_path))
    src = {SRC1: fill(array, SRC1, b"alpha "), SRC2: fill(array, SRC2, b"beta ")}
    baseline = view.snapshot()
    args = {"create": ["create", "s1", SRC1, SRC2], "abort": ["abort-after-commit", "s1", SRC1, SRC2]}.get(scenario)
    if scenario in ("delete", "retry", "restore", "import", "unexpose"):
        record = orch.create([SRC1, SRC2], SetOptions(transportable=scenario in ("import", "unexpose")), set_id="s1")
        if scenario == "unexpose":
            orch.import_set("s1", "backup_host")
        args = {"delete": ["delete", "s1"], "retry": ["delete", "s1"], "restore": ["restore", record.shadows[0].shadow_id],
                "import": ["import", "s1", "backup_host"], "unexpose": ["unexpose", "s1", "backup_host"]}[scenario]
        if scenario == "restore":
            fill(array, SRC1, b"gamma ")          # the restore must bring "alpha" back
    before = view.snapshot()

    crashed = run_live_then_crash(["-m", "tests.lifecycle.driver", str(cfg_path), *args], crash,
                                  tmp_path / "gate", cfg_path, view)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr[-2000:]
    if scenario == "retry":
        src = retried_delete_then_a_newer_copy(array, orch, tmp_path)
        before = baseline
    cleaned = run(["-m", "orchestrator.cli.main", "cleanup", "--config", str(cfg_path)])
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    again = run(["-m", "orchestrator.cli.main", "cleanup", "--config", str(cfg_path)])
    assert again.stdout.strip() == "nothing to clean up"

    after = Orchestrator.from_config(load_config(cfg_path), consumer=None)
    sets = after.sets()
    assert view.groups() == []
    assert all(s.state == "done" for s in sets)
    ours = {s.fcmap_name for r in sets for s in r.shadows}
    assert {n for n in view.fcmaps() if n.startswith("vss-")} == ours       # no leaked mapping
    targets = {s.target_uid for r in sets for s in r.shadows}
    vols = view.volumes()
    res = {vols[n]["uid"] for n in view.host_volumes()["vss_res_host"]}
    assert res == targets                                                    # no leaked target
    here = {s.target_uid for r in sets if not r.options.transportable for s in r.shadows}
    assert {lun["uid"] for lun in array.host_luns(HOST_IQN)} - set(src) == here   # shown here: live sets only
    if scenario == "restore":
        restored = array.read(SRC1, 0, 4 * MiB)
        if view.snapshot() == before:                                        # rolled back
            assert restored == b"".join([b"gamma "] * (4 * MiB // 6 + 1))[:4 * MiB]
        else:                                                                # completed
            assert restored == src[SRC1]
            assert [s.source_uid for r in sets for s in r.shadows] == [SRC2]
    else:
        for uid, data in src.items():
            assert array.read(uid, 0, 4 * MiB) == data                       # sources untouched
    for r in sets:
        for s in r.shadows:
            assert array.read(s.target_uid, 0, 4 * MiB) == src[s.source_uid]  # the images hold
    outcome = view.snapshot()
    if scenario in ("create", "abort"):
        assert outcome == baseline or (scenario == "create" and len(sets) == 1)
    elif scenario == "delete":
        assert outcome == baseline and sets == []
    elif scenario == "retry":
        assert [r.set_id for r in sets] == ["s2"] and orch.store.keys() == ["set-s2"]
    elif scenario in ("import", "unexpose"):
        shown = {lun["uid"] for lun in array.host_luns(BACKUP_IQN)}
        assert shown in (set(), targets)
        assert outcome == before or shown == (targets if scenario == "import" else set())


def retried_delete_then_a_newer_copy(array, orch: Orchestrator, tmp_path: Path) -> dict:
    """The delete asked again (it resumes the crashed one), the crashed one's file put
    back as an older version left it, and a newer shadow copy of the same sources."""
    (stale,) = [k for k in orch.store.keys() if k.startswith("delete-")]
    kept = shutil.copy(orch.store.path(stale), tmp_path / "stale.json")
    try:
        orch.delete(set_id="s1")
        assert orch.store.keys() == []       # the crashed delete was resumed, not doubled
    except VssError as err:
        assert err.code == 711               # the crash came after the set's record went
    shutil.copy(kept, orch.store.path(stale))
    src = {SRC1: fill(array, SRC1, b"newer "), SRC2: fill(array, SRC2, b"copy ")}
    orch.create([SRC1, SRC2], SetOptions(), set_id="s2")
    return src


def test_crash_point_count(capsys):
    points = list(_points())
    with capsys.disabled():
        print(f"\ncrash matrix: {len(points)} crash points "
              f"({len({p.values[0] for p in points})} operations, before and after each side effect)")
    assert len(points) >= 50
