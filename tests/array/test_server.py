"""The array as a CIM server: transport, auth, classes, instances, associations,
errors, and pywbem's pull-operation fallback."""
import pytest
import pywbem
from pywbem import CIMError, Uint16

from tests.support.arrayproc import ArrayProcess


def test_fresh_array_is_usable_at_once(conn):
    assert len(conn.EnumerateInstances("IBMTSSVC_Cluster")) == 1
    groups = {g["ElementName"] for g in conn.EnumerateInstances("IBMTSSVC_IOGroup")}
    assert {"io_grp0", "io_grp1"} <= groups
    pools = {p["ElementName"]: p for p in conn.EnumerateInstances("IBMTSSVC_ConcreteStoragePool")}
    assert [pools[n]["PoolID"] for n in ("Pool0", "ThinPool0")] == ["0", "1"]
    assert all(p["RemainingManagedSpace"] <= p["TotalManagedSpace"] for p in pools.values())
    services = conn.EnumerateInstanceNames("CIM_Service")
    assert sorted(s.classname for s in services) == [
        "IBMTSSVC_ControllerConfigurationService", "IBMTSSVC_StorageConfigurationService",
        "IBMTSSVC_StorageHardwareIDManagementService"]


def test_services_found_from_cluster_the_smis_way(cim):
    conn = cim.conn
    scs = conn.Associators(cim.cluster, AssocClass="CIM_HostedService",
                           ResultClass="CIM_StorageConfigurationService")
    assert [s.classname for s in scs] == ["IBMTSSVC_StorageConfigurationService"]
    assert scs[0].path.namespace == "root/ibm"
    # Role/ResultRole filters: the cluster is the Antecedent, never the Dependent.
    assert conn.AssociatorNames(cim.cluster, AssocClass="CIM_HostedService", Role="Dependent") == []
    assert len(conn.AssociatorNames(cim.cluster, AssocClass="CIM_HostedService",
                                    Role="Antecedent", ResultRole="Dependent")) == 3
    refs = conn.References(cim.cluster, ResultClass="CIM_HostedService")
    assert sorted(r.classname for r in refs) == [
        "IBMTSSVC_ControllerConfigurationServiceForSystem", "IBMTSSVC_HostedStorageConfigurationService",
        "IBMTSSVC_StorageHardwareIDsForSystem"]
    assert len(conn.ReferenceNames(cim.cluster, ResultClass="IBMTSSVC_HostedStorageConfigurationService")) == 1


def test_polymorphic_enumeration_and_deep_inheritance(cim):
    conn = cim.conn
    cim.volume("poly_a")
    vendor = conn.EnumerateInstances("IBMTSSVC_StorageVolume")
    generic = conn.EnumerateInstances("CIM_StorageVolume")
    extent = conn.EnumerateInstanceNames("CIM_StorageExtent")
    assert {v.path for v in vendor} == {v.path for v in generic} == set(extent)
    shallow = conn.EnumerateInstances("CIM_StorageVolume", DeepInheritance=False)
    assert shallow and all("UniqueID" not in v.properties for v in shallow)
    assert all("UniqueID" in v.properties for v in vendor)


def test_volume_properties_as_the_real_agent_reports(cim):
    vol = cim.volume("props_vol")
    assert vol["BlockSize"] == 1 and vol["NumberOfBlocks"] == 1 << 30
    assert len(vol["Name"]) == 32 and vol["Name"] == vol["UniqueID"]
    int(vol["Name"], 16)
    assert vol["NameFormat"] == 9 and vol["ElementName"] == "props_vol"
    assert vol.path.keybindings["SystemCreationClassName"] == "IBMTSSVC_IOGroup"
    assert vol["OperationalStatus"] == [2]


def test_property_list_filters(cim):
    vol = cim.volume("plist_vol")
    got = cim.conn.GetInstance(vol.path, PropertyList=["ElementName", "Name"])
    assert set(got.properties) == {"ElementName", "Name"}
    many = cim.conn.EnumerateInstances("IBMTSSVC_StorageVolume", PropertyList=["Name"])
    assert all(set(v.properties) == {"Name"} for v in many)


