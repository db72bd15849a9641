"""A whole FlashCopy through the adapter: group, two pairs, prepare, one-request start,
and the targets hold the sources as they were at the start."""
from __future__ import annotations

from core.model import PREPARED

from .conftest import MiB, SRC1, SRC2


def test_point_in_time_copy_of_two_volumes(sim, cim, view):
    before = {SRC1: (b"first " * MiB)[:2 * MiB], SRC2: (b"second " * MiB)[:2 * MiB]}
    for uid, data in before.items():
        sim.write(uid, 0, data)
    sources = cim.volumes_by_uid([SRC1, SRC2])
    free = next(h for h in cim.hosts() if h.name == "vss_free_host")
    targets = sorted(cim.host_volumes(free.id), key=lambda v: int(v.id))[:2]
    group = cim.create_group("vss-rt-g")
    pairs = [(sources[uid].id, t.id, f"vss-rt-{n}") for n, (uid, t) in enumerate(zip((SRC1, SRC2), targets))]
    sent = cim.requests
    maps = cim.attach(pairs, copy_rate=0, incremental=False, group_id=group.id)
    assert cim.requests - sent == 2              # AttachReplicas, then the new mappings read back
    assert [m.group_id for m in maps] == [group.id, group.id]
    assert {n: (m["source"], m["target"], m["group"]) for n, m in view.fcmaps().items()} == {
        name: (s, t, group.id) for s, t, name in pairs}
    cim.prepare_group(group.id)
    assert cim.group(group.id).state == PREPARED
    sent = cim.requests
    cim.start_group(group.id)
    assert cim.requests - sent == 1
    for uid in before:
        sim.write(uid, 0, b"changed after the start " * 100)
    for uid, target in zip((SRC1, SRC2), targets):
        assert sim.read(target.uid, 0, 2 * MiB) == before[uid]
        assert sim.read(uid, 0, 24) == b"changed after the start "


def test_attach_is_one_request_for_any_number_of_pairs(sim, cim):
    src = cim.volumes_by_uid([SRC1])[SRC1]
    free = next(h for h in cim.hosts() if h.name == "vss_free_host")
    targets = sorted(cim.host_volumes(free.id), key=lambda v: int(v.id))
    costs = []
    for n, chunk in ((1, targets[:1]), (4, targets[1:5]), (2, targets[5:7])):
        sent = cim.requests
        maps = cim.attach([(src.id, t.id, f"cim-{n}-{i}") for i, t in enumerate(chunk)], copy_rate=0,
                          incremental=False, group_id=None)
        costs.append(cim.requests - sent)
        assert len(maps) == n
    assert sim.stats()["AttachReplicas"] == 3
    assert costs == [3, 2, 2]                     # the first call also finds the service
