"""A process keeps the free pool as it last listed it (issue 17: a create's cost must not
grow with the pool); what changed on the array since then is found before a target is
used, never after."""
from __future__ import annotations

import threading

import pytest

from core.errors import VssError

from tests.support.arrayproc import PREPARE_AT_ONCE
from tests.support.demo import SRC1, SRC2


@pytest.fixture(autouse=True)
def _prepares_at_once(array):
    """The tests count a create's requests: no read of a mapping still preparing."""
    array.admin("POST", "clock", {"scale": PREPARE_AT_ONCE})


def _free(view) -> set[str]:
    return view.host_volumes()["vss_free_host"]


def test_a_kept_target_that_left_the_pool_is_not_used(view, orch, make_orch):
    orch.delete(set_id=orch.create([SRC1]).set_id)          # the pool is listed and kept
    other = make_orch("admin", consumer=None).array         # an administrator, another process
    free_id = other.host_named("vss_free_host").id
    ids = {n: v["id"] for n, v in view.volumes().items()}
    gone = sorted(_free(view) - {"vss_target_7"})
    other.unmap_volumes(free_id, [ids[n] for n in gone])     # `inspurvcfg rem` of all but one
    sent = orch.array.requests
    record = orch.create([SRC1])
    assert record.shadows[0].target_uid == view.uid("vss_target_7")
    assert orch.array.requests - sent <= 13                  # the pick checked, the pool listed again
    assert all(n not in view.host_volumes()["vss_res_host"] for n in gone)
    orch.delete(set_id=record.set_id)


def test_a_pool_with_nothing_left_that_fits_is_listed_again(view, orch, make_orch):
    first = orch.create([SRC1])                             # the pool is listed and kept
    other = make_orch("admin", consumer=None).array
    free_id = other.host_named("vss_free_host").id
    ids = {n: v["id"] for n, v in view.volumes().items()}
    rest = sorted(_free(view))
    other.unmap_volumes(free_id, [ids[n] for n in rest])
    with pytest.raises(VssError) as err:
        orch.create([SRC1])
    assert err.value.code == 3007                           # listed again: the pool is empty
    other.map_volumes(free_id, [ids[rest[0]]])              # `inspurvcfg add`
    second = orch.create([SRC1])
    assert second.shadows[0].target_uid == view.uid(rest[0])
    orch.delete(set_id=second.set_id)
    orch.delete(set_id=first.set_id)


def test_concurrent_creates_share_the_kept_pool(view, orch):
    """A service runs creates side by side on one kept pool: two of them may pick the
    same target; the array's refusal of the second attach (32816) makes it take another."""
    orch.delete(set_id=orch.create([SRC1]).set_id)          # the pool is listed and kept
    for _ in range(2):
        results, errors = {}, []

        def create(uid):
            try:
                results[uid] = orch.create([uid])
            except Exception as exc:   # noqa: BLE001 - reported below
                errors.append(exc)
        threads = [threading.Thread(target=create, args=(uid,)) for uid in (SRC1, SRC2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        names = {v["uid"]: n for n, v in view.volumes().items()}
        targets = {names[r.shadows[0].target_uid] for r in results.values()}
        assert len(targets) == 2 and targets <= view.host_volumes()["vss_res_host"]
        for record in results.values():
            orch.delete(set_id=record.set_id)
