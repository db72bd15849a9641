"""More crafted agent replies (the crafted agent of tests/support/crafted_agent.py): hosts, groups,
clusters, controllers and method outputs that are missing or of the wrong type end in
a one-line 911 naming what was wrong."""
from __future__ import annotations

import pytest

from core.errors import ArrayCallError

from tests.support.crafted_agent import (GOOD_VOLUME, SCS_NAME, agent, cim, enum,  # noqa: F401 - fixtures
                                         instance_name, named_instance, one_line_911, prop, queried)


def scs(agent):
    agent.replies["EnumerateInstanceNames"] = f"<IRETURNVALUE>{SCS_NAME}</IRETURNVALUE>"


def returns(rc, *params):
    return f'<RETURNVALUE PARAMTYPE="uint32"><VALUE>{rc}</VALUE></RETURNVALUE>{"".join(params)}'


def out_array(name, values, cimtype):
    items = "".join(f"<VALUE>{v}</VALUE>" for v in values)
    return f'<PARAMVALUE NAME="{name}" PARAMTYPE="{cimtype}"><VALUE.ARRAY>{items}</VALUE.ARRAY></PARAMVALUE>'


def volume_numbered(n):
    return named_instance("IBMTSSVC_StorageVolume", {"CreationClassName": "IBMTSSVC_StorageVolume",
                                                     "DeviceID": str(n), "SystemName": "C:0"},
                          prop("ElementName", f"v{n}"), prop("Name", f"{n:032X}"),
                          prop("NumberOfBlocks", 1024, "uint64"), prop("BlockSize", 512, "uint64"))


@pytest.mark.parametrize("instance, word", [
    (named_instance("IBMTSSVC_StorageHardwareID", {"InstanceID": "h1"}, prop("ElementName", "h"),
                    prop("HostID", "1"), prop("PortWWN", "5000000000000000")), "PortWWN"),
    (named_instance("IBMTSSVC_StorageHardwareID", {"InstanceID": "h1"}, prop("ElementName", "h"),
                    prop("PortWWN", ["5000000000000000"])), "HostID"),
])
def test_bad_hosts(agent, cim, instance, word):
    agent.replies["EnumerateInstances"] = enum(instance)
    with pytest.raises(ArrayCallError) as err:
        cim.host_with_initiator("50:00:00:00:00:00:00:00")
    one_line_911(err, word)


def test_group_without_status(agent, cim):
    agent.replies["EnumerateInstances"] = enum(named_instance(
        "IBMTSSVC_FlashCopyStorageSynchronizedSet", {"InstanceID": "C:1"}, prop("ElementName", "g")))
    with pytest.raises(ArrayCallError) as err:
        cim.groups_named("")
    one_line_911(err, "lacks Status")


def test_cluster_path_without_its_key(agent, cim):
    agent.replies["EnumerateInstances"] = enum(named_instance(
        "IBMTSSVC_Cluster", {"CreationClassName": "IBMTSSVC_Cluster"}, prop("ElementName", "c")))
    with pytest.raises(ArrayCallError) as err:
        cim.identity()
    one_line_911(err, "ID")


def test_controller_path_without_its_key(agent, cim):
    agent.replies["EnumerateInstances"] = enum(named_instance(
        "IBMTSSVC_ProtocolController", {"SystemName": "C"}, prop("ElementName", "h")))
    with pytest.raises(ArrayCallError) as err:
        cim.mapped_hosts()
    one_line_911(err, "DeviceID")


def test_mapping_path_without_its_volume(agent, cim):
    agent.replies["EnumerateInstances"] = enum()
    mapping = instance_name("IBMTSSVC_SystemVolumeController", {"DeviceNumber": "1"})
    agent.replies["EnumerateInstanceNames"] = f"<IRETURNVALUE>{mapping}</IRETURNVALUE>"
    with pytest.raises(ArrayCallError) as err:
        cim.mapped_hosts()
    one_line_911(err, "instance path")


def test_refused_attach_with_unreadable_return_values(agent, cim):
    scs(agent)
    agent.replies["ExecQuery"] = queried(volume_numbered(7), volume_numbered(8))
    agent.replies["AttachReplicas"] = returns(0x8002, out_array("ReturnValues", ["no", "way"], "string"))
    with pytest.raises(ArrayCallError) as err:
        cim.attach([("7", "8", "m")], copy_rate=0, incremental=False, group_id=None)
    one_line_911(err, "ReturnValues")


def test_dependents_that_are_not_names(agent, cim):
    scs(agent)
    agent.replies["ExecQuery"] = queried(named_instance(
        "IBMTSSVC_LocalStorageSynchronized", {"Name": "1"}, prop("ElementName", "m"), prop("Name", "1"),
        prop("SyncState", 5, "uint16"), prop("SystemElementID", "1"), prop("SyncedElementID", "2"),
        prop("CopyRate", 0, "uint16")))
    agent.replies["GetDependentMappingNames"] = returns(0, out_array("Dependentnames", [1, 2], "uint32"))
    with pytest.raises(ArrayCallError) as err:
        cim.dependent_fcmaps("1")
    one_line_911(err, "Dependentnames")


def test_new_volume_that_is_not_a_path(agent, cim):
    scs(agent)
    agent.replies["EnumerateInstances"] = enum(named_instance(
        "IBMTSSVC_ConcreteStoragePool", {"InstanceID": "P0"}, prop("ElementName", "Pool0")))
    agent.replies["CreateOrModifyElementFromStoragePool"] = returns(
        0, '<PARAMVALUE NAME="TheElement" PARAMTYPE="string"><VALUE>vdisk7</VALUE></PARAMVALUE>')
    with pytest.raises(ArrayCallError) as err:
        cim.create_volume("v", 1 << 20, "Pool0", None, thin=False, compressed=False, deduped=False)
    one_line_911(err, "instance path")


