"""Clients nobody here wrote: pywbemcli (pywbemtools) and Debian's sblim wbemcli."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.arrayproc import ROOT

DEMO = ROOT / "simulator" / "seeds" / "demo.yaml"
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
