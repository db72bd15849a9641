"""Identity before action: a delete that failed half-way and was retried must not, later,
"complete" against a newer shadow copy that reuses its target and mapping id (issue 14,
scenario 1), and a retried delete resumes the pending one instead of starting another."""
from __future__ import annotations

import shutil

import pytest

from core.errors import VssError
from states.delete import DeleteLifecycle

from .conftest import MiB, SRC1, fill


@pytest.fixture(params=["unexpose", "release"])
def failing_step(request, monkeypatch):
    """The delete fails once half-way: the hypervisor is unreachable when the targets
    are taken away (unexpose), or the array is down when they are given back (release)."""
    calls = []
    real = getattr(DeleteLifecycle, f"do_{request.param}")

    def down(self):
        if not calls:
            calls.append(1)
            raise VssError(3008, "no answer")
        real(self)
    monkeypatch.setattr(DeleteLifecycle, f"do_{request.param}", down)
    return request.param


def _delete_files(orch):
    return [k for k in orch.store.keys() if k.startswith("delete-")]


def test_a_stale_delete_never_completes_against_a_newer_copy(array, view, orch, failing_step, tmp_path):
    baseline = view.snapshot()
    fill(array, SRC1, b"old ")
    old = orch.create([SRC1], set_id="s1")
    with pytest.raises(VssError):
        orch.delete(set_id="s1")
    (stale,) = _delete_files(orch)
    kept = shutil.copy(orch.store.path(stale), tmp_path / "stale.json")   # what an older version left
    orch.delete(set_id="s1")                                             # retried by hand
    assert orch.sets() == [] and view.snapshot() == baseline
    shutil.copy(kept, orch.store.path(stale))

    new_bytes = fill(array, SRC1, b"new ")
    new = orch.create([SRC1], set_id="s2")
    assert new.shadows[0].target_id == old.shadows[0].target_id        # the same target ...
    assert new.shadows[0].fcmap_id == old.shadows[0].fcmap_id          # ... and the same mapping id
    fill(array, SRC1, b"later ")
    with_new = view.snapshot()

    report = orch.cleanup()
    assert view.snapshot() == with_new                                 # the new copy is untouched
    assert array.read(new.shadows[0].target_uid, 0, MiB) == new_bytes[:MiB]
    assert [r.set_id for r in orch.sets()] == ["s2"] and _delete_files(orch) == []
    (row,) = report
    assert row["action"] == "completed" and row["file"] == stale
    assert any(new.shadows[0].target_id in note for note in row["retired"])
    if failing_step == "unexpose":      # its withdraw was still to come: the mapping id is another's now
        assert any(f"mapping {new.shadows[0].fcmap_id} is now {new.shadows[0].fcmap_name}" in n for n in row["retired"])


def test_a_retried_delete_resumes_the_pending_one(array, view, orch, failing_step):
    baseline = view.snapshot()
    record = orch.create([SRC1], set_id="s1")
    with pytest.raises(VssError) as err:
        orch.delete(set_id="s1")
    assert err.value.code == 3008
    (pending,) = _delete_files(orch)
    assert orch.delete(set_id="s1") == [record.shadows[0].shadow_id]
    assert _delete_files(orch) == [] and orch.sets() == []
    assert view.snapshot() == baseline
    assert orch.cleanup() == []
