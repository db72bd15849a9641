"""Crash matrix: the orchestrator process dies (os._exit) just before and just after
every side effect of every lifecycle; `vssorch cleanup` then leaves the array either as
it was before the operation or with the operation completed, never with a leaked target,
mapping, group or host mapping, and the source's bytes unchanged."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from orchestrator.records import SetOptions
from states.create import CreateLifecycle
from states.delete import DeleteLifecycle
from states.exposure import ExposeLifecycle, UnexposeLifecycle
from states.machine import CRASH_ENV, CRASH_EXIT
from states.restore import RestoreLifecycle

from .conftest import BACKUP_IQN, HOST_IQN, MiB, SRC1, SRC2, fill, write_config

ROOT = Path(__file__).resolve().parents[2]


def _points():
    def both(kind, triggers, scenario):
        for t in triggers:
            for when in ("before", "after"):
                yield pytest.param(scenario, f"{kind}:{t}:{when}", id=f"{scenario}-{t}-{when}")
    create = [s.trigger for s in CreateLifecycle.STEPS]
    yield from both("create", create, "create")
    yield from both("create", [f"revert_{s.trigger}" for s in CreateLifecycle.STEPS
                               if CreateLifecycle.STATES.index(s.dest) <= CreateLifecycle.STATES.index("committed")],
                    "abort")
    yield from both("delete", [s.trigger for s in DeleteLifecycle.STEPS], "delete")
    yield from both("restore", [s.trigger for s in RestoreLifecycle.STEPS], "restore")
    yield from both("expose", [s.trigger for s in ExposeLifecycle.STEPS], "import")
    yield from both("unexpose", [s.trigger for s in UnexposeLifecycle.STEPS], "unexpose")


def run(args, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash:
        env[CRASH_ENV] = crash
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("scenario,crash", list(_points()))
def test_crash_then_cleanup(array, view, tmp_path, scenario, crash):
    # this host is the embedded array's simulated host: exposing to it is a step too
    cfg_path = write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0,
                            hostAdapter="sim", simInitiator=HOST_IQN)
    orch = Orchestrator.from_config(load_config(cfg_path))
    src = {SRC1: fill(array, SRC1, b"alpha "), SRC2: fill(array, SRC2, b"beta ")}
    baseline = view.snapshot()
    args = {"create": ["create", "s1", SRC1, SRC2], "abort": ["abort-after-commit", "s1", SRC1, SRC2]}.get(scenario)
    if scenario in ("delete", "restore", "import", "unexpose"):
        record = orch.create([SRC1, SRC2], SetOptions(transportable=scenario in ("import", "unexpose")), set_id="s1")
        if scenario == "unexpose":
            orch.import_set("s1", "backup_host")
        args = {"delete": ["delete", "s1"], "restore": ["restore", record.shadows[0].shadow_id],
                "import": ["import", "s1", "backup_host"], "unexpose": ["unexpose", "s1", "backup_host"]}[scenario]
        if scenario == "restore":
            fill(array, SRC1, b"gamma ")          # the restore must bring "alpha" back
    before = view.snapshot()

    crashed = run(["-m", "tests.lifecycle.driver", str(cfg_path), *args], crash)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr[-2000:]
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
    elif scenario in ("import", "unexpose"):
        shown = {lun["uid"] for lun in array.host_luns(BACKUP_IQN)}
        assert shown in (set(), targets)
        assert outcome == before or shown == (targets if scenario == "import" else set())


def test_crash_point_count(capsys):
    points = list(_points())
    with capsys.disabled():
        print(f"\ncrash matrix: {len(points)} crash points "
              f"({len({p.values[0] for p in points})} operations, before and after each side effect)")
    assert len(points) >= 50
