"""The state tables themselves, and the recovery files they are persisted to."""
from __future__ import annotations

import json

import pytest

from states import KINDS as LIFECYCLES
from core.errors import VssError
from orchestrator.recovery import RecoveryStore


@pytest.mark.parametrize("kind", sorted(LIFECYCLES))
def test_each_table_is_one_path_and_every_row_has_its_step(kind):
    cls = LIFECYCLES[kind]
    assert [s.source for s in cls.STEPS] == cls.STATES[:-1]
    assert [s.dest for s in cls.STEPS] == cls.STATES[1:]
    for step in cls.STEPS:
        assert callable(getattr(cls, f"do_{step.trigger}"))
        if step.undoable:
            assert callable(getattr(cls, f"undo_{step.trigger}"))


def test_files_are_replaced_whole_and_carry_a_schema(tmp_path):
    store = RecoveryStore(tmp_path / "s")
    store.save("set-a", {"state": "new"})
    store.save("set-a", {"state": "checked"})
    assert store.load("set-a") == {"state": "checked"}
    assert json.loads((tmp_path / "s" / "set-a.json").read_text())["schema"] == 1
    assert [p.name for p in (tmp_path / "s").iterdir()] == ["set-a.json"]     # no temp files left
    assert store.keys() == ["set-a"]
    store.delete("set-a")
    store.delete("set-a")
    assert store.keys() == [] and store.load("set-a") is None


def test_a_foreign_or_broken_file_is_2502(tmp_path):
    store = RecoveryStore(tmp_path)
    (tmp_path / "set-x.json").write_text('{"schema": 99}')
    with pytest.raises(VssError) as err:
        store.load("set-x")
    assert err.value.code == 2502
    (tmp_path / "set-y.json").write_text("{not json")
    with pytest.raises(VssError) as err:
        store.load("set-y")
    assert err.value.code == 2502


def test_a_folder_that_is_a_file_is_1600(tmp_path):
    (tmp_path / "x").write_text("")
    with pytest.raises(VssError) as err:
        RecoveryStore(tmp_path / "x").save("set-a", {})
    assert err.value.code == 1600
