"""The harness's own checks: what it refuses the way ESXi would, so adapter bugs show up."""

from __future__ import annotations

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim

from adapters.esxi import errors
from adapters.esxi.specs import LunInfo, build_prdm_add

UID = "60050760008D89C0D000000000000003"


def reconfigure(vm, *changes) -> None:
    WaitForTask(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=list(changes))))


def scsi_key(vm) -> int:
    return next(d.key for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualSCSIController))


@pytest.fixture
def lun(esx, vcsim, self_vm) -> LunInfo:
    vcsim.map_luns(UID)
    esx.rescan(self_vm)
    return esx.find_lun(self_vm, UID)


def test_unit_already_taken(esx, self_vm, lun):
    with pytest.raises(vim.fault.InvalidDeviceSpec) as caught:
        reconfigure(self_vm, build_prdm_add(lun, scsi_key(self_vm), 0))  # the model VM's own disk
    assert caught.value.property.endswith("unitNumber")


@pytest.mark.parametrize("unit", [7, 16, -1])
def test_unit_out_of_range(esx, self_vm, lun, unit):
    with pytest.raises(vim.fault.InvalidDeviceSpec):
        reconfigure(self_vm, build_prdm_add(lun, scsi_key(self_vm), unit))


def test_no_such_controller(esx, self_vm, lun):
    with pytest.raises(vim.fault.InvalidDeviceSpec) as caught:
        reconfigure(self_vm, build_prdm_add(lun, 4242, 1))
    assert caught.value.property.endswith("controllerKey")


def test_virtual_mode_is_refused(esx, self_vm, lun):
    spec = build_prdm_add(lun, scsi_key(self_vm), 1)
    spec.device.backing.compatibilityMode = "virtualMode"
    with pytest.raises(vim.fault.InvalidDeviceBacking):
        reconfigure(self_vm, spec)


def test_invisible_lun_is_refused(esx, self_vm):
    hidden = LunInfo(uid=UID, canonical_name="naa." + UID.lower(), uuid="0200000000" + UID.lower(),
                     device_name="/vmfs/devices/disks/naa." + UID.lower())
    with pytest.raises(vim.fault.InvalidDeviceBacking):
        reconfigure(self_vm, build_prdm_add(hidden, scsi_key(self_vm), 1))


def test_same_lun_twice_is_refused_and_nothing_half_done(esx, self_vm, lun):
    reconfigure(self_vm, build_prdm_add(lun, scsi_key(self_vm), 1))
    with pytest.raises(vim.fault.InvalidDeviceBacking):
        reconfigure(self_vm, build_prdm_add(lun, scsi_key(self_vm), 2))
    assert [d.unit for d in esx.list_rdms(self_vm)] == [1]


def test_stock_reconfigure_still_works_with_an_rdm_attached(esx, self_vm, lun):
    """Stock 0.24.2 panics on any reconfigure of a VM that has an RDM."""
    esx.attach_prdm(self_vm, UID)
    option = vim.option.OptionValue(key="SET.guest.hostName", value=self_vm.guest.hostName)
    WaitForTask(self_vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(extraConfig=[option])))
    assert [d.uid for d in esx.list_rdms(self_vm)] == [UID]


def test_rescan_one_hba(esx, vcsim, self_vm):
    storage = self_vm.runtime.host.configManager.storageSystem
    vcsim.map_luns(UID)
    storage.RescanHba(hbaDevice="vmhba2")
    assert esx.find_lun(self_vm, UID) is not None
    with pytest.raises(vim.fault.NotFound):
        storage.RescanHba(hbaDevice="vmhba99")


def test_unreadable_lun_file_fails_the_rescan(esx, vcsim, self_vm):
    vcsim.lun_file.write_text('[{"uid": "not-hex"}]')
    with pytest.raises(errors.EsxiError, match="HostConfigFault"):
        esx.rescan(self_vm)
