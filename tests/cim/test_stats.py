"""The adapter's request count is what the array saw: each hot path of a create, with
its cost in requests checked against the array's own per-operation counters."""
from __future__ import annotations

from collections import Counter

from tests.support.cimadapter import adapter
from tests.support.demo import SRC1, SRC2


class Meter:
    """Runs one adapter call and returns (requests the adapter counted, what the array counted)."""

    def __init__(self, sim, cim):
        self.sim, self.cim = sim, cim

    def __call__(self, fn, *args, **kwargs):
        sent, before = self.cim.requests, Counter(self.sim.stats())
        fn(*args, **kwargs)
        return self.cim.requests - sent, dict(Counter(self.sim.stats()) - before)


def test_hot_paths_cost_what_the_array_counts(sim):
    sim.admin("DELETE", "stats")
    cim = adapter(sim)
    meter = Meter(sim, cim)
    on_array = [f"60050760008D89C0D0000000000000{n:02X}" for n in range(1, 4)]
    uids = on_array + [f"{n:032X}" for n in range(64 - len(on_array))]

    assert meter(cim.volumes_by_uid, uids) == (1, {"ExecQuery": 1})
    # an indexed query: the array built the three volumes asked for, not all eleven
    assert sim.admin("GET", "stats")["built"] == {"IBMTSSVC_StorageVolume": 3}
    assert meter(cim.hosts) == (1, {"EnumerateInstances": 1})
    free, res = cim.host_named("vss_free_host"), cim.host_named("vss_res_host")
    # the host view's path is built from the cluster's id (read once), not looked up
    assert meter(cim.host_volumes, free.id) == (2, {"EnumerateInstances": 1, "Associators": 1})
    assert meter(cim.host_volumes, free.id) == (1, {"Associators": 1})

    sources = cim.volumes_by_uid([SRC1, SRC2])
    free_vols = sorted(cim.host_volumes(free.id), key=lambda v: int(v.id))
    targets = free_vols[:2]
    cim.attach([(free_vols[2].id, free_vols[3].id, "cim-other")], copy_rate=0, incremental=False, group_id=None)
    meter(cim.create_group, "cim-stats")
    group = cim.groups_named("cim-stats")[0]
    pairs = [(sources[u].id, t.id, f"cim-stats-{n}") for n, (u, t) in enumerate(zip((SRC1, SRC2), targets))]
    built = lambda: sim.admin("GET", "stats")["built"].get("IBMTSSVC_LocalStorageSynchronized", 0)  # noqa: E731
    before = built()
    assert meter(cim.attach, pairs, copy_rate=0, incremental=False, group_id=group.id) == (
        2, {"AttachReplicas": 1, "ExecQuery": 1})
    # the new mappings are read back by name: the array built those two, not cim-other too
    assert built() - before == 2

    sent, counted = meter(cim.prepare_group, group.id)        # the method, then looks at its job
    assert counted.pop("ModifySynchronizedSet") == 1 and set(counted) <= {"GetInstance"}
    assert sent == 1 + sum(counted.values())
    assert meter(cim.start_group, group.id) == (1, {"ModifySynchronizedSet": 1})

    ids = [t.id for t in targets]
    assert meter(cim.map_volumes, res.id, ids) == (2, {"EnumerateInstanceNames": 1, "ExposePaths": 1})
    assert meter(cim.unmap_volumes, free.id, ids) == (1, {"HidePaths": 1})
    assert meter(cim.host_volumes, res.id) == (1, {"Associators": 1})

    # nobody else talked to this array: every request it counted is one the adapter counted
    assert cim.requests == sim.admin("GET", "stats")["total"]
