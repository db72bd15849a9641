"""Crash matrix on a VMware guest: the orchestrator process dies before and after the
steps that touch vSphere (showing the targets as pRDMs in create, removing them in
delete), and in the middle of them (after the first of two RDMs); `cleanup` in a new
process then leaves no RDM, mapping, group or target that no finished set owns, and the
array as before or with the operation done. `--long` adds every other step of both
lifecycles with the VMware consumer in place."""
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
from tests.lifecycle.conftest import ArrayView, MiB, SRC1, SRC2, fill, write_config
from tests.support.vmdriver import DISK_CRASH_ENV

from .conftest import FC_WWPNS, PASSWORD, SELF_IP, USER

ROOT = Path(__file__).resolve().parents[2]
LONG = os.environ.get("VSSORCH_LONG") == "1"
HYPERVISOR_STEPS = {("create", "expose"), ("delete", "unexpose")}


def _points():
    for op, lifecycle in (("create", CreateLifecycle), ("delete", DeleteLifecycle)):
        for trigger in (s.trigger for s in lifecycle.STEPS):
            if LONG or (op, trigger) in HYPERVISOR_STEPS:
                for when in ("before", "after"):
                    yield pytest.param(op, f"{op}:{trigger}:{when}", None, id=f"{op}-{trigger}-{when}")
    yield pytest.param("create", None, "attach:1", id="create-after-first-rdm-attached")
    yield pytest.param("delete", None, "detach:1", id="delete-after-first-rdm-removed")


def run(spec: Path, args: list[str], crash: str | None = None, rdm_crash: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, DISK_CRASH_ENV)}
    if crash:
        env[CRASH_ENV] = crash
    if rdm_crash:
        env[DISK_CRASH_ENV] = rdm_crash
    return subprocess.run([sys.executable, "-m", "tests.esxi.driver", str(spec), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("op,crash,rdm_crash", list(_points()))
def test_crash_then_cleanup_on_a_vmware_guest(esx_array, vcsim, esx, self_vm, tmp_path, op, crash, rdm_crash):
    array = esx_array
    cfg = write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "config": str(cfg), "array_url": array.url, "wwpn": FC_WWPNS[0], "guest_state": str(tmp_path / "guest"),
        "vcsim_url": vcsim.url, "cafile": vcsim.cafile, "user": USER, "password": PASSWORD,
        "lun_file": str(vcsim.lun_file), "ip": SELF_IP}))
    view = ArrayView(array)
    src = {SRC1: fill(array, SRC1, b"alpha "), SRC2: fill(array, SRC2, b"beta ")}
    baseline = view.snapshot()
    if op == "delete":
        made = run(spec, ["create", "s1", SRC1, SRC2])
        assert made.returncode == 0, made.stderr[-2000:]
        assert len(esx.list_rdms(self_vm)) == 2
    args = ["create", "s1", SRC1, SRC2] if op == "create" else ["delete", "s1"]

    crashed = run(spec, args, crash, rdm_crash)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr[-2000:]
    cleaned = run(spec, ["cleanup"])
    assert cleaned.returncode == 0, cleaned.stderr[-2000:]
    again = run(spec, ["cleanup"])
    assert again.returncode == 0 and json.loads(again.stdout) == [], again.stdout + again.stderr[-2000:]

    sets = Orchestrator.from_config(load_config(cfg), consumer=None).sets()
    assert all(s.state == "done" for s in sets) and view.groups() == []
    live = {s.target_uid for r in sets for s in r.shadows}
    assert {d.uid for d in esx.list_rdms(self_vm)} == live                  # no RDM left behind
    assert {lun["uid"] for lun in array.host_luns(FC_WWPNS[0])} == live     # nor a mapping to the ESXi host
    assert {n for n in view.fcmaps() if n.startswith("vss-")} == {s.fcmap_name for r in sets for s in r.shadows}
    vols = view.volumes()
    assert {vols[n]["uid"] for n in view.host_volumes()["vss_res_host"]} == live     # no leaked target
    for uid, data in src.items():
        assert array.read(uid, 0, 4 * MiB) == data
    for r in sets:
        for s in r.shadows:
            assert array.read(s.target_uid, 0, 4 * MiB) == src[s.source_uid]
    if op == "create":
        assert view.snapshot() == baseline or len(sets) == 1
    else:
        assert view.snapshot() == baseline and sets == []
