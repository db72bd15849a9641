"""Shadow copies shown to a VMware guest, end to end: the embedded array maps targets to the
ESXi host's FC ports, vcsim (the ESXi host) sees them after a rescan, the consumer attaches
them to this VM as physical-mode RDMs and the guest reads the point-in-time bytes; on
delete the RDM goes before the array unmaps the LUN (manual 5.1)."""
from __future__ import annotations

import pytest

from adapters.host.simulated import SimulatedHost
from orchestrator.config import load_config
from orchestrator.consumers import EsxiVm, GuestIdentity
from orchestrator.engine import Orchestrator
from core.errors import VssError
from core.records import SetOptions
from tests.lifecycle.conftest import ArrayView, SRC1, SRC2, fill, write_config
from tests.support.arrayproc import PASSWORD as ARRAY_PASSWORD, USER as ARRAY_USER

from .conftest import FC_WWPNS, NPIV_WWPNS, SELF_IP
from .fabric import Fabric

MiB = 1 << 20


def test_create_shows_targets_as_prdms_and_delete_removes_them_before_unmapping(
        esx_array, vcsim, esx, self_vm, tmp_path):
    array = esx_array
    config = load_config(write_config(tmp_path / "c.yaml", array, tmp_path / "state", backgroundCopy=0))
    guest = SimulatedHost(array.url, FC_WWPNS[0], tmp_path / "guest", auth=(ARRAY_USER, ARRAY_PASSWORD))
    fabric = Fabric(esx, vcsim.lun_file, array, FC_WWPNS[0])
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
    assert {lun["uid"] for lun in array.host_luns(FC_WWPNS[0])} == {SRC1, SRC2}     # the sources only
    assert all(guest.find_disk(uid) is None for uid in targets)


def test_a_protocol_no_array_host_carries_is_205_before_anything_changes(esx_array, vcsim, esx, self_vm, tmp_path):
    """Table 3-1 with storageProtocol iscsi and a host that has FC and iSCSI: the guest has
    no software initiator, so the LUN goes to the host's iSCSI port; the array has no host
    with that IQN: 205 and nothing mapped."""
    array = esx_array
    config = load_config(write_config(tmp_path / "c.yaml", array, tmp_path / "state",
                                      backgroundCopy=0, storageProtocol="iscsi"))
    guest = SimulatedHost(array.url, FC_WWPNS[0], tmp_path / "guest", auth=(ARRAY_USER, ARRAY_PASSWORD))
    consumer = EsxiVm(guest, lambda: Fabric(esx, vcsim.lun_file, array, FC_WWPNS[0]), GuestIdentity(ips=(SELF_IP,)),
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
    vm = Orchestrator.from_config(config, consumer=EsxiVm(guest, lambda: Fabric(esx, vcsim.lun_file, array, FC_WWPNS[0]),
                                                         GuestIdentity(ips=(SELF_IP,)), arrival_timeout_s=10))
    vm.import_set(record.set_id)
    assert [d.uid for d in esx.list_rdms(self_vm)] == [uid]
    assert guest.read(uid, 0, 4 * MiB) == image
    vm.delete(set_id=record.set_id)
    assert esx.list_rdms(self_vm) == []
    assert {lun["uid"] for lun in array.host_luns(FC_WWPNS[0])} == {SRC1, SRC2} and not app.sets()
