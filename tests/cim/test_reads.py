"""Reads: identity, volumes, hosts and their mappings, and what each costs in requests."""
from __future__ import annotations

import pytest

from core.errors import ArrayCallError

from .conftest import FREE_WWPN, HOST_IQN, SRC1, SRC2, TARGET, View, adapter


@pytest.fixture(scope="module")
def shared_view(shared_sim):
    return View(shared_sim)


def test_identity_and_target_mcs(shared_sim):
    ident = adapter(shared_sim).identity()
    cluster = shared_sim.admin("GET", "identity")
    assert (ident.cluster_id, ident.cluster_name) == (cluster["cluster_id"], cluster["cluster_name"])
    assert adapter(shared_sim, target_mcs=ident.cluster_id).identity() == ident
    with pytest.raises(ArrayCallError) as err:
        adapter(shared_sim, target_mcs="0000000000000BAD").identity()
    assert err.value.code == 702 and "0000000000000BAD" in str(err.value)


def test_volumes_by_uid_is_one_request_whatever_the_count(shared_sim, shared_view):
    cim = adapter(shared_sim)
    on_array = shared_view.volumes()
    uids = [v["uid"] for v in on_array.values()]
    asked = [u.lower() for u in uids] + [f"{n:032X}" for n in range(64 - len(uids))]
    sent = cim.requests
    found = cim.volumes_by_uid(asked)
    assert cim.requests - sent == 1
    assert sorted(found) == sorted(u.upper() for u in uids)
    src = found[SRC1]
    assert (src.name, src.size, src.pool, src.online) == ("vss_src_vol", 10 << 30, "Pool0", True)
    assert src.id == on_array["vss_src_vol"]["id"] and not src.thin


def test_volume_and_volumes_named(shared_sim, shared_view):
    cim = adapter(shared_sim)
    targets = cim.volumes_named("vss_target_")
    assert sorted(v.name for v in targets) == sorted(n for n in shared_view.volumes() if n.startswith("vss_target_"))
    vol = cim.volume(targets[0].id)
    assert vol == targets[0]
    sent = cim.requests
    assert cim.volume(targets[0].id) == vol and cim.requests - sent == 1   # path known: one GetInstance
    assert cim.volume("9999") is None


def test_hosts_and_initiators(shared_sim):
    cim = adapter(shared_sim)
    sent = cim.requests
    hosts = {h.name: h for h in cim.hosts()}
    assert cim.requests - sent == 1
    assert hosts["vss_free_host"].wwpns == (FREE_WWPN,)
    assert hosts["vss_iscsi_host"].iqns == (HOST_IQN,)
    assert cim.host_named("vss_res_host") == hosts["vss_res_host"]
    assert cim.host_named("nobody") is None
    assert cim.host_with_initiator("50:00:00:00:00:00:00:00") == hosts["vss_free_host"]
    assert cim.host_with_initiator(HOST_IQN.upper()) == hosts["vss_iscsi_host"]
    assert cim.host_with_initiator("iqn.2000-01.com.example:nobody") is None


def test_host_volumes_and_volume_hosts(shared_sim, shared_view):
    cim = adapter(shared_sim)
    hosts = {h.name: h for h in cim.hosts()}
    app = hosts["vss_iscsi_host"]
    sent = cim.requests
    vols = cim.host_volumes(app.id)
    assert cim.requests - sent <= 2                      # host views found once, then Associators
    assert sorted(v.uid for v in vols) == [SRC1, SRC2]
    sent = cim.requests
    free = cim.host_volumes(hosts["vss_free_host"].id)
    assert cim.requests - sent == 1
    expected = {vid for hid, vid in shared_view.mapped() if hid == hosts["vss_free_host"].id}
    assert {v.id for v in free} == expected and TARGET in {v.uid for v in free}
    assert [h.name for h in cim.volume_hosts(vols[0].id)] == ["vss_iscsi_host"]
    with pytest.raises(ArrayCallError) as err:
        cim.host_volumes("999")
    assert err.value.code == 200