CLUSTER = named_instance("IBMTSSVC_Cluster", {"CreationClassName": "IBMTSSVC_Cluster", "Name": "C:C"},
                         prop("ElementName", "c"), prop("ID", "C"))


def test_associators_without_paths(agent, cim):
    agent.replies["EnumerateInstances"] = enum(CLUSTER)     # the host view's path is built from its id
    agent.replies["Associators"] = (f'<IRETURNVALUE><INSTANCE CLASSNAME="IBMTSSVC_StorageVolume">'
                                    f'{"".join(GOOD_VOLUME)}</INSTANCE></IRETURNVALUE>')
    with pytest.raises(ArrayCallError) as err:
        cim.host_volumes("1")
    one_line_911(err)


def test_job_reference_that_is_not_a_path(agent, cim):
    scs(agent)
    agent.replies["EnumerateInstances"] = enum(named_instance(
        "IBMTSSVC_FlashCopyStorageSynchronizedSet", {"InstanceID": "C:1"}, prop("ElementName", "g"),
        prop("Status", 11, "uint32")))
    agent.replies["ModifySynchronizedSet"] = returns(
        4096, '<PARAMVALUE NAME="Job" PARAMTYPE="string"><VALUE>job-1</VALUE></PARAMVALUE>')
    with pytest.raises(ArrayCallError) as err:
        cim.start_group("1")
    one_line_911(err, "job")


def test_ports_in_the_agents_own_spelling_are_found(agent, cim):
    agent.replies["EnumerateInstances"] = enum(named_instance(
        "IBMTSSVC_StorageHardwareID", {"InstanceID": "h1"}, prop("ElementName", "h"), prop("HostID", "1"),
        prop("PortWWN", ["10:00:00:00:c9:ab:cd:ef"]), prop("iSCSIName", ["IQN.1991-05.COM.MICROSOFT:HOST"])))
    for port in ("10000000C9ABCDEF", "iqn.1991-05.com.microsoft:host"):
        host = cim.host_with_initiator(port)
        assert host is not None and host.wwpns == ("10000000C9ABCDEF",)


@pytest.mark.parametrize("status", [7, 14, 15])    # not supported, query language not supported, invalid query
def test_an_agent_without_queries_is_enumerated(agent, cim, status):
    agent.replies["ExecQuery"] = f'<ERROR CODE="{status}" DESCRIPTION="no queries here"/>'
    agent.replies["EnumerateInstances"] = enum(volume_numbered(7), volume_numbered(8))
    assert list(cim.volumes_by_uid([f"{8:032x}"])) == [f"{8:032X}"]
    assert cim.requests == 2
    assert list(cim.volumes_by_uid([f"{7:032x}"])) == [f"{7:032X}"]
    assert cim.requests == 3                                       # not asked again


def test_an_agent_without_queries_finds_volumes_and_hosts_by_enumerating(agent, cim):
    agent.replies["ExecQuery"] = '<ERROR CODE="14" DESCRIPTION="no queries here"/>'
    agent.replies["EnumerateInstances"] = enum(volume_numbered(7), volume_numbered(8))
    assert [v.id for v in cim.volumes_matching(["v8", f"{7:032X}", "nothing"])] == ["7", "8"]
    assert list(cim.volumes_by_id(["8", "9"])) == ["8"]
    agent.replies["EnumerateInstances"] = enum(*(named_instance(
        "IBMTSSVC_StorageHardwareID", {"InstanceID": f"h{n}"}, prop("ElementName", f"h{n}"), prop("HostID", str(n)),
        prop("PortWWN", [f"500000000000000{n}"]), prop("iSCSIName", [])) for n in (1, 2)))
    assert [h.id for h in cim.hosts_named(["h2", "h3"])] == ["2"]
    assert cim.host_with_initiator("50:00:00:00:00:00:00:01").name == "h1"
    assert cim.host_with_initiator("5000000000000009") is None


def test_a_failing_query_is_not_taken_for_a_missing_one(agent, cim):
    agent.replies["ExecQuery"] = '<ERROR CODE="1" DESCRIPTION="out of memory"/>'
    with pytest.raises(ArrayCallError) as err:
        cim.volumes_by_uid(["X"])
    one_line_911(err, "CIM_ERR_FAILED")


def _mapping_props(sync_state):
    return (prop("ElementName", "m"), prop("Name", "1"), prop("SyncState", sync_state, "uint16"),
            prop("SystemElementID", "1"), prop("SyncedElementID", "2"), prop("CopyRate", 0, "uint16"))


@pytest.mark.parametrize("sync_state, code", [(4, None), (13, 3009)])
def test_a_prepare_answered_0_is_waited_for_by_its_sync_state(agent, cim, sync_state, code):
    """An agent may answer a prepare with 0 and no job: prepared is read from SyncState."""
    scs(agent)
    agent.replies["ExecQuery"] = queried(named_instance("IBMTSSVC_LocalStorageSynchronized", {"Name": "1"},
                                                        *_mapping_props(2)))
    agent.replies["ModifySynchronization"] = returns(0)
    agent.replies["GetInstance"] = ('<IRETURNVALUE><INSTANCE CLASSNAME="IBMTSSVC_LocalStorageSynchronized">'
                                    f'{"".join(_mapping_props(sync_state))}</INSTANCE></IRETURNVALUE>')
    cim.fcmap("1")
    sent = cim.requests
    if code is None:
        cim.prepare_fcmap("1")
    else:
        with pytest.raises(ArrayCallError) as err:
            cim.prepare_fcmap("1")
        assert err.value.code == code and "stopped, not prepared" in str(err.value)
    assert cim.requests - sent == 3                  # the service, the method, one look at the mapping
