"""Clients nobody here wrote: pywbemcli (pywbemtools) and Debian's sblim wbemcli; and
what DSP0200 says a WBEM server answers to requests that are not CIM operations."""
import base64
import http.client
import os
import re
import ssl
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.demo import DEMO

PYWBEMCLI = Path(sys.executable).with_name("pywbemcli")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from tests.support.arrayproc import ArrayProcess
    proc = ArrayProcess(tmp_path_factory.mktemp("tp"), seed=DEMO).start()
    yield proc
    proc.stop()


def _pywbemcli(sim, *args):
    # requests would let REQUESTS_CA_BUNDLE override --ca-certs; a user's shell has neither.
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    cmd = [str(PYWBEMCLI), "-s", sim.url, "-u", "superuser", "-p", "passw0rd", "-d", "root/ibm",
           "--ca-certs", sim.cafile, *args]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_pywbemcli_lists_classes_and_volumes_and_invokes_a_method(demo):
    classes = _pywbemcli(demo, "class", "enumerate", "--names-only", "--deep-inheritance").split()
    assert "IBMTSSVC_StorageVolume" in classes and "CIM_StorageVolume" in classes
    vols = _pywbemcli(demo, "instance", "enumerate", "CIM_StorageVolume", "--pl", "ElementName")
    assert 'ElementName = "vss_src_vol"' in vols and 'ElementName = "vss_target_vol"' in vols
    scs = demo.conn().EnumerateInstanceNames("IBMTSSVC_StorageHardwareIDManagementService")[0]
    out = _pywbemcli(demo, "instance", "invokemethod", scs.to_wbem_uri(format="canonical"),
                     "CreateStorageHardwareID", "-p", "ElementName=pywbemcli_host",
                     "-p", "StorageID=iqn.2001-04.com.example:pywbemcli", "-p", "IDType=5")
    assert "ReturnValue=0" in out.replace(" ", "")
    hosts = [h["ElementName"] for h in demo.conn().EnumerateInstances("IBMTSSVC_StorageHardwareID")]
    assert "pywbemcli_host" in hosts


