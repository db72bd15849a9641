"""Volume kinds in the data-reduction pool and hosts with any spelling of their ports,
read back over a separate connection. One array for the module: each test uses its
own names and removes what it made."""
from __future__ import annotations

import pytest
from pywbem import Uint16

from core.errors import ArrayCallError

from .conftest import MiB, View, adapter

HEX_WWPN = "10000000C9ABCDEF"


@pytest.fixture(scope="module")
def view(shared_sim):
    return View(shared_sim)


def flags_on_array(view, name):
    inst = next(i for i in view.conn.EnumerateInstances("IBMTSSVC_StorageVolume") if i["ElementName"] == name)
    return (bool(inst["IsSpaceEfficient"]), bool(inst["Compressed"]), bool(inst["Deduplicated"]),
            str(inst["PoolName"]))


@pytest.mark.parametrize("asked, expected", [
    ({"thin": True, "compressed": False, "deduped": False}, (True, False, False)),
    ({"thin": True, "compressed": False, "deduped": True}, (True, False, True)),
    ({"thin": True, "compressed": True, "deduped": True}, (True, True, True)),
    # compression (and deduplication) exist for thin volumes only: asking is asking for thin
    ({"thin": False, "compressed": True, "deduped": False}, (True, True, False)),
])
def test_volume_kinds_in_the_thin_pool(shared_sim, view, asked, expected):
    cim = adapter(shared_sim)
    name = "cim-kind-" + "".join(k[0] for k, v in asked.items() if v)
    vol = cim.create_volume(name, 32 * MiB, "ThinPool0", None, **asked)
    try:
        assert flags_on_array(view, name) == (*expected, "ThinPool0")
        assert (vol.thin, vol.compressed, vol.deduped, vol.pool, vol.size) == (*expected, "ThinPool0", 32 * MiB)
        assert cim.volume(vol.id) == vol
    finally:
        cim.delete_volume(vol.id)
    assert name not in view.volumes()


@pytest.mark.parametrize("name, size, pool, iogroup, kind", [
    ("cim-bad-1", 32 * MiB, "Pool0", None, {"compressed": True}),     # not a data-reduction pool
    ("cim-bad-2", 1 << 50, "Pool0", None, {}),                        # larger than the pool
    ("vss_src_vol", 32 * MiB, "Pool0", None, {}),                     # the name is taken
    ("cim-bad-3", 32 * MiB, "Pool0", "io_grp7", {}),                  # no such I/O group
])
def test_refused_volumes_change_nothing(shared_sim, view, name, size, pool, iogroup, kind):
    cim = adapter(shared_sim)
    before = view.volumes()
    options = {"thin": False, "compressed": False, "deduped": False, **kind}
    with pytest.raises(ArrayCallError) as err:
        cim.create_volume(name, size, pool, iogroup, **options)
    assert err.value.code == 3007 and "\n" not in str(err.value)
    assert view.volumes() == before


def test_deleting_an_unknown_volume_is_201(shared_sim, view):
    cim = adapter(shared_sim)
    before = view.volumes()
    with pytest.raises(ArrayCallError) as err:
        cim.delete_volume("4242")
    assert err.value.code == 201 and view.volumes() == before


@pytest.fixture(scope="module")
def hex_host(view):
    """A host whose WWPN has hex letters, made over CIM by the array's own method."""
    service = view.conn.EnumerateInstanceNames("IBMTSSVC_StorageHardwareIDManagementService")[0]
    rc, out = view.conn.InvokeMethod("CreateStorageHardwareID", service, ElementName="cim-hex-host",
                                     StorageID=HEX_WWPN, IDType=Uint16(2), Validate=False)
    assert rc == 0
    return out["HardwareID"]


@pytest.mark.parametrize("spelling", ["10:00:00:00:c9:ab:cd:ef", "10000000c9abcdef", " 10:00:00:00:C9:AB:CD:EF "])
def test_host_with_initiator_any_wwpn_spelling(shared_sim, hex_host, spelling):
    cim = adapter(shared_sim)
    host = cim.host_with_initiator(spelling)
    assert host is not None and (host.name, host.wwpns) == ("cim-hex-host", (HEX_WWPN,))
    assert cim.host_with_initiator("10:00:00:00:c9:ab:cd:ee") is None


def test_new_host_mapping_round_trip(shared_sim, view, hex_host):
    """A host added after the adapter looked at hosts is still found; its volumes map and
    unmap in one request each, and a second look at its volumes is one request."""
    cim = adapter(shared_sim)
    cim.host_volumes(cim.host_named("vss_res_host").id)      # host views known before the new host is used
    host = cim.host_named("cim-hex-host")
    assert cim.host_volumes(host.id) == []
    vol = cim.create_volume("cim-hex-vol", 32 * MiB, "Pool0", "io_grp0", thin=False, compressed=False,
                            deduped=False)
    try:
        cim.unmap_volumes(host.id, [vol.id])                  # not mapped: fine (and the service is known)
        assert cim.volume_hosts(vol.id) == []
        sent = cim.requests
        cim.map_volumes(host.id, [vol.id])
        assert cim.requests - sent == 1 and (host.id, vol.id) in view.mapped()
        sent = cim.requests
        assert [v.id for v in cim.host_volumes(host.id)] == [vol.id]
        assert cim.requests - sent == 1
        assert [h.name for h in cim.volume_hosts(vol.id)] == ["cim-hex-host"]
        sent = cim.requests
        cim.unmap_volumes(host.id, [vol.id])
        assert cim.requests - sent == 1 and (host.id, vol.id) not in view.mapped()
        assert cim.volume_hosts(vol.id) == []
    finally:
        cim.unmap_volumes(host.id, [vol.id])
        cim.delete_volume(vol.id)


def test_target_mcs_in_either_case(shared_sim):
    cluster_id = shared_sim.admin("GET", "identity")["cluster_id"]
    for spelling in (cluster_id.lower(), cluster_id.upper()):
        assert adapter(shared_sim, target_mcs=spelling).identity().cluster_id == cluster_id


def test_numbers_out_of_range_are_refused_before_sending(shared_sim, view):
    cim = adapter(shared_sim)
    src, target = cim.volumes_named("vss_src_vol")[0], cim.volumes_named("vss_target_7")[0]
    before, sent = (view.volumes(), view.fcmaps()), cim.requests
    calls = [
        (3007, lambda: cim.create_volume("cim-neg", -MiB, "Pool0", None, thin=False, compressed=False,
                                         deduped=False)),
        (402, lambda: cim.attach([(src.id, target.id, "cim-rate")], copy_rate=-1, incremental=False,
                                 group_id=None)),
        (402, lambda: cim.attach([(src.id, target.id, "cim-rate")], copy_rate=1 << 16, incremental=False,
                                 group_id=None)),
        (501, lambda: cim.stop_fcmap("1", stop_dependent=-4)),
        (501, lambda: cim.delete_fcmap("1", stop_dependent=1 << 16, force=True)),
    ]
    for code, call in calls:
        with pytest.raises(ArrayCallError) as err:
            call()
        assert err.value.code == code and "\n" not in str(err.value)
    assert cim.requests == sent and (view.volumes(), view.fcmaps()) == before
