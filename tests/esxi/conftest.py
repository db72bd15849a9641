"""The vcsim harness (tools/vcsim) for the ESXi adapter tests: built once (scripts/build-vcsim.sh
caches it in build/vcsim), started once per test process on a free loopback port."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.esxi.session import VSphereSession
from tests.support.arrayproc import ROOT
from tests.support.demo import DEMO, start_seeded
from tests.support.vcsim import (
    FC_WWPNS,
    IQN,
    NPIV_WWPNS,
    PASSWORD,
    SELF_DNS,
    SELF_IP,
    SELF_UUID,
    TIMEOUT_MS,
    USER,
)

from .fabric import write_luns


@dataclass
class Harness:
    url: str
    cafile: str
    vm_name: str
    lun_file: Path
    log_file: Path

    def map_luns(self, *uids: str) -> None:
        write_luns(self.lun_file, uids)


@pytest.fixture(scope="session")
def vcsim(tmp_path_factory) -> Iterator[Harness]:
    if shutil.which("go") is None:
        pytest.skip("Go is not installed; the ESXi adapter tests build the vcsim harness with it "
                    "(scripts/setup.sh installs golang-go and golang-github-vmware-govmomi-dev)")
    build = subprocess.run(["bash", str(ROOT / "scripts" / "build-vcsim.sh")], capture_output=True, text=True)
    if build.returncode != 0:
        pytest.fail(f"scripts/build-vcsim.sh failed:\n{build.stderr}", pytrace=False)

    work = tmp_path_factory.mktemp("vcsim")
    lun_file, log_file = work / "luns.json", work / "vcsim.log"
    args = [
        str(ROOT / "build" / "vcsim" / "vcsim"),
        "-listen", "127.0.0.1:0",
        "-cafile", str(work / "ca.pem"),
        "-user", USER,
        "-luns", str(lun_file),
        "-fc-wwpn", ",".join(FC_WWPNS),
        "-iqn", IQN,
        "-npiv-wwpn", ",".join(NPIV_WWPNS),
        "-vm-ip", SELF_IP,
        "-vm-hostname", SELF_DNS,
        "-vm-uuid", SELF_UUID,
    ]
    with open(log_file, "wb") as log:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                env={**os.environ, "VCSIM_PASSWORD": PASSWORD})
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else b""
        if not line:
            pytest.fail(f"vcsim did not start; its log:\n{log_file.read_text()}", pytrace=False)
        info = json.loads(line)
        yield Harness(url=info["url"], cafile=info["cafile"], vm_name=info["vm"],
                      lun_file=lun_file, log_file=log_file)
    finally:
        proc.stdin.close()  # the harness stops when its stdin closes
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def esx(vcsim) -> Iterator[VSphereSession]:
    with VSphereSession.connect(vcsim.url, USER, PASSWORD, TIMEOUT_MS, cafile=vcsim.cafile) as session:
        yield session


@pytest.fixture
def self_vm(esx, vcsim):
    """This machine's VM; afterwards it has no RDM and the host sees no array LUN, as
    the next test expects."""
    vm = esx.find_self_vm(ips=[SELF_IP])
    yield vm
    for disk in esx.list_rdms(vm):
        esx.detach_prdm(vm, disk.uid)
    vcsim.map_luns()
    esx.rescan(vm)


@pytest.fixture
def esx_array(tmp_path):
    """The embedded array with the ESXi host's FC ports as an array host (esx_host), which
    the sources are mapped to as well."""
    seed = tmp_path / "seed.yaml"
    hosts = f'  - {{name: esx_host, wwpns: ["{FC_WWPNS[0]}", "{FC_WWPNS[1]}"]}}\n'
    # the sources are the VM's pRDMs, so LUNs of the ESXi host too (a VM copies only those)
    shared = "mappings:\n  - {host: esx_host, volumes: [vss_src_vol, vss_src_vol2], force: true}\n"
    seed.write_text(DEMO.read_text().replace("hosts:\n", "hosts:\n" + hosts, 1) + shared)
    proc = start_seeded(tmp_path / "array", seed=seed)
    yield proc
    proc.stop()
