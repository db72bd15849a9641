"""Shadow copies shown to a VMware guest, end to end: the embedded array maps targets to the
ESXi host's FC ports, vcsim (the ESXi host) sees them after a rescan, the consumer attaches
them to this VM as physical-mode RDMs and the guest reads the point-in-time bytes; on
delete the RDM goes before the array unmaps the LUN (manual 5.1)."""
from __future__ import annotations

from pathlib import Path

import pytest

from adapters.host.simulated import SimulatedHost
from orchestrator.config import load_config
from orchestrator.consumers import EsxiVm, GuestIdentity
from orchestrator.engine import Orchestrator
from orchestrator.errors import VssError
from orchestrator.records import SetOptions
from tests.lifecycle.conftest import DEMO, ArrayView, SRC1, SRC2, fill, write_config
from tests.support.arrayproc import PASSWORD as ARRAY_PASSWORD, USER as ARRAY_USER, ArrayProcess

from .conftest import FC_WWPNS, NPIV_WWPNS, SELF_IP

MiB = 1 << 20


class Fabric:
    """The vSphere session as the consumer uses it, with the SAN in between: a rescan
    shows the ESXi host what the array maps to its ports now. Records the array's view at
    each detach."""

    def __init__(self, session, harness, array: ArrayProcess):
        self.session, self.harness, self.array = session, harness, array
        self.mapped_at_detach: dict[str, bool] = {}

    def __getattr__(self, name):
        return getattr(self.session, name)

    def _on_host(self) -> set[str]:
        return {lun["uid"] for lun in self.array.host_luns(FC_WWPNS[0])}

    def rescan(self, vm) -> None:
        self.harness.map_luns(*sorted(self._on_host()))
        self.session.rescan(vm)

    def detach_prdm(self, vm, uid: str) -> bool:
        self.mapped_at_detach[uid] = uid in self._on_host()
        return self.session.detach_prdm(vm, uid)


@pytest.fixture
def esx_array(tmp_path):
    seed = tmp_path / "seed.yaml"
    text = Path(DEMO).read_text()
    hosts = f'  - {{name: esx_host, wwpns: ["{FC_WWPNS[0]}", "{FC_WWPNS[1]}"]}}\n'
    seed.write_text(text.replace("hosts:\n", "hosts:\n" + hosts, 1))
    proc = ArrayProcess(state=tmp_path / "array", http=True, seed=seed, time_scale=1000).start()
    yield proc
    proc.stop()


def test_create_shows_targets_as_prdms_and_delete_removes_them_before_unmapping(
        esx_array, vcsim, esx, self_vm, tmp_path):
    array = esx_array
    config = load_config(write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0))
    guest = SimulatedHost(array.url, FC_WWPNS[0], tmp_path / "guest", auth=(ARRAY_USER, ARRAY_PASSWORD))
    fabric = Fabric(esx, vcsim, array)
    consumer = EsxiVm(guest, lambda: fabric, GuestIdentity(ips=(SELF_IP,)), arrival_timeout_s=10)
    orch = Orchestrator.from_config(config, consumer=consumer)
    images = {SRC1: fill(array, SRC1, b"alpha "), SRC2: fill(array, SRC2, b"beta ")}

    # NPIV: the VM's virtual ports come first, then the host's physical ones
    assert consumer.initiators().fc_wwpns == (*NPIV_WWPNS, *FC_WWPNS)
    record = orch.create([SRC1, SRC2])
    fill(array, SRC1, b"changed ")               # after the instant: not in the shadow copy
    targets = {s.target_uid for s in record.shadows}
    assert {d.uid for d in esx.list_rdms(self_vm)} == targets
    for s in record.shadows:
        assert s.device and guest.is_online(s.target_uid)
        assert guest.read(s.target_uid, 0, 4 * MiB) == images[s.source_uid]

    orch.delete(set_id=record.set_id)
    assert esx.list_rdms(self_vm) == []
    assert fabric.mapped_at_detach == {uid: True for uid in targets}    # RDM first, then unmap
    assert {lun["uid"] for lun in array.host_luns(FC_WWPNS[0])} == set()
    assert all(guest.find_disk(uid) is None for uid in targets)


def test_a_protocol_no_array_host_carries_is_205_before_anything_changes(esx_array, vcsim, esx, self_vm, tmp_path):
    """Table 3-1 with storageProtocol iscsi and a host that has FC and iSCSI: the guest has
    no software initiator, so the LUN goes to the host's iSCSI port; the array has no host
    with that IQN: 205 and nothing mapped."""
    array = esx_array
    config = load_config(write_config(tmp_path / "c.yaml", array, tmp_path / "state",
                                      backgroundCopy=0, storageProtocol="iscsi"))
    guest = SimulatedHost(array.url, FC_WWPNS[0], tmp_path / "guest", auth=(ARRAY_USER, ARRAY_PASSWORD))
    consumer = EsxiVm(guest, lambda: Fabric(esx, vcsim, array), GuestIdentity(ips=(SELF_IP,)),
                      protocol="iscsi", arrival_timeout_s=10)
    orch = Orchestrator.from_config(config, consumer=consumer)
    before = ArrayView(array).snapshot()
    with pytest.raises(VssError) as err:
        orch.create([SRC1])
    assert err.value.code == 205
    assert ArrayView(array).snapshot() == before and esx.list_rdms(self_vm) == []
    assert orch.sets() == []


def test_transportable_set_imported_on_the_vm_through_prdm(esx_array, vcsim, esx, self_vm, tmp_path):
    """Created on the application host (no host side), imported on the VMware guest: the
    import attaches the targets as pRDMs and the guest reads the images; the delete
    leaves no RDM and no mapping."""
    array = esx_array
    config = load_config(write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0))
    app = Orchestrator.from_config(config, consumer=None)
    image = fill(array, SRC1, b"alpha ")
    record = app.create([SRC1], SetOptions(transportable=True))
    uid = record.shadows[0].target_uid
    fill(array, SRC1, b"later ")

    guest = SimulatedHost(array.url, FC_WWPNS[0], tmp_path / "guest", auth=(ARRAY_USER, ARRAY_PASSWORD))
    vm = Orchestrator.from_config(config, consumer=EsxiVm(guest, lambda: Fabric(esx, vcsim, array),
                                                         GuestIdentity(ips=(SELF_IP,)), arrival_timeout_s=10))
    vm.import_set(record.set_id)
    assert [d.uid for d in esx.list_rdms(self_vm)] == [uid]
    assert guest.read(uid, 0, 4 * MiB) == image
    vm.delete(set_id=record.set_id)
    assert esx.list_rdms(self_vm) == []
    assert array.host_luns(FC_WWPNS[0]) == [] and not app.sets()
