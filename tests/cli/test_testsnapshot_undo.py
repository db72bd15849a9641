"""A volume this host cannot read (mapped to another host): `inspurvcfg testsnapshot`
refuses it with the manual's 201 in one line and leaves nothing (it used to leak a
prepared mapping and a target, reported as 4001); a batch create is refused the same
way, before anything changes."""
from __future__ import annotations

import json

from tests.support.commands import one_line_error


def test_a_volume_this_host_cannot_read_is_201_and_leaves_nothing(run, config, view, tmp_path):
    before = view.snapshot()
    done = run("inspurvcfg", "--config", str(config), "testsnapshot", "vss_target_vol")
    err = one_line_error(done, "inspurvcfg", 201, 1)
    assert "vss_target_vol" in err and "not mapped to this host" in err
    assert view.snapshot() == before
    assert "no shadow copies" in run("vssorch", "list", "--config", str(config)).stdout
    state = tmp_path / "state"
    assert not state.exists() or [p.name for p in state.glob("*.json")] == []


def test_a_batch_create_of_another_hosts_volume_is_201_before_anything_changes(run, config, view, tmp_path):
    before = view.snapshot()
    path = tmp_path / "b.yaml"
    path.write_text("jobs:\n  - name: theirs\n    create: {volumes: [vss_src_vol, vss_target_1]}\n")
    done = run("vssorch", "batch", str(path), "--config", str(config), "--report", str(tmp_path / "r.json"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "error 201" in done.stderr
    assert "vss_target_1" in done.stderr
    assert json.loads((tmp_path / "r.json").read_text())["jobs"][0]["code"] == 201
    assert view.snapshot() == before
