"""Request budgets of issue 17 on a 16-volume set, counted by the engine's CIM adapter:
a delete within 10 + 1 request per volume (targets from the free pool), and with
storagePool (targets created and deleted) create and delete each within 10 + 2 per
volume. The array is checked after each operation: the budget is not met by leaving
work undone."""
from __future__ import annotations

import pytest

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from core.records import SetOptions
from tests.support.arrayproc import PREPARE_AT_ONCE, ArrayProcess
from tests.support.configfile import write_config
from tests.support.view import ArrayView

N = 16
SEED = f"""
pools: [{{name: Pool0, capacity: 1TiB}}]
hosts:
  - {{name: vss_free_host, wwpns: ["5000000000000000"]}}
  - {{name: vss_res_host, wwpns: ["5000000000000001"]}}
  - {{name: app, iqns: ["iqn.2026-11.example:app"]}}
volumes:
  - {{name: "src{{n:02d}}", count: {N + 1}, size: 16MiB, pool: Pool0, map: app}}
  - {{name: "tgt{{n:02d}}", count: {N + 1}, size: 16MiB, pool: Pool0, map: vss_free_host}}
"""


@pytest.fixture(scope="module")
def budget_array(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("budget")
    (tmp / "seed.yaml").write_text(SEED)
    proc = ArrayProcess(state=tmp / "array", http=True, seed=tmp / "seed.yaml", time_scale=PREPARE_AT_ONCE).start()
    yield proc, tmp
    proc.stop()


def _warm(proc: ArrayProcess, tmp, name: str, **params) -> tuple[Orchestrator, list[str], ArrayView]:
    """An orchestrator whose one-time lookups (cluster, services, hosts) are done."""
    cfg = write_config(tmp / f"{name}.yaml", proc, tmp / name, backgroundCopy=0, **params)
    orch = Orchestrator.from_config(load_config(cfg), consumer=None)
    view = ArrayView(proc)
    vols = view.volumes()
    sources = [vols[f"src{n:02d}"]["uid"] for n in range(N + 1)]
    orch.create(sources[N:], SetOptions(), set_id=f"{name}-warm")
    orch.delete(set_id=f"{name}-warm")
    return orch, sources[:N], view


def _count(orch: Orchestrator, fn) -> int:
    sent = orch.array.requests
    fn()
    return orch.array.requests - sent


def test_delete_from_the_free_pool_within_10_plus_1_per_volume(budget_array):
    proc, tmp = budget_array
    orch, sources, view = _warm(proc, tmp, "plain")
    free_before = view.host_volumes()["vss_free_host"]
    orch.create(sources, SetOptions(), set_id="plain")
    assert len(view.host_volumes()["vss_res_host"]) == N
    sent = _count(orch, lambda: orch.delete(set_id="plain"))
    print(f"\n{N}-volume delete (free pool): {sent} requests")
    assert sent <= 10 + N
    assert view.host_volumes()["vss_free_host"] == free_before       # every target is free again
    assert view.host_volumes()["vss_res_host"] == set()
    assert not [n for n in view.fcmaps() if n.startswith("vss-")] and orch.sets() == []


def test_dynamic_targets_create_and_delete_within_10_plus_2_per_volume(budget_array):
    proc, tmp = budget_array
    orch, sources, view = _warm(proc, tmp, "dynamic", storagePool="Pool0")
    volumes_before = set(view.volumes())
    created = _count(orch, lambda: orch.create(sources, SetOptions(), set_id="dyn"))
    made = set(view.volumes()) - volumes_before
    assert len(made) == N and all(n.startswith("vss-") for n in made)
    assert len([n for n in view.fcmaps() if n.startswith("vss-")]) == N
    deleted = _count(orch, lambda: orch.delete(set_id="dyn"))
    print(f"\n{N}-volume create / delete (storagePool): {created} / {deleted} requests")
    assert created <= 10 + 2 * N
    assert deleted <= 10 + 2 * N
    assert set(view.volumes()) == volumes_before                       # the created targets are gone
    assert not [n for n in view.fcmaps() if n.startswith("vss-")] and orch.sets() == []
