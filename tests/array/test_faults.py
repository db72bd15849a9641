"""Fault injection: failure codes, dropped replies, latency, offline volumes."""
import pytest
import pywbem

from tests.support.smis import Cim


@pytest.fixture
def fresh(array_factory):
    sim = array_factory()
    yield sim, Cim(sim.conn(timeout=5))


def test_fail_the_nth_call_of_a_method(fresh):
    sim, cim = fresh
    sim.faults([{"method": "CreateOrModifyElementFromStoragePool", "action": "fail", "nth": 2, "rc": 4}])
    assert cim.create_volume("f1")[0] == 0
    assert cim.create_volume("f2")[0] == 4
    assert cim.create_volume("f3")[0] == 0
    names = {v["ElementName"] for v in cim.conn.EnumerateInstances("IBMTSSVC_StorageVolume")}
    assert names == {"f1", "f3"}  # the failed call did nothing
    sim.clear_faults()


def test_intrinsic_failure_is_a_cim_error(fresh):
    sim, cim = fresh
    sim.faults([{"method": "EnumerateInstances", "action": "fail", "count": 1}])
    with pytest.raises(pywbem.CIMError) as err:
        cim.conn.EnumerateInstances("IBMTSSVC_StorageVolume")
    assert err.value.status_code == pywbem.CIM_ERR_FAILED
    assert cim.conn.EnumerateInstances("IBMTSSVC_StorageVolume") == []


def test_dropped_reply_after_the_operation_ran(fresh):
    sim, cim = fresh
    sim.faults([{"method": "CreateOrModifyElementFromStoragePool", "action": "drop"}])
    with pytest.raises((pywbem.ConnectionError, pywbem.CIMXMLParseError, pywbem.XMLParseError)):
        cim.create_volume("dropped")
    # outcome unknown to the client, but the array did it: reading tells
    names = {v["ElementName"] for v in sim.conn().EnumerateInstances("IBMTSSVC_StorageVolume")}
    assert names == {"dropped"}


def test_latency_and_timeouts(fresh):
    sim, cim = fresh
    sim.faults([{"method": "EnumerateInstanceNames", "action": "delay", "seconds": 8}])
    with pytest.raises((pywbem.TimeoutError, pywbem.ConnectionError), match="timed out"):
        sim.conn(timeout=1).EnumerateInstanceNames("IBMTSSVC_Cluster")
    # Latency holds back every reply, like the delay fault above: a client that waits
    # less times out (no elapsed time is measured).
    sim.faults([], latency=4)
    with pytest.raises((pywbem.TimeoutError, pywbem.ConnectionError), match="timed out"):
        sim.conn(timeout=1).EnumerateInstanceNames("IBMTSSVC_Cluster")
    assert sim.admin("GET", "faults")["latency"] == 4
    sim.clear_faults()


def test_offline_volume(fresh):
    sim, cim = fresh
    vol = cim.volume("goes_offline")
    sim.admin("POST", f"volumes/{vol['Name']}/online", {"online": False})
    got = cim.conn.GetInstance(vol.path)
    assert got["OperationalStatus"] == [10]
    sim.admin("POST", f"volumes/{vol['Name']}/online", {"online": True})
    assert cim.conn.GetInstance(vol.path)["OperationalStatus"] == [2]


def test_request_counts(fresh):
    sim, cim = fresh
    sim.admin("DELETE", "stats")
    cim.conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")
    cim.conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")
    assert sim.stats()["EnumerateInstanceNames"] == 2