def test_classes_served_from_the_schema(conn):
    names = conn.EnumerateClassNames(ClassName="CIM_StorageVolume", DeepInheritance=True)
    assert names == ["IBMTSSVC_StorageVolume"]
    cls = conn.GetClass("IBMTSSVC_StorageConfigurationService", LocalOnly=False)
    assert "AttachReplicas" in cls.methods and "ModifySynchronization" in cls.methods
    assert cls.superclass == "CIM_StorageConfigurationService"
    top = conn.EnumerateClasses(DeepInheritance=False)
    assert "CIM_ManagedElement" in {c.classname for c in top}
    with pytest.raises(CIMError) as err:
        conn.GetClass("NoSuch_Class")
    assert err.value.status_code == pywbem.CIM_ERR_NOT_FOUND


def test_unknown_things_get_proper_cim_errors(cim):
    conn = cim.conn
    with pytest.raises(CIMError) as err:
        conn.EnumerateInstances("NoSuch_Class")
    assert err.value.status_code == pywbem.CIM_ERR_INVALID_CLASS
    missing = cim.cluster.copy()
    missing.keybindings["Name"] = "FFFF"
    with pytest.raises(CIMError) as err:
        conn.GetInstance(missing)
    assert err.value.status_code == pywbem.CIM_ERR_NOT_FOUND
    with pytest.raises(CIMError) as err:
        conn.InvokeMethod("NoSuchMethod", cim.scs)
    assert err.value.status_code == pywbem.CIM_ERR_METHOD_NOT_FOUND
    with pytest.raises(CIMError) as err:
        conn.InvokeMethod("ReturnToStoragePool", cim.scs, Bogus=Uint16(1))
    assert err.value.status_code == pywbem.CIM_ERR_INVALID_PARAMETER
    with pytest.raises(CIMError) as err:  # declared uint16, sent a string that is no number
        conn.InvokeMethod("CreateOrModifyElementFromStoragePool", cim.scs, ElementType="two")
    assert err.value.status_code == pywbem.CIM_ERR_INVALID_PARAMETER
    with pytest.raises(CIMError) as err:
        conn.EnumerateInstances("IBMTSSVC_StorageVolume", namespace="root/other")
    assert err.value.status_code == pywbem.CIM_ERR_INVALID_NAMESPACE
    with pytest.raises(CIMError) as err:
        conn.DeleteInstance(cim.cluster)
    assert err.value.status_code == pywbem.CIM_ERR_NOT_SUPPORTED
    # the server survived all of that
    assert len(conn.EnumerateInstanceNames("IBMTSSVC_Cluster")) == 1


def test_pull_operations_fall_back_cleanly(cim):
    conn = cim.conn
    cim.volume("pull_vol")
    with pytest.raises(CIMError) as err:
        conn.OpenEnumerateInstances("IBMTSSVC_StorageVolume")
    assert err.value.status_code == pywbem.CIM_ERR_NOT_SUPPORTED
    it = list(conn.IterEnumerateInstances("IBMTSSVC_StorageVolume"))
    assert {v["ElementName"] for v in it} >= {"pull_vol"}
    assert list(conn.IterAssociatorInstancePaths(cim.cluster, AssocClass="CIM_HostedService"))


def test_wrong_password_is_http_401(sim):
    with pytest.raises(pywbem.AuthError):
        sim.conn(password="wrong").EnumerateInstanceNames("IBMTSSVC_Cluster")
    with pytest.raises(pywbem.AuthError):
        sim.conn(user="nobody").EnumerateInstanceNames("IBMTSSVC_Cluster")


def test_https_verification_and_plain_http(array_factory, tmp_path):
    https = array_factory()
    assert https.url.startswith("https://")
    assert https.conn().EnumerateInstanceNames("IBMTSSVC_Cluster")
    other = ArrayProcess(tmp_path / "other")  # a CA that did not sign the array's certificate
    from simulator.tls import ensure_certificate
    wrong_ca, _ = ensure_certificate(tmp_path / "other-ca")
    bad = pywbem.WBEMConnection(https.url, ("superuser", "passw0rd"), default_namespace="root/ibm",
                                ca_certs=str(wrong_ca), timeout=10)
    with pytest.raises(pywbem.ConnectionError):
        bad.EnumerateInstanceNames("IBMTSSVC_Cluster")
    del other
    http = array_factory(http=True)
    assert http.url.startswith("http://")
    assert len(http.conn().EnumerateInstanceNames("CIM_StoragePool")) == 2


def test_clean_stop_on_sigterm(array_factory):
    proc = array_factory()
    assert proc.stop() == 0
