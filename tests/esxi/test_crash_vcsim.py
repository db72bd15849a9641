"""Crash matrix on a VMware guest: the orchestrator process dies before and after the
steps that touch vSphere (showing the targets as pRDMs in create, removing them in
delete), and in the middle of them (after the first of two RDMs); `cleanup` in a new
process then leaves no RDM, mapping, group or target that no finished set owns, and the
array as before or with the operation done. `--long` adds every other step of both
lifecycles with the VMware consumer in place."""
from __future__ import annotations

import json

import pytest

from tests.support.configfile import write_config
from tests.support.data import fill
from tests.support.demo import SRC1, SRC2
from tests.support.vcsim import FC_WWPNS, PASSWORD, SELF_IP, USER
from tests.support.view import ArrayView
from tests.support.vmcrash import check_array, crash_then_clean, points, run

DRIVER = "tests.esxi.driver"


@pytest.mark.parametrize("op,crash,disk_crash", list(points()))
def test_crash_then_cleanup_on_a_vmware_guest(esx_array, vcsim, esx, self_vm, tmp_path, op, crash, disk_crash):
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
        made = run(DRIVER, spec, ["create", "s1", SRC1, SRC2])
        assert made.returncode == 0, made.stderr[-2000:]
        assert len(esx.list_rdms(self_vm)) == 2

    crash_then_clean(DRIVER, spec, op, [SRC1, SRC2], crash, disk_crash)
    check_array(cfg, array, view, src, baseline, op, [d.uid for d in esx.list_rdms(self_vm)], FC_WWPNS[0])
