"""A hostile or broken CIM agent: a small real HTTP server that answers with crafted
CIM-XML (missing properties, wrong types, garbage, HTTP errors). Every case ends in a
one-line ArrayCallError with the manual's code, never a KeyError or a traceback."""
from __future__ import annotations

import pytest

from core.errors import ArrayCallError
from tests.support.crafted_agent import (GOOD_VOLUME, NS, SCS_NAME, agent, cim, enum,  # noqa: F401 - fixtures
                                         instance_name, named_instance, one_line_911, prop,
                                         queried, volume)


@pytest.mark.parametrize("props, word", [
    ([prop("ElementName", "v7"), prop("NumberOfBlocks", 1024, "uint64")], "lacks Name"),
    ([prop("ElementName", "v7"), prop("Name", "X"), prop("NumberOfBlocks", "lots")], "NumberOfBlocks"),
    (GOOD_VOLUME + [prop("IsSpaceEfficient", "maybe")], "IsSpaceEfficient"),
    (GOOD_VOLUME + [prop("OperationalStatus", "2")], "OperationalStatus"),
])
def test_bad_volume_properties(agent, cim, props, word):
    agent.replies["ExecQuery"] = queried(volume(*props))
    with pytest.raises(ArrayCallError) as err:
        cim.volumes_by_uid(["X"])
    one_line_911(err, word, "IBMTSSVC_StorageVolume")


def test_booleans_sent_as_text_are_read_as_written(agent, cim):
    agent.replies["EnumerateInstances"] = enum(volume(*GOOD_VOLUME, prop("IsSpaceEfficient", "FALSE"),
                                                      prop("Compressed", "true")))
    vol, = cim.volumes_named("v")
    assert (vol.thin, vol.compressed, vol.size, vol.uid) == (False, True, 1024, "60050760008D89C0D000000000000007")


def test_garbage_and_http_errors(agent, cim):
    agent.replies["EnumerateInstances"] = "<?garbage this is not XML"
    with pytest.raises(ArrayCallError) as err:
        cim.hosts()
    one_line_911(err, "unreadable reply")
    agent.replies["EnumerateInstances"] = 500
    with pytest.raises(ArrayCallError) as err:
        cim.hosts()
    one_line_911(err, "HTTP 500")
    agent.replies["EnumerateInstances"] = 401
    with pytest.raises(ArrayCallError) as err:
        cim.hosts()
    assert err.value.code == 5 and "hostile-secret" not in str(err.value)


def test_unknown_mapping_state(agent, cim):
    agent.replies["EnumerateInstances"] = enum(named_instance(
        "IBMTSSVC_LocalStorageSynchronized", {"Name": "1"}, prop("ElementName", "m"), prop("Name", "1"),
        prop("SyncState", 77, "uint16"), prop("SystemElementID", "1"), prop("SyncedElementID", "2"),
        prop("CopyRate", 0, "uint16")))
    with pytest.raises(ArrayCallError) as err:
        cim.fcmaps_named("")
    one_line_911(err, "SyncState", "77")


def test_missing_services_are_3003(agent, cim):
    agent.replies["EnumerateInstanceNames"] = "<IRETURNVALUE></IRETURNVALUE>"
    with pytest.raises(ArrayCallError) as err:
        cim.create_group("g")
    assert err.value.code == 3003 and "StorageConfigurationService" in str(err.value)


def test_method_replies_without_outputs(agent, cim):
    agent.replies["EnumerateInstanceNames"] = f"<IRETURNVALUE>{SCS_NAME}</IRETURNVALUE>"
    agent.replies["CreateSynchronizedSet"] = '<RETURNVALUE PARAMTYPE="uint32"><VALUE>0</VALUE></RETURNVALUE>'
    with pytest.raises(ArrayCallError) as err:
        cim.create_group("g")
    one_line_911(err, "lacks the output Set")
    agent.replies["CreateSynchronizedSet"] = '<RETURNVALUE PARAMTYPE="string"><VALUE>zero</VALUE></RETURNVALUE>'
    with pytest.raises(ArrayCallError) as err:
        cim.create_group("g")
    one_line_911(err, "not a number")


def test_preparing_set_without_a_status(agent, cim):
    """Prepare All is followed by reading the set's Status (not its jobs): garbage there
    is a 911."""
    job = instance_name("IBMTSSVC_FlashCopyJob", {"InstanceID": "C:job:1"})
    agent.replies["EnumerateInstanceNames"] = f"<IRETURNVALUE>{SCS_NAME}</IRETURNVALUE>"
    agent.replies["EnumerateInstances"] = enum(named_instance(
        "IBMTSSVC_FlashCopyStorageSynchronizedSet", {"InstanceID": "C:1"}, prop("ElementName", "g"),
        prop("Status", 11, "uint32")))
    agent.replies["ModifySynchronizedSet"] = (
        '<RETURNVALUE PARAMTYPE="uint32"><VALUE>4096</VALUE></RETURNVALUE>'
        f'<PARAMVALUE NAME="Job" PARAMTYPE="reference"><VALUE.REFARRAY><VALUE.REFERENCE>'
        f"<INSTANCEPATH><NAMESPACEPATH><HOST>x</HOST>{NS}</NAMESPACEPATH>{job}</INSTANCEPATH>"
        "</VALUE.REFERENCE></VALUE.REFARRAY></PARAMVALUE>")
    agent.replies["GetInstance"] = (f'<IRETURNVALUE><INSTANCE CLASSNAME="IBMTSSVC_FlashCopyStorageSynchronizedSet">'
                                    f'{prop("Status", "soon")}</INSTANCE></IRETURNVALUE>')
    with pytest.raises(ArrayCallError) as err:
        cim.prepare_group("1")
    one_line_911(err, "Status")
