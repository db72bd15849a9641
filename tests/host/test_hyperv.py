"""Hyper-V parent operations against a scripted runner.

Replies follow what the scripts build from Get-VM, Get-VMHardDiskDrive (Path is the
VHDX file, or "Disk 3 100.00 GB Bus 0 Lun 1 Target 0" for a pass-through disk),
Get-VMScsiController and Get-VMFibreChannelHba.
"""

import pytest

from adapters.host import windows as w
from adapters.host.base import HostError, UnsupportedVolume
from core.ports import DiskId
from adapters.hyperv import passthrough as p
from adapters.hyperv.passthrough import (
    GuestIdentity, HyperVParent, VmDrive, VmStorage, bios_uuid_candidates, find_vm,
    pick_free_slot, read_guest_identity,
)
from tests.host.conftest import HOSTILE

UID = "60050760008D89C0D000000000000001"
TARGET = "60050760008D89C0D0000000000000A7"
VM_ID = "8c2b6a4e-1f3d-4b5a-9e7c-2d1f0a3b4c5d"
# The same VM as a generation 1 guest's BIOS shows it: first three fields byte-swapped.
VM_ID_SWAPPED = "4e6a2b8c-3d1f-5a4b-9e7c-2d1f0a3b4c5d"

OS_VHDX = {"ControllerType": "SCSI", "ControllerNumber": 0, "ControllerLocation": 0,
           "DiskNumber": None, "Path": "C:\\ClusterStorage\\Volume1\\app01\\app01-os.vhdx",
           "UniqueId": None}
SOURCE_PT = {"ControllerType": "SCSI", "ControllerNumber": 0, "ControllerLocation": 1,
             "DiskNumber": 3, "Path": "Disk 3 100.00 GB Bus 0 Lun 1 Target 0", "UniqueId": UID}
DATA_VHDX = {**OS_VHDX, "ControllerLocation": 2,
             "Path": "C:\\ClusterStorage\\Volume1\\app01\\app01-data.vhdx"}


def parent(runner, clock=None):
    return HyperVParent(runner, VM_ID, clock)


def test_guest_identity(runner):
    runner.expect(p.GUEST_IDENTITY, {}, {"VirtualMachineName": "app01", "VirtualMachineId": "",
                                         "BiosUuid": VM_ID_SWAPPED.upper()})
    assert read_guest_identity(runner) == GuestIdentity("app01", "", VM_ID_SWAPPED)


def test_bios_uuid_byte_orders():
    assert bios_uuid_candidates(VM_ID_SWAPPED) == [VM_ID_SWAPPED, VM_ID]
    assert bios_uuid_candidates("") == []


def test_find_vm_by_generation1_bios_uuid(runner):
    guest = GuestIdentity("app01", "", VM_ID_SWAPPED)
    runner.expect(p.FIND_VM, {"Name": "app01", "Ids": [VM_ID_SWAPPED, VM_ID]},
                  [{"Id": VM_ID, "Name": "app01"}, {"Id": "0d6b1f0e-aaaa-bbbb-cccc-000000000001",
                                                    "Name": "app01"}])
    assert find_vm(runner, guest) == VM_ID


def test_find_vm_by_kvp_id(runner):
    guest = GuestIdentity("app01", VM_ID, "")
    runner.expect(p.FIND_VM, {"Name": "app01", "Ids": [VM_ID]}, [{"Id": VM_ID.upper(), "Name": "app01"}])
    assert find_vm(runner, guest) == VM_ID


def test_find_vm_by_name_alone(runner):
    runner.expect(p.FIND_VM, {"Name": HOSTILE, "Ids": []}, [{"Id": VM_ID, "Name": HOSTILE}])
    assert find_vm(runner, GuestIdentity(HOSTILE, "", "")) == VM_ID


def test_find_vm_ambiguous_name(runner):
    runner.expect(p.FIND_VM, {"Name": "app01", "Ids": []},
                  [{"Id": VM_ID, "Name": "app01"}, {"Id": VM_ID_SWAPPED, "Name": "app01"}])
    with pytest.raises(HostError, match="2 VMs .*'app01'"):
        find_vm(runner, GuestIdentity("app01", "", ""))


def test_find_vm_absent(runner):
    runner.expect(p.FIND_VM, {"Name": "app01", "Ids": [VM_ID]}, [])
    with pytest.raises(HostError, match="not on the Hyper-V host"):
        find_vm(runner, GuestIdentity("app01", VM_ID, ""))


def test_parent_disk_operations(runner):
    disk = {"Number": 7, "UniqueId": TARGET, "UniqueIdFormat": 3, "SerialNumber": TARGET,
            "IsOffline": False}
    runner.expect(w.RESCAN, {}, True)
    runner.expect(w.FIND_DISK, {"UniqueId": TARGET}, [disk])
    runner.expect(w.SET_OFFLINE, {"UniqueId": TARGET, "Offline": True}, [{**disk, "IsOffline": True}])
    hv = parent(runner)
    hv.rescan()
    assert hv.find_disk(TARGET) == DiskId(7, TARGET, TARGET)
    hv.take_offline(TARGET)