@pytest.mark.skipif(shutil.which("wbemcli") is None, reason="Debian's sblim-wbemcli is not installed")
def test_sblim_wbemcli_enumerates_volumes(demo):
    hostport = demo.url.split("//")[1]
    # -noverify: wbemcli's own TLS trust store is not configurable per call; the
    # pywbem tests verify the certificate.
    res = subprocess.run(["wbemcli", "-nl", "-noverify", "ei",
                          f"https://superuser:passw0rd@{hostport}/root/ibm:CIM_StorageVolume"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert '-ElementName="vss_src_vol"' in res.stdout
    assert '-StatusDescriptions=\n' in res.stdout            # NULL properties are sent, as NULL
    assert '-UniqueID="60050760008D89C0D000000000000003"' in res.stdout
    assert res.stdout.count("IBMTSSVC_StorageVolume.CreationClassName") == 10
    bad = subprocess.run(["wbemcli", "-noverify", "ein",
                          f"https://superuser:wrong@{hostport}/root/ibm:CIM_StorageVolume"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0


def test_pywbemcli_finds_the_server_its_profiles_and_classes(demo):
    info = _pywbemcli(demo, "server", "info")
    assert "interop" in info and "root/ibm" in info and "IBMTSSVC CIM agent" in info
    profiles = _pywbemcli(demo, "profile", "list")
    rows = {m.groups() for m in re.finditer(r"^(\w+)\s+(\S.*?)\s+(\d+\.\d+\.\d+)$", profiles, re.M)}
    assert rows == {("SNIA", name, "1.4.0") for name in (
        "Storage Virtualizer", "Block Services", "Copy Services", "Masking and Mapping", "Job Control",
        "Server", "Profile Registration")}, profiles
    central = _pywbemcli(demo, "profile", "centralinsts", "-o", "SNIA", "-p", "Storage Virtualizer")
    cid = demo.admin("GET", "identity")["cluster_id"]
    assert f"{cid}:{cid}" in central.replace("\n", "").replace(" ", "").replace("|", "")
    cls = _pywbemcli(demo, "class", "get", "IBMTSSVC_StorageVolume")
    assert "class IBMTSSVC_StorageVolume : CIM_StorageVolume {" in cls and "string UniqueID;" in cls
    assert "Extension" in cls and "boolean Deduplicated;" in cls   # marked as our extension
    key = _pywbemcli(demo, "qualifier", "get", "Key")
    assert key.startswith("Qualifier Key : boolean = false,") and "Scope(property, reference)" in key
    every = _pywbemcli(demo, "qualifier", "enumerate")
    assert "Qualifier Extension : string," in every and "Qualifier Association : boolean = false," in every


@pytest.mark.skipif(shutil.which("wbemcli") is None, reason="Debian's sblim-wbemcli is not installed")
def test_sblim_wbemcli_gets_a_class_and_calls_a_method(demo):
    hostport = demo.url.split("//")[1]
    base = f"https://superuser:passw0rd@{hostport}/root/ibm:"
    gc = subprocess.run(["wbemcli", "-nl", "-noverify", "gc", base + "IBMTSSVC_ProtocolController"],
                        capture_output=True, text=True, timeout=120)
    assert gc.returncode == 0, gc.stderr
    assert "-DeviceID=" in gc.stdout and "-MaxUnitsControlled=" in gc.stdout
    hws = demo.conn().EnumerateInstanceNames("IBMTSSVC_StorageHardwareIDManagementService")[0]
    keys = ",".join(f'{k}="{v}"' for k, v in sorted(hws.keybindings.items()))
    cm = subprocess.run(["wbemcli", "-noverify", "cm", f"{base}{hws.classname}.{keys}",
                         'CreateStorageHardwareID.ElementName="wbemcli_host",'
                         'StorageID="iqn.2001-04.com.example:wbemcli",IDType=5'],
                        capture_output=True, text=True, timeout=120)
    assert cm.returncode == 0, cm.stderr
    assert "CreateStorageHardwareID: 0" in cm.stdout and "HardwareID" in cm.stdout
    hosts = {h["ElementName"]: h for h in demo.conn().EnumerateInstances("IBMTSSVC_StorageHardwareID")}
    assert hosts["wbemcli_host"]["iSCSIName"] == ["iqn.2001-04.com.example:wbemcli"]


def _post(sim, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
    """A raw HTTP POST (http.client: no CIM client would send these)."""
    host, port = sim.url.split("//")[1].split(":")
    conn = http.client.HTTPSConnection(host, int(port), context=ssl.create_default_context(cafile=sim.cafile),
                                       timeout=30)
    token = base64.b64encode(b"superuser:passw0rd").decode()
    conn.request("POST", "/cimom", body=body, headers={"Authorization": f"Basic {token}",
                                                       "Content-Type": "application/xml", **headers})
    resp = conn.getresponse()
    out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    conn.close()
    return out


ENUM_NAMES = (b'<?xml version="1.0" encoding="utf-8" ?><CIM CIMVERSION="2.0" DTDVERSION="2.0">'
              b'<MESSAGE ID="7" PROTOCOLVERSION="1.0"><SIMPLEREQ>'
              b'<IMETHODCALL NAME="EnumerateInstanceNames"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/>'
              b'<NAMESPACE NAME="ibm"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME="ClassName">'
              b'<CLASSNAME NAME="IBMTSSVC_Cluster"/></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>')
CIM_HEADERS = {"CIMOperation": "MethodCall", "CIMMethod": "EnumerateInstanceNames", "CIMObject": "root%2Fibm"}


def test_requests_that_are_not_cim_operations_are_refused_as_dsp0200_says(demo):
    status, headers, _ = _post(demo, b"<CIM><unclosed", CIM_HEADERS)
    assert status == 400 and headers["cimerror"] == "request-not-well-formed"
    status, headers, _ = _post(demo, b"<CIM/>", CIM_HEADERS)
    assert status == 400 and headers["cimerror"] == "request-not-valid"
    status, headers, _ = _post(demo, ENUM_NAMES, {k: v for k, v in CIM_HEADERS.items() if k != "CIMOperation"})
    assert status == 400 and headers["cimerror"] == "unsupported-operation"
    status, headers, _ = _post(demo, ENUM_NAMES, {**CIM_HEADERS, "CIMMethod": "GetInstance"})
    assert status == 400 and headers["cimerror"] == "header-mismatch"
    status, headers, body = _post(demo, ENUM_NAMES, CIM_HEADERS)
    assert status == 200 and headers["cimoperation"] == "MethodResponse" and b"IBMTSSVC_Cluster" in body


def test_a_chunked_request_body_is_read(demo):
    chunks = [ENUM_NAMES[i:i + 100] for i in range(0, len(ENUM_NAMES), 100)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    status, headers, reply = _post(demo, body, {**CIM_HEADERS, "Transfer-Encoding": "chunked"})
    assert status == 200 and b'<INSTANCENAME CLASSNAME="IBMTSSVC_Cluster">' in reply


def test_the_cluster_finds_its_profile_in_its_own_namespace(demo):
    # the guide's SLP registration says Interop=/root/ibm: the profiles are there too
    conn = demo.conn()
    cluster = conn.EnumerateInstanceNames("IBMTSSVC_Cluster")[0]
    found = conn.Associators(cluster, AssocClass="CIM_ElementConformsToProfile",
                             ResultClass="CIM_RegisteredProfile")
    assert [(p["RegisteredName"], p["RegisteredVersion"]) for p in found] == [("Storage Virtualizer", "1.4.0")]
    subs = conn.AssociatorNames(found[0].path, AssocClass="CIM_SubProfileRequiresProfile", Role="Antecedent")
    names = {conn.GetInstance(s)["RegisteredName"] for s in subs}
    assert names == {"Block Services", "Copy Services", "Masking and Mapping", "Job Control"}
