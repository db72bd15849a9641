"""Unreadable recovery files are moved aside and block nothing; array objects of this
folder's lifecycles that no file accounts for are found and given back (issue 14,
scenario 3)."""
from __future__ import annotations

import json

from orchestrator import ownership
from orchestrator.cli.main import main
from core.records import SetOptions

from tests.support.data import fill
from tests.support.demo import BACKUP_IQN, SRC1, SRC2


def _die(orch) -> None:
    """What the OS does when the process running these lifecycles dies."""
    orch._live.clear()
    ownership.forget_all()


def test_damaged_files_are_moved_aside_and_block_nothing(array, view, orch, tmp_path, capsys):
    baseline = view.snapshot()
    kept = orch.create([SRC1], set_id="kept")
    orch.prepare("crashed", [SRC2])
    _die(orch)
    state = orch.store.root
    real = (state / "set-kept.json").read_text()
    # a set's file holding a delete under way: a kind that never runs in a set's file
    misfiled = {**json.loads(real), "op": {"kind": "delete", "lifecycle_id": "x", "state": "planned",
                                           "pending": None, "rolling_back": False}}
    bad = {"set-garbage": "\x00\xffnot json", "set-empty": "", "delete-cut": real[: len(real) // 2],
           "set-hollow": '{"schema": 1}', "restore-odd": '{"schema": 1, "kind": "mystery", "items": []}',
           "set-misfiled": json.dumps(misfiled)}
    for key, text in bad.items():
        (state / f"{key}.json").write_text(text)
    config = str(tmp_path / "host1.yaml")

    assert main(["list", "--config", config, "--json"]) == 0        # list keeps working
    out, err = capsys.readouterr()
    assert {r["set_id"] for r in json.loads(out)} == {"kept", "crashed"}
    # named: what is not JSON of this schema, and a set file without its record
    assert {key for key in bad if f"{key}.json" in err} == set(bad) - {"restore-odd", "set-misfiled"}

    report = orch.cleanup()
    aside = {r["file"]: r for r in report if r["action"] == "moved aside"}
    assert set(aside) == set(bad)
    for key, row in aside.items():
        assert row["path"] == str(state / f"{key}.json.corrupt") and row["code"] == 2502
        assert (state / f"{key}.json.corrupt").read_text() == bad[key]
    assert [r["action"] for r in report if r["file"] == "set-crashed"] == ["rolled back"]
    assert [r.set_id for r in orch.sets()] == ["kept"] and orch.store.damaged == {}
    assert orch.cleanup() == []
    orch.delete(set_id=kept.set_id)
    assert view.snapshot() == baseline


def test_orphans_are_found_and_given_back_and_foreign_ones_left(array, view, make_orch, tmp_path, capsys):
    baseline = view.snapshot()
    orch = make_orch("host1", consumer=None)
    other = make_orch("host2", consumer=None)           # another host's folder on the same array
    fill(array, SRC1, b"one ")
    lost = orch.create([SRC1], SetOptions(transportable=True), set_id="lost")
    orch.import_set("lost", "backup_host")
    alive = orch.create([SRC2], set_id="alive")
    theirs = other.create([SRC2], set_id="theirs")
    orch.prepare("half", [SRC1])                        # a group, a mapping, a target still free
    _die(orch)
    dynamic = make_orch("host1", consumer=None, storagePool="Pool0").create([SRC1], set_id="dyn")
    for key in ("set-lost", "set-half", "set-dyn"):    # deleted by hand, or moved aside
        orch.store.path(key).unlink()
    half_id = next(n for n in view.groups()).split("-")[1]
    half_target = _target_of(view, f"vss-{half_id}-0")

    found = {(o["kind"], o["name"] or o["id"]): o for o in orch.orphans()}
    mine = {k for k, o in found.items() if o["action"] == "found"}
    assert mine == {("group", f"vss-{half_id}"), ("mapping", f"vss-{half_id}-0"),
                    ("mapping", f"vss-{lost.lifecycle_id}-0"), ("mapping", f"vss-{dynamic.lifecycle_id}-0"),
                    ("target", lost.shadows[0].target_id), ("target", half_target),
                    ("volume", f"vss-{dynamic.lifecycle_id}-t0")}
    assert found[("target", lost.shadows[0].target_id)]["hosts"] == ["backup_host", "vss_res_host"]
    assert {k for k, o in found.items() if o["action"] == "foreign"} == {("mapping", f"vss-{theirs.lifecycle_id}-0")}
    assert main(["cleanup", "--config", str(tmp_path / "host1.yaml"), "--orphans", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["cleanup"] == [] and len(listed["orphans"]) == len(found)

    removed = orch.orphans(remove=True)
    assert {(o["kind"], o["name"] or o["id"]) for o in removed if o["action"] == "removed"} == mine
    assert array.host_luns(BACKUP_IQN) == []
    assert {(o["kind"], o["action"]) for o in orch.orphans()} == {("mapping", "foreign")}
    orch.delete(set_id=alive.set_id)
    other.delete(set_id=theirs.set_id)
    assert view.snapshot() == baseline                  # every target back in the free pool


def _target_of(view, name: str) -> str:
    src, tgt, _ = view.fcmaps()[name]
    return view.volumes()[tgt]["id"]
