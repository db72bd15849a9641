"""Hosts as StorageHardwareID + ProtocolController, and volume-to-host mappings."""
from pywbem import Uint16


def test_virtual_fc_hosts_need_validate_false(cim):
    conn = cim.conn
    assert cim.create_host("virt_free", "5000000000000A00", validate=True)[0] == 38400   # CMMVC5867E
    rc, out = cim.create_host("virt_free", "5000000000000A00", validate=False)
    assert rc == 0
    hw = conn.GetInstance(out["HardwareID"])
    assert hw["ElementName"] == "virt_free" and hw["PortWWN"] == ["5000000000000A00"] and hw["IDType"] == 2
    assert hw["StorageID"].endswith(":" + hw["HostID"])
    pcs = conn.Associators(out["HardwareID"], ResultClass="CIM_SCSIProtocolController")
    assert [p["ElementName"] for p in pcs] == ["virt_free"]


def test_iscsi_host_and_refusals(cim):
    conn = cim.conn
    rc, out = cim.create_host("iscsi_a", "iqn.1991-05.com.microsoft:host-a", id_type=5)
    assert rc == 0
    assert conn.GetInstance(out["HardwareID"])["iSCSIName"] == ["iqn.1991-05.com.microsoft:host-a"]
    n = len(conn.EnumerateInstanceNames("IBMTSSVC_StorageHardwareID"))
    assert cim.create_host("iscsi_b", "iqn.1991-05.com.microsoft:host-a", id_type=5)[0] == 0x1000
    assert cim.create_host("iscsi_a", "iqn.1991-05.com.microsoft:other", id_type=5)[0] == 32775
    assert cim.create_host("bad_type", "iqn.1991-05.com.microsoft:x", id_type=7)[0] == 0x1001
    assert cim.create_host("bad_port", "12345")[0] == 4098
    assert cim.create_host("mismatch", "iqn.1991-05.com.microsoft:y", id_type=2)[0] == 0x1001
    assert len(conn.EnumerateInstanceNames("IBMTSSVC_StorageHardwareID")) == n


def test_expose_several_volumes_in_one_call_with_lun_ids(cim):
    conn = cim.conn
    vols = [cim.volume(f"exp_{i}") for i in range(3)]
    _, pc = cim.host("exp_host", "10000000C9BBBB01")
    rc, out = conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[v["Name"] for v in vols],
                                ProtocolControllers=[pc], DeviceAccesses=[Uint16(2)] * 3)
    assert rc == 0 and out["ProtocolControllers"][0].keybindings["DeviceID"] == pc.keybindings["DeviceID"]
    assert cim.mapped_uids(pc) == {vols[0]["Name"]: "0", vols[1]["Name"]: "1", vols[2]["Name"]: "2"}
    seen = conn.Associators(pc, AssocClass="CIM_ProtocolControllerForUnit", ResultClass="CIM_StorageVolume")
    assert {v["Name"] for v in seen} == {v["Name"] for v in vols}
    # the other way: which hosts see this volume
    assert conn.AssociatorNames(vols[0].path, ResultClass="IBMTSSVC_ProtocolController")[0] \
        .keybindings["DeviceID"] == pc.keybindings["DeviceID"]


def test_expose_refusals_are_atomic(cim):
    conn = cim.conn
    a, b = cim.volume("atom_a"), cim.volume("atom_b")
    _, pc = cim.host("atom_host", "10000000C9CCCC01")
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[a["Name"]], ProtocolControllers=[pc],
                             DeviceNumbers=["5"])[0] == 0
    # b would be fine but a is already exposed: nothing of the call happens
    rc, _ = conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[b["Name"], a["Name"]], ProtocolControllers=[pc])
    assert rc == 4101 and cim.mapped_uids(pc) == {a["Name"]: "5"}
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[b["Name"]], ProtocolControllers=[pc],
                             DeviceNumbers=["5"])[0] == 4102
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=["6005076800000000FFFFFFFFFFFFFFFF"],
                             ProtocolControllers=[pc])[0] == 4097
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[b["Name"]],
                             InitiatorPortIDs=["10000000C9DEADBE"])[0] == 4098
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[b["Name"]], ProtocolControllers=[pc],
                             DeviceAccesses=[Uint16(3)])[0] == 5
    assert cim.mapped_uids(pc) == {a["Name"]: "5"}


