"""Volumes and pools: creation in a pool and I/O group, kinds, capacity accounting,
deletion, and every documented refusal (each changing nothing)."""
from pywbem import Uint16, Uint64

from tests.support.smis import GIB


def _count(conn):
    return len(conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume"))


def test_standard_volume_in_pool_and_iogroup(cim):
    conn = cim.conn
    before = cim.pool("Pool0")["RemainingManagedSpace"]
    rc, out = cim.create_volume("std_a", 2 * GIB, IOGroup=cim.iogroup("io_grp1"))
    assert rc == 0 and out["Size"] == 2 * GIB
    vol = conn.GetInstance(out["TheElement"])
    assert vol["GroupName"] == "io_grp1" and vol["PoolName"] == "Pool0"
    assert vol["IsSpaceEfficient"] is False and vol["NumberOfBlocks"] == 2 * GIB
    assert before - cim.pool("Pool0")["RemainingManagedSpace"] == 2 * GIB
    pools = conn.AssociatorNames(vol.path, AssocClass="CIM_AllocatedFromStoragePool")
    assert [p.keybindings["InstanceID"] for p in pools] == [cim.pool("Pool0").path.keybindings["InstanceID"]]
    assert vol.path.keybindings in [p.keybindings for p in conn.AssociatorNames(
        cim.pool("Pool0").path, ResultClass="CIM_StorageVolume")]
    assert vol.path.keybindings in [p.keybindings for p in conn.AssociatorNames(
        cim.cluster, ResultClass="IBMTSSVC_StorageVolume")]


def test_thin_volumes_and_data_reduction(cim):
    conn = cim.conn
    rc, out = cim.create_volume("se_a", GIB, isSpaceEfficient=True)
    assert rc == 0
    se = conn.GetInstance(out["TheElement"])
    assert se["IsSpaceEfficient"] and se["ThinlyProvisioned"] and not se["Compressed"]
    rc, out = cim.create_volume("dedup_a", GIB, pool="ThinPool0", Deduplicated=True)
    assert rc == 0
    dd = conn.GetInstance(out["TheElement"])
    assert dd["Deduplicated"] and dd["IsSpaceEfficient"]
    rc, out = cim.create_volume("comp_a", GIB, pool="ThinPool0", ElementType=Uint16(8))
    assert rc == 0 and conn.GetInstance(out["TheElement"])["Compressed"]
    # a thin pool only makes thin volumes, whatever was asked
    rc, out = cim.create_volume("thinpool_std", GIB, pool="ThinPool0")
    assert conn.GetInstance(out["TheElement"])["IsSpaceEfficient"] is True


def test_refusals_change_nothing(cim):
    conn = cim.conn
    cim.volume("dup_name")
    n = _count(conn)
    assert cim.create_volume("dup_name")[0] == 32775
    assert cim.create_volume("odd_size", 1000)[0] == 4097
    assert cim.create_volume("dedup_std", GIB, Deduplicated=True)[0] == 32792
    assert cim.create_volume("comp_std", GIB, ElementType=Uint16(8))[0] == 32792
    bad_group = cim.iogroup().copy()
    bad_group.keybindings["Name"] = bad_group.keybindings["Name"].rsplit(":", 1)[0] + ":99"
    assert cim.create_volume("bad_grp", GIB, IOGroup=bad_group)[0] == 32777
    bad_pool = cim.pool("Pool0").path.copy()
    bad_pool.keybindings["InstanceID"] = bad_pool.keybindings["InstanceID"].rsplit(":", 1)[0] + ":77"
    rc, _ = conn.InvokeMethod("CreateOrModifyElementFromStoragePool", cim.scs, ElementName="bad_pool",
                              ElementType=Uint16(2), Size=Uint64(GIB), InPool=bad_pool)
    assert rc == 32771
    assert cim.create_volume("too_big", 1 << 60)[0] == 38333                  # CMMVC5860E not enough extents
    assert _count(conn) == n


def test_return_to_storage_pool(cim):
    conn = cim.conn
    vol = cim.volume("del_me")
    free = cim.pool("Pool0")["RemainingManagedSpace"]
    rc, _ = conn.InvokeMethod("ReturnToStoragePool", cim.scs, TheElement=vol.path)
    assert rc == 0
    assert vol.path not in conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")
    assert cim.pool("Pool0")["RemainingManagedSpace"] == free + GIB


def test_mapped_volume_is_not_deleted_unless_forced(cim):
    conn = cim.conn
    vol = cim.volume("mapped_del")
    _, pc = cim.host("mapped_del_host", "10000000C9AAAA01")
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[vol["Name"]], ProtocolControllers=[pc])[0] == 0
    rc, _ = conn.InvokeMethod("ReturnToStoragePool", cim.scs, TheElement=vol.path)
    assert rc == 38159                               # CMMVC5840E
    assert vol.path in conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")
    rc, _ = conn.InvokeMethod("ReturnToStoragePool", cim.scs, TheElement=vol.path, Force=True)
    assert rc == 0 and cim.mapped_uids(pc) == {}


def test_uids_are_unique_32_hex(conn):
    uids = [v["Name"] for v in conn.EnumerateInstances("IBMTSSVC_StorageVolume", PropertyList=["Name"])]
    assert len(uids) == len(set(uids)) and all(len(u) == 32 and int(u, 16) >= 0 for u in uids)