def test_take_offline_of_a_missing_disk(runner):
    runner.expect(w.SET_OFFLINE, {"UniqueId": TARGET, "Offline": True}, [])
    with pytest.raises(HostError, match="no disk " + TARGET):
        parent(runner).take_offline(TARGET)


def test_vm_storage(runner):
    runner.expect(p.VM_STORAGE, {"VmId": VM_ID},
                  {"ScsiControllers": [0], "Drives": [OS_VHDX, SOURCE_PT]})
    assert parent(runner).vm_storage() == VmStorage((0,), (
        VmDrive("SCSI", 0, 0, None, OS_VHDX["Path"], None),
        VmDrive("SCSI", 0, 1, 3, SOURCE_PT["Path"], UID)))


def test_require_passthrough(runner):
    runner.expect(p.VM_STORAGE, {"VmId": VM_ID},
                  {"ScsiControllers": [0], "Drives": [OS_VHDX, SOURCE_PT]})
    assert parent(runner).require_passthrough(UID.lower()).disk_number == 3


def test_source_on_a_vhdx_is_unsupported(runner):
    runner.expect(p.VM_STORAGE, {"VmId": VM_ID},
                  {"ScsiControllers": [0], "Drives": [OS_VHDX, DATA_VHDX]})
    with pytest.raises(UnsupportedVolume) as caught:
        parent(runner).require_passthrough(UID)
    text = str(caught.value)
    assert "app01-data.vhdx" in text and "VHD/VHDX" in text and "manual 3.3, 5.1" in text


def test_pick_free_slot():
    drives = tuple(VmDrive("SCSI", 0, n, None, "x.vhdx", None) for n in range(3))
    ide = (VmDrive("IDE", 1, 3, None, "y.vhdx", None),)
    assert pick_free_slot(VmStorage((0,), drives)) == (0, 3)
    assert pick_free_slot(VmStorage((1, 0), ide)) == (0, 0)
    full = tuple(VmDrive("SCSI", 0, n, n, "", None) for n in range(64))
    assert pick_free_slot(VmStorage((0, 1), full)) == (1, 0)


def test_pick_free_slot_none_left():
    with pytest.raises(HostError, match="add a SCSI controller"):
        pick_free_slot(VmStorage((), ()))


def test_attach_passthrough_at_the_first_free_location(runner):
    runner.expect(p.VM_STORAGE, {"VmId": VM_ID},
                  {"ScsiControllers": [0], "Drives": [OS_VHDX, SOURCE_PT]})
    runner.expect(p.ATTACH, {"VmId": VM_ID, "UniqueId": TARGET, "ControllerNumber": 0,
                             "ControllerLocation": 2},
                  {"ControllerType": "SCSI", "ControllerNumber": 0, "ControllerLocation": 2,
                   "DiskNumber": 7, "Path": "Disk 7 100.00 GB Bus 0 Lun 4 Target 0",
                   "UniqueId": TARGET})
    assert parent(runner).attach_passthrough(TARGET) == \
        VmDrive("SCSI", 0, 2, 7, "Disk 7 100.00 GB Bus 0 Lun 4 Target 0", TARGET)


def test_attach_passthrough_again_keeps_the_drive(runner):
    attached = {**SOURCE_PT, "ControllerLocation": 2, "DiskNumber": 7, "UniqueId": TARGET}
    runner.expect(p.VM_STORAGE, {"VmId": VM_ID},
                  {"ScsiControllers": [0], "Drives": [OS_VHDX, SOURCE_PT, attached]})
    assert parent(runner).attach_passthrough(TARGET).controller_location == 2


def test_detach_passthrough(runner):
    runner.expect(p.DETACH, {"VmId": VM_ID, "UniqueId": TARGET}, 1)
    runner.expect(p.DETACH, {"VmId": VM_ID, "UniqueId": TARGET}, 0)
    hv = parent(runner)
    assert hv.detach_passthrough(TARGET) == 1
    assert hv.detach_passthrough(TARGET) == 0


def test_fc_wwpns_both_sets(runner):
    runner.expect(p.FC_HBAS, {"VmId": VM_ID}, [
        {"SanName": "SAN-A", "SetA": "C003FF0000FFFF00", "SetB": "C003FF0000FFFF01"},
        {"SanName": "SAN-B", "SetA": "c003ff0000ffff02", "SetB": "C003FF0000FFFF03"}])
    assert parent(runner).fc_wwpns() == ("C003FF0000FFFF00", "C003FF0000FFFF01",
                                         "C003FF0000FFFF02", "C003FF0000FFFF03")


def test_fc_wwpns_without_npiv(runner):
    runner.expect(p.FC_HBAS, {"VmId": VM_ID}, [])
    assert parent(runner).fc_wwpns() == ()