def test_sharing_a_volume_needs_force(cim):
    conn = cim.conn
    vol = cim.volume("shared_v")
    _, pc1 = cim.host("share_1", "10000000C9EEEE01")
    _, pc2 = cim.host("share_2", "10000000C9EEEE02")
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[vol["Name"]], ProtocolControllers=[pc1])[0] == 0
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[vol["Name"]],
                             InitiatorPortIDs=["10000000C9EEEE02"])[0] == 37883   # CMMVC6071E
    assert conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[vol["Name"]],
                             InitiatorPortIDs=["10000000C9EEEE02"], Force=True)[0] == 0
    assert vol["Name"] in cim.mapped_uids(pc2)


def test_hide_paths_and_attach_detach(cim):
    conn = cim.conn
    a, b = cim.volume("hide_a"), cim.volume("hide_b")
    _, pc = cim.host("hide_host", "10000000C9FFFF01")
    conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[a["Name"], b["Name"]], ProtocolControllers=[pc])
    assert conn.InvokeMethod("HidePaths", cim.ccs, LUNames=[a["Name"], b["Name"]], ProtocolControllers=[pc])[0] == 0
    assert cim.mapped_uids(pc) == {}
    assert conn.InvokeMethod("HidePaths", cim.ccs, LUNames=[a["Name"]], ProtocolControllers=[pc])[0] == 4100
    rc, out = conn.InvokeMethod("AttachDevice", cim.ccs, ProtocolController=pc, Device=a.path, DeviceNumber="7")
    assert rc == 0 and out["DeviceNumber"] == "7" and cim.mapped_uids(pc) == {a["Name"]: "7"}
    assert conn.InvokeMethod("AttachDevice", cim.ccs, ProtocolController=pc, Device=b.path, DeviceNumber="7")[0] == 4102
    assert conn.InvokeMethod("DetachDevice", cim.ccs, ProtocolController=pc, Device=a.path)[0] == 0
    assert conn.InvokeMethod("DetachDevice", cim.ccs, ProtocolController=pc, Device=a.path)[0] == 4100


def test_add_port_to_host_through_expose_paths(cim):
    conn = cim.conn
    hw, pc = cim.host("ports_host", "10000000C9ABAB01")
    assert conn.InvokeMethod("ExposePaths", cim.ccs, InitiatorPortIDs=["10000000C9ABAB02"],
                             ProtocolControllers=[pc])[0] == 0
    assert conn.GetInstance(hw)["PortWWN"] == ["10000000C9ABAB01", "10000000C9ABAB02"]
    assert conn.InvokeMethod("HidePaths", cim.ccs, InitiatorPortIDs=["10000000C9ABAB02"],
                             ProtocolControllers=[pc])[0] == 0
    assert conn.GetInstance(hw)["PortWWN"] == ["10000000C9ABAB01"]


def test_delete_host_in_use_needs_force(cim):
    conn = cim.conn
    vol = cim.volume("hostdel_v")
    hw, pc = cim.host("hostdel", "10000000C9ACAC01")
    conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[vol["Name"]], ProtocolControllers=[pc])
    assert conn.InvokeMethod("DeleteStorageHardwareID", cim.hws, HardwareID=hw)[0] == 6
    assert conn.InvokeMethod("DeleteStorageHardwareID", cim.hws, HardwareID=hw, Force=True)[0] == 0
    assert hw not in conn.EnumerateInstanceNames("IBMTSSVC_StorageHardwareID")
    assert pc not in conn.EnumerateInstanceNames("IBMTSSVC_ProtocolController")
    assert conn.AssociatorNames(vol.path, ResultClass="IBMTSSVC_ProtocolController") == []
