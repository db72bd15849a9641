"""Crash matrix on a Hyper-V guest (the fake parent of tests/support/hyperv.py, kept in
files so the cleanup process sees what the crashed one did): the orchestrator dies before
and after the steps that attach and detach pass-through disks, and between two disks;
`cleanup` in a new process then leaves no pass-through disk, mapping, group or target
that no finished set owns. `--long` adds every other step of create and delete."""
from __future__ import annotations

import json

import pytest

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from tests.support.configfile import write_config
from tests.support.data import fill
from tests.support.demo import BACKUP_IQN, SRC1, SRC2
from tests.support.hyperv import FakeParent
from tests.support.lifecycle import give_sources_to
from tests.support.vmcrash import check_array, crash_then_clean, points, run

DRIVER = "tests.lifecycle.hyperv_driver"
PARENT_PORT = BACKUP_IQN          # the demo seed's backup_host stands in for the Hyper-V parent


@pytest.mark.parametrize("op,crash,disk_crash", list(points()))
def test_crash_then_cleanup_on_a_hyperv_guest(array, view, tmp_path, op, crash, disk_crash):
    cfg = write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"config": str(cfg), "array_url": array.url, "port": PARENT_PORT,
                                "guest_state": str(tmp_path / "guest"), "parent_state": str(tmp_path / "parent")}))
    parent = FakeParent(array, PARENT_PORT, tmp_path / "parent")
    src = {SRC1: fill(array, SRC1, b"alpha "), SRC2: fill(array, SRC2, b"beta ")}
    give_sources_to(Orchestrator.from_config(load_config(cfg), consumer=None).array, PARENT_PORT, src)
    baseline = view.snapshot()
    if op == "delete":
        made = run(DRIVER, spec, ["create", "s1", SRC1, SRC2])
        assert made.returncode == 0, made.stderr[-2000:]
        assert len(parent.attached) == 2

    crash_then_clean(DRIVER, spec, op, [SRC1, SRC2], crash, disk_crash)
    check_array(cfg, array, view, src, baseline, op, parent.attached, PARENT_PORT)
    # a disk is detached from the VM only while the array still maps it (manual 5.1)
    assert all(mapped for what, _, mapped in parent.events if what == "detach")
