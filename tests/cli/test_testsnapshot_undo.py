"""`inspurvcfg testsnapshot` never leaves its set behind: a volume this host cannot read
(mapped to another host) is refused with the manual's 201 before anything changes, in
one line; a failure after the set was prepared undoes it."""
from __future__ import annotations

from tests.cli.conftest import needs_cim, one_line_error

pytestmark = needs_cim


def test_a_volume_this_host_cannot_read_is_201_and_leaves_nothing(run, config, view, tmp_path):
    before = view.snapshot()
    done = run("inspurvcfg", "--config", str(config), "testsnapshot", "vss_target_vol")
    err = one_line_error(done, "inspurvcfg", 201, 1)
    assert "vss_target_vol" in err and "not mapped to this host" in err
    assert view.snapshot() == before
    assert "no shadow copies" in run("vssorch", "list", "--config", str(config)).stdout
    state = tmp_path / "state"
    assert not state.exists() or [p.name for p in state.glob("*.json")] == []
