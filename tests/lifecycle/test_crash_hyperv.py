"""Crash matrix on a Hyper-V guest (the fake parent of tests/support/hyperv.py, kept in
files so the cleanup process sees what the crashed one did): the orchestrator dies before
and after the steps that attach and detach pass-through disks, and between two disks;
`cleanup` in a new process then leaves no pass-through disk, mapping, group or target
that no finished set owns. `--long` adds every other step of create and delete."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from states.create import CreateLifecycle
from states.delete import DeleteLifecycle
from states.machine import CRASH_ENV, CRASH_EXIT
from tests.support.hyperv import FakeParent
from tests.support.vmdriver import DISK_CRASH_ENV

from .conftest import BACKUP_IQN, MiB, SRC1, SRC2, fill, write_config

ROOT = Path(__file__).resolve().parents[2]
LONG = os.environ.get("VSSORCH_LONG") == "1"
PARENT_PORT = BACKUP_IQN          # the demo seed's backup_host stands in for the Hyper-V parent
HYPERVISOR_STEPS = {("create", "expose"), ("delete", "unexpose")}


def _points():
    for op, lifecycle in (("create", CreateLifecycle), ("delete", DeleteLifecycle)):
        for trigger in (s.trigger for s in lifecycle.STEPS):
            if LONG or (op, trigger) in HYPERVISOR_STEPS:
                for when in ("before", "after"):
                    yield pytest.param(op, f"{op}:{trigger}:{when}", None, id=f"{op}-{trigger}-{when}")
    yield pytest.param("create", None, "attach:1", id="create-after-first-disk-attached")
    yield pytest.param("delete", None, "detach:1", id="delete-after-first-disk-detached")


def run(spec: Path, args: list[str], crash: str | None = None, disk_crash: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, DISK_CRASH_ENV)}
    if crash:
        env[CRASH_ENV] = crash
    if disk_crash:
        env[DISK_CRASH_ENV] = disk_crash
    return subprocess.run([sys.executable, "-m", "tests.lifecycle.hyperv_driver", str(spec), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("op,crash,disk_crash", list(_points()))
def test_crash_then_cleanup_on_a_hyperv_guest(array, view, tmp_path, op, crash, disk_crash):
    cfg = write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"config": str(cfg), "array_url": array.url, "port": PARENT_PORT,
                                "guest_state": str(tmp_path / "guest"), "parent_state": str(tmp_path / "parent")}))
    parent = FakeParent(array, PARENT_PORT, tmp_path / "parent")
    src = {SRC1: fill(array, SRC1, b"alpha "), SRC2: fill(array, SRC2, b"beta ")}
    baseline = view.snapshot()
    if op == "delete":
        made = run(spec, ["create", "s1", SRC1, SRC2])
        assert made.returncode == 0, made.stderr[-2000:]
        assert len(parent.attached) == 2
    args = ["create", "s1", SRC1, SRC2] if op == "create" else ["delete", "s1"]

    crashed = run(spec, args, crash, disk_crash)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr[-2000:]
    cleaned = run(spec, ["cleanup"])
    assert cleaned.returncode == 0, cleaned.stderr[-2000:]
    again = run(spec, ["cleanup"])
    assert again.returncode == 0 and json.loads(again.stdout) == [], again.stdout + again.stderr[-2000:]

    sets = Orchestrator.from_config(load_config(cfg), consumer=None).sets()
    assert all(s.state == "done" for s in sets) and view.groups() == []
    live = {s.target_uid for r in sets for s in r.shadows}
    assert set(parent.attached) == live and len(parent.attached) == len(live)   # no disk left on the VM
    assert {lun["uid"] for lun in array.host_luns(PARENT_PORT)} == live          # nor a mapping to the parent
    # a disk is detached from the VM only while the array still maps it (manual 5.1)
    assert all(mapped for what, _, mapped in parent.events if what == "detach")
    assert {n for n in view.fcmaps() if n.startswith("vss-")} == {s.fcmap_name for r in sets for s in r.shadows}
    vols = view.volumes()
    assert {vols[n]["uid"] for n in view.host_volumes()["vss_res_host"]} == live
    for uid, data in src.items():
        assert array.read(uid, 0, 4 * MiB) == data
    for r in sets:
        for s in r.shadows:
            assert array.read(s.target_uid, 0, 4 * MiB) == src[s.source_uid]
    if op == "create":
        assert view.snapshot() == baseline or len(sets) == 1
    else:
        assert view.snapshot() == baseline and sets == []
