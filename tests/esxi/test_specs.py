"""The pure spec builders and readers, offline, on hand-built pyVmomi device lists."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from adapters.esxi import errors
from adapters.esxi.specs import (
    NEW_CONTROLLER_KEY,
    LunInfo,
    Slot,
    build_controller_add,
    build_prdm_add,
    build_prdm_remove,
    find_rdm_device,
    normalize_uid,
    pick_controller_unit,
    rdm_disks,
    rdm_uid,
    source_disk,
    uuid_byte_orders,
    wwn_hex,
)

UID = "60050760008D89C0D000000000000001"
VML = "0200000000" + UID.lower() + "323134352020"
LUN = LunInfo(uid=UID, canonical_name="naa." + UID.lower(), uuid=VML,
              device_name="/vmfs/devices/disks/naa." + UID.lower())
RDM = vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo


def scsi(key: int, bus: int) -> vim.vm.device.ParaVirtualSCSIController:
    return vim.vm.device.ParaVirtualSCSIController(key=key, busNumber=bus)


def disk(controller: int, unit: int, backing=None, key: int = 0) -> vim.vm.device.VirtualDisk:
    return vim.vm.device.VirtualDisk(key=key or 2000 + unit, controllerKey=controller, unitNumber=unit,
                                     backing=backing or vim.vm.device.VirtualDisk.FlatVer2BackingInfo())


def rdm(mode: str, uid: str = UID, device_name: str | None = None, lun_uuid: str | None = None):
    return RDM(compatibilityMode=mode, lunUuid=lun_uuid or "0200000000" + uid.lower() + "323134352020",
               deviceName=device_name or "/vmfs/devices/disks/naa." + uid.lower(),
               fileName=f"[ds] vm/vm_{uid[-1]}.vmdk")


def full(controller: int) -> list:
    return [disk(controller, u, key=controller * 100 + u) for u in range(16) if u != 7]


class TestPickControllerUnit:
    def test_first_free_unit(self):
        assert pick_controller_unit([scsi(1000, 0), disk(1000, 0)]) == Slot(1000, 1)

    def test_skips_the_controllers_own_unit_7(self):
        devices = [scsi(1000, 0)] + [disk(1000, u) for u in range(7)]
        assert pick_controller_unit(devices) == Slot(1000, 8)

    def test_fills_gaps_and_ignores_other_controllers_units(self):
        devices = [scsi(1000, 0), disk(1000, 0), disk(1000, 2), vim.vm.device.VirtualCdrom(key=3000, controllerKey=200, unitNumber=1)]
        assert pick_controller_unit(devices) == Slot(1000, 1)

    def test_controllers_in_bus_order(self):
        devices = [scsi(1001, 1), scsi(1000, 0)] + full(1000)
        assert pick_controller_unit(devices) == Slot(1001, 0)

    def test_stays_under_16(self):
        devices = [scsi(1000, 0)] + full(1000)
        slot = pick_controller_unit(devices)
        assert slot == Slot(NEW_CONTROLLER_KEY, 0, new_controller_bus=1)

    def test_new_controller_takes_the_lowest_free_bus(self):
        devices = [scsi(1000, 0), scsi(1002, 2)] + full(1000) + full(1002)
        assert pick_controller_unit(devices).new_controller_bus == 1

    def test_no_controller_at_all(self):
        assert pick_controller_unit([]) == Slot(NEW_CONTROLLER_KEY, 0, new_controller_bus=0)

    def test_four_full_controllers(self):
        devices = []
        for bus in range(4):
            devices += [scsi(1000 + bus, bus)] + full(1000 + bus)
        with pytest.raises(errors.AttachFailed) as caught:
            pick_controller_unit(devices)
        assert caught.value.code == 3008


class TestBuilders:
    def test_prdm_add(self):
        spec = build_prdm_add(LUN, 1000, 3)
        assert spec.operation == "add"
        assert spec.fileOperation == "create"
        assert isinstance(spec.device, vim.vm.device.VirtualDisk)
        assert spec.device.key < 0
        assert (spec.device.controllerKey, spec.device.unitNumber) == (1000, 3)
        backing = spec.device.backing
        assert isinstance(backing, RDM)
        assert backing.compatibilityMode == "physicalMode"
        assert backing.deviceName == LUN.device_name
        assert backing.lunUuid == VML
        assert backing.fileName == ""

    def test_prdm_add_on_a_new_controller_refers_to_its_key(self):
        slot = Slot(NEW_CONTROLLER_KEY, 0, new_controller_bus=1)
        controller = build_controller_add(slot.controller_key, slot.new_controller_bus)
        disk_spec = build_prdm_add(LUN, slot.controller_key, slot.unit)
        assert isinstance(controller.device, vim.vm.device.ParaVirtualSCSIController)
        assert controller.operation == "add" and controller.fileOperation is None
        assert (controller.device.key, controller.device.busNumber) == (NEW_CONTROLLER_KEY, 1)
        assert controller.device.sharedBus == "noSharing"
        assert disk_spec.device.controllerKey == controller.device.key
        assert disk_spec.device.key != controller.device.key

    def test_prdm_remove_destroys_the_mapping_file_by_default(self):
        device = disk(1000, 1, rdm("physicalMode"))
        spec = build_prdm_remove(device)
        assert (spec.operation, spec.fileOperation) == ("remove", "destroy")
        assert spec.device is device

    def test_prdm_remove_can_keep_the_file(self):
        assert build_prdm_remove(disk(1000, 1, rdm("physicalMode")), destroy=False).fileOperation is None


class TestIds:
    def test_negative_wwn_is_masked_to_64_bits(self):
        assert wwn_hex(-4589038270051909632) == "C0507601D4E20000"
        assert wwn_hex(0x10000090FA1B2C3D) == "10000090FA1B2C3D"
        assert wwn_hex(1) == "0000000000000001"

    def test_uuid_in_both_byte_orders(self):
        assert uuid_byte_orders("421F245C-1A2B-3C4D-5E6F-00112233AABB") == (
            "421f245c-1a2b-3c4d-5e6f-00112233aabb", "5c241f42-2b1a-4d3c-5e6f-00112233aabb")

    def test_symmetric_uuid_is_tried_once(self):
        assert uuid_byte_orders("00000000-0000-0000-0000-000000000001") == ("00000000-0000-0000-0000-000000000001",)

    @pytest.mark.parametrize("text", [UID, UID.lower(), "naa." + UID.lower(), " NAA." + UID + " "])
    def test_uid_spellings(self, text):
        assert normalize_uid(text) == UID

    @pytest.mark.parametrize("text", ["", "naa.", "6005-0760", "xyz"])
    def test_not_a_uid(self, text):
        with pytest.raises(ValueError):
            normalize_uid(text)


class TestReadingRdms:
    def test_uid_from_the_hosts_lun_table(self):
        backing = rdm("physicalMode", device_name="/vmfs/devices/disks/vml." + VML)
        assert rdm_uid(backing, {VML: "naa." + UID.lower()}) == UID

    def test_uid_from_the_naa_device_name_when_the_lun_is_gone(self):
        assert rdm_uid(rdm("physicalMode", lun_uuid="01ffff"), {}) == UID

    def test_uid_from_the_vml_id_when_the_lun_is_gone(self):
        backing = rdm("physicalMode", device_name="/vmfs/devices/disks/vml." + VML)
        assert rdm_uid(backing, {}) == UID

    def test_unknown_rdm(self):
        backing = RDM(compatibilityMode="physicalMode", lunUuid="01000000abcdef", deviceName="/vmfs/devices/disks/mpx.vmhba0:C0:T1:L0")
        assert rdm_uid(backing, {}) is None

    def test_rdm_disks_lists_both_modes_and_nothing_else(self):
        other = "60050760008D89C0D000000000000002"
        devices = [scsi(1000, 0), disk(1000, 0), disk(1000, 1, rdm("physicalMode")), disk(1000, 2, rdm("virtualMode", other))]
        found = rdm_disks(devices, {})
        assert [(d.uid, d.unit, d.physical) for d in found] == [(UID, 1, True), (other, 2, False)]
        assert found[0].file_name == "[ds] vm/vm_1.vmdk"
        assert find_rdm_device(devices, other.lower(), {}) is devices[3]
        assert find_rdm_device(devices, "60050760008D89C0D0000000000000FF", {}) is None


class TestSourceDisk:
    def test_physical_rdm_is_supported(self):
        devices = [scsi(1000, 0), disk(1000, 1, rdm("physicalMode"))]
        assert source_disk(devices, UID, {}).unit == 1

    def test_virtual_mode_rdm_is_unsupported(self):
        devices = [scsi(1000, 0), disk(1000, 1, rdm("virtualMode"))]
        with pytest.raises(errors.UnsupportedDisk, match="virtual-mode RDM"):
            source_disk(devices, UID, {})

    def test_virtual_mode_rdm_seen_by_its_vmware_id_is_unsupported(self):
        backing = rdm("virtualMode")
        backing.uuid = "6000c298-5a4b-3c2d-1e0f-a1b2c3d4e5f6"
        devices = [scsi(1000, 0), disk(1000, 1, backing)]
        with pytest.raises(errors.UnsupportedDisk, match="virtual-mode RDM"):
            source_disk(devices, "6000C2985A4B3C2D1E0FA1B2C3D4E5F6", {})

    def test_vmfs_virtual_disk_is_unsupported(self):
        backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
            fileName="[ds] vm/vm.vmdk", uuid="6000C298-5a4b-3c2d-1e0f-a1b2c3d4e5f6")
        devices = [scsi(1000, 0), disk(1000, 0, backing)]
        with pytest.raises(errors.UnsupportedDisk, match="VMFS virtual disk") as caught:
            source_disk(devices, "naa.6000c2985a4b3c2d1e0fa1b2c3d4e5f6", {})
        assert "unsupported" in str(caught.value)
        assert caught.value.code == 3000

    def test_disk_the_vm_does_not_carry(self):
        assert source_disk([scsi(1000, 0), disk(1000, 0)], UID, {}) is None
