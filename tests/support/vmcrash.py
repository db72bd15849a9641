"""The crash matrix on a VM guest, shared by the VMware (vcsim) and Hyper-V tests: which
points, how the orchestrator process is run and cleaned up after, and what must hold
afterwards on the array."""
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
from tests.support.arrayproc import ROOT
from tests.support.data import MiB
from tests.support.vmdriver import DISK_CRASH_ENV

# the steps that attach disks to the VM (create) and remove them (delete)
HYPERVISOR_STEPS = {("create", "expose"), ("delete", "unexpose")}


def points():
    """(op, lifecycle crash point, disk crash point): before and after the hypervisor steps,
    and between two disks; every step with --long."""
    long = os.environ.get("VSSORCH_LONG") == "1"
    for op, lifecycle in (("create", CreateLifecycle), ("delete", DeleteLifecycle)):
        for trigger in (s.trigger for s in lifecycle.STEPS):
            if long or (op, trigger) in HYPERVISOR_STEPS:
                for when in ("before", "after"):
                    yield pytest.param(op, f"{op}:{trigger}:{when}", None, id=f"{op}-{trigger}-{when}")
    yield pytest.param("create", None, "attach:1", id="create-after-first-disk-attached")
    yield pytest.param("delete", None, "detach:1", id="delete-after-first-disk-removed")


def run(driver: str, spec: Path, args: list[str], crash: str | None = None, disk_crash: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, DISK_CRASH_ENV)}
    if crash:
        env[CRASH_ENV] = crash
    if disk_crash:
        env[DISK_CRASH_ENV] = disk_crash
    return subprocess.run([sys.executable, "-m", driver, str(spec), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def crash_then_clean(driver: str, spec: Path, op: str, sources: list[str], crash, disk_crash) -> None:
    """The operation dies at the point; cleanup runs in a new process, then again (it must
    find nothing left to do)."""
    args = ["create", "s1", *sources] if op == "create" else ["delete", "s1"]
    crashed = run(driver, spec, args, crash, disk_crash)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr[-2000:]
    cleaned = run(driver, spec, ["cleanup"])
    assert cleaned.returncode == 0, cleaned.stderr[-2000:]
    again = run(driver, spec, ["cleanup"])
    assert again.returncode == 0 and json.loads(again.stdout) == [], again.stdout + again.stderr[-2000:]


def check_array(cfg: Path, array, view, src: dict[str, bytes], baseline, op: str, vm_disks: list[str],
                vm_port: str) -> None:
    """Nothing leaked: the VM's disks and the LUNs mapped to its host are exactly the live
    sets' targets, every mapping and reserved target belongs to a live set, sources and
    images hold their bytes, the array is as before or with the operation done."""
    sets = Orchestrator.from_config(load_config(cfg), consumer=None).sets()
    assert all(s.state == "done" for s in sets) and view.groups() == []
    live = {s.target_uid for r in sets for s in r.shadows}
    assert set(vm_disks) == live and len(vm_disks) == len(live)           # no disk left on the VM, none twice
    assert {lun["uid"] for lun in array.host_luns(vm_port)} - set(src) == live   # nor mapped to its host
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
