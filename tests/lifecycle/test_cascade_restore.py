"""The manual's 5.1 cascade rules through the product: four no-copy shadow copies of S
taken in turn (S>T1 oldest .. S>T4 newest)."""
from __future__ import annotations

import pytest

from tests.support.data import fill, MiB
from tests.support.demo import SRC1


@pytest.fixture
def cascade(array, make_orch):
    orch = make_orch("c", consumer=None, backgroundCopy=0)
    images, records = [], []
    for i in range(4):
        images.append(fill(array, SRC1, f"image{i} ".encode()))
        records.append(orch.create([SRC1]))
    fill(array, SRC1, b"today ")
    return orch, records, images


def check(array, records, images, which):
    for i in which:
        assert array.read(records[i].shadows[0].target_uid, 0, 4 * MiB) == images[i], f"T{i + 1}"


def test_deleting_s_t2_also_deletes_s_t1(array, view, cascade):
    orch, records, images = cascade
    deleted = orch.delete(set_id=records[1].set_id)
    assert sorted(deleted) == sorted([records[1].shadows[0].shadow_id, records[0].shadows[0].shadow_id])
    assert sorted(r.set_id for r in orch.sets()) == sorted([records[2].set_id, records[3].set_id])
    assert sorted(view.fcmaps()) == sorted(r.shadows[0].fcmap_name for r in records[2:])
    check(array, records, images, (2, 3))
    free = view.host_volumes()["vss_free_host"]
    vols = {v["uid"]: n for n, v in view.volumes().items()}
    assert {vols[r.shadows[0].target_uid] for r in records[:2]} <= free      # both targets back


def test_restoring_from_s_t2_keeps_only_s_t1(array, view, cascade):
    orch, records, images = cascade
    removed = orch.restore(records[1].shadows[0].shadow_id)
    assert sorted(removed) == sorted(r.shadows[0].shadow_id for r in records[1:])
    assert array.read(SRC1, 0, 4 * MiB) == images[1]
    assert [r.set_id for r in orch.sets()] == [records[0].set_id]
    assert sorted(view.fcmaps()) == [records[0].shadows[0].fcmap_name]
    check(array, records, images, (0,))
    fill(array, SRC1, b"after the restore ")
    check(array, records, images, (0,))
