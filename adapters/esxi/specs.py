"""Pure helpers over pyVmomi objects: device specs to send, disks and ids to read back.

Nothing here talks to a server, so all of it is tested offline with hand-built device
lists. Ids leave this module in the project's one spelling (upper-case hex, no prefix,
no separators, as adapters.host does) and are accepted in any case, with or without
the "naa." prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyVmomi import vim

from adapters.esxi.errors import AttachFailed, UnsupportedDisk
from core import ids

# A SCSI controller has 16 units (pvscsi allows 64 on recent hardware versions; 16 work
# everywhere), and unit 7 is the controller itself. A VM has at most 4 SCSI buses.
SCSI_UNITS = 16
SCSI_SELF_UNIT = 7
SCSI_BUSES = 4

# Devices added in the same ConfigSpec are named by negative keys until ESXi assigns
# real ones; a disk refers to a new controller through its key.
NEW_CONTROLLER_KEY = -100
NEW_DISK_KEY = -101

_WWN_MASK = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True)
class LunInfo:
    """A LUN as one ESXi host sees it."""

    uid: str             # page-83 NAA id, upper-case hex
    canonical_name: str  # "naa." + lower-case uid
    uuid: str            # ScsiLun.uuid (vml id); an RDM backing's lunUuid
    device_name: str     # "/vmfs/devices/disks/naa.…"; host-specific


@dataclass(frozen=True)
class AttachedDisk:
    """A raw disk mapping on the VM."""

    uid: str | None      # None when neither the host nor the backing names the LUN
    key: int
    controller_key: int
    unit: int
    file_name: str       # the mapping file, "[datastore] vm/vm_1.vmdk"
    physical: bool       # compatibilityMode == physicalMode


@dataclass(frozen=True)
class Slot:
    """Where the next disk goes. When new_controller_bus is set, a ParaVirtual SCSI
    controller with key controller_key must be added on that bus in the same spec."""

    controller_key: int
    unit: int
    new_controller_bus: int | None = None


def normalize_uid(uid: str) -> str:
    """The UID in core.ids' spelling; ValueError when it is not one."""
    value = ids.volume_uid(uid)
    if value is None:
        raise ValueError(f"not a LUN id: {uid!r}")
    return value


def wwn_hex(value: int) -> str:
    """vSphere types WWNs as signed 64-bit longs; a WWN with the top bit set (C0:50:76:…)
    arrives negative."""
    return "%016X" % (value & _WWN_MASK)


def uuid_byte_orders(text: str) -> tuple[str, ...]:
    """Both spellings of a BIOS uuid: the guest's SMBIOS text has the first three fields
    byte-swapped relative to vSphere's config.uuid on hardware version 13 and later."""
    given = uuid.UUID(text.strip())
    swapped = uuid.UUID(bytes=given.bytes_le)
    return tuple(dict.fromkeys((str(given), str(swapped))))


def pick_controller_unit(devices: Sequence[vim.vm.device.VirtualDevice]) -> Slot:
    """First free unit on the VM's SCSI controllers, in bus order; else a new controller
    on the lowest free bus. AttachFailed when all buses are taken and full."""
    controllers = sorted(
        (d for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)),
        key=lambda c: c.busNumber,
    )
    used = {(d.controllerKey, d.unitNumber) for d in devices if d.unitNumber is not None}
    for controller in controllers:
        for unit in range(SCSI_UNITS):
            if unit != SCSI_SELF_UNIT and (controller.key, unit) not in used:
                return Slot(controller.key, unit)
    buses = {c.busNumber for c in controllers}
    free = [bus for bus in range(SCSI_BUSES) if bus not in buses]
    if not free:
        raise AttachFailed(f"no free SCSI unit: all {SCSI_BUSES} SCSI controllers are full")
    return Slot(NEW_CONTROLLER_KEY, 0, free[0])


def build_controller_add(key: int, bus: int) -> vim.vm.device.VirtualDeviceSpec:
    controller = vim.vm.device.ParaVirtualSCSIController(
        key=key, busNumber=bus, sharedBus=vim.vm.device.VirtualSCSIController.Sharing.noSharing)
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=controller)


def build_prdm_add(lun: LunInfo, controller_key: int, unit: int) -> vim.vm.device.VirtualDeviceSpec:
    """A physical-mode RDM of `lun`; ESXi creates the mapping file beside the .vmx."""
    backing = vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo(
        compatibilityMode="physicalMode",
        deviceName=lun.device_name,
        lunUuid=lun.uuid,
        # ESXi ignores disk modes in physical mode; VMware's own clients send this one.
        diskMode="independent_persistent",
        fileName="",
    )
    disk = vim.vm.device.VirtualDisk(
        key=NEW_DISK_KEY, controllerKey=controller_key, unitNumber=unit, backing=backing,
        capacityInKB=0,  # required by the WSDL; ESXi sizes an RDM from its LUN
    )
    return vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)


def build_prdm_remove(device: vim.vm.device.VirtualDisk, destroy: bool = True) -> vim.vm.device.VirtualDeviceSpec:
    """Remove an RDM; destroy also deletes its mapping file (the LUN's data is untouched)."""
    spec = vim.vm.device.VirtualDeviceSpec(operation="remove", device=device)
    if destroy:
        spec.fileOperation = "destroy"
    return spec


def rdm_uid(backing: vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo,
            canonical_by_uuid: Mapping[str, str]) -> str | None:
    """The LUN id behind an RDM backing.

    canonical_by_uuid maps the host's ScsiLun.uuid to canonicalName. A LUN the array has
    already unmapped is no longer in it; its id is then read from deviceName when that is
    the naa path, else from the vml id, which carries the NAA id from its 11th hex digit
    (0200000000 + 6005…); SVC-family UIDs are 32-digit NAA-6 ids.
    """
    lun_uuid = (backing.lunUuid or "").lower()
    canonical = canonical_by_uuid.get(lun_uuid)
    if canonical and canonical.lower().startswith("naa."):
        return normalize_uid(canonical)
    name = (backing.deviceName or "").rsplit("/", 1)[-1]
    if name.lower().startswith("naa."):
        return normalize_uid(name)
    embedded = lun_uuid[10:42]
    if lun_uuid.startswith("02") and len(embedded) == 32 and embedded.startswith("6"):
        return normalize_uid(embedded)
    return None


def rdm_disks(devices: Sequence[vim.vm.device.VirtualDevice],
              canonical_by_uuid: Mapping[str, str]) -> list[AttachedDisk]:
    """Every raw disk mapping on the VM, physical and virtual mode."""
    found = []
    for device in devices:
        backing = getattr(device, "backing", None)
        if isinstance(device, vim.vm.device.VirtualDisk) and _is_rdm(backing):
            found.append(AttachedDisk(
                uid=rdm_uid(backing, canonical_by_uuid),
                key=device.key,
                controller_key=device.controllerKey,
                unit=device.unitNumber,
                file_name=backing.fileName,
                physical=backing.compatibilityMode == "physicalMode",
            ))
    return found


def find_rdm_device(devices: Sequence[vim.vm.device.VirtualDevice], uid: str,
                    canonical_by_uuid: Mapping[str, str]) -> vim.vm.device.VirtualDisk | None:
    """The VM's RDM disk of LUN `uid`, in either compatibility mode."""
    wanted = normalize_uid(uid)
    for device in devices:
        backing = getattr(device, "backing", None)
        if isinstance(device, vim.vm.device.VirtualDisk) and _is_rdm(backing):
            if rdm_uid(backing, canonical_by_uuid) == wanted:
                return device
    return None


def source_disk(devices: Sequence[vim.vm.device.VirtualDevice], uid: str,
                canonical_by_uuid: Mapping[str, str]) -> AttachedDisk | None:
    """The physical-mode RDM through which the guest sees disk `uid`; None when no VM
    disk carries it (the guest reaches the LUN itself, e.g. by in-guest iSCSI).

    UnsupportedDisk when the guest's disk is a virtual-mode RDM or a VMFS virtual disk
    (manual 5.1). Such disks show the guest a VMware id derived from the backing's uuid
    (6000C29…, with disk.EnableUUID) instead of the array's; a vRDM is also recognised
    by the LUN behind it.
    """
    wanted = normalize_uid(uid)
    for disk in rdm_disks(devices, canonical_by_uuid):
        if disk.uid == wanted:
            if disk.physical:
                return disk
            raise UnsupportedDisk(_unsupported(wanted, "a virtual-mode RDM", disk.file_name))
    for device in devices:
        backing = getattr(device, "backing", None)
        backing_uuid = (getattr(backing, "uuid", None) or "").replace("-", "").upper()
        if isinstance(device, vim.vm.device.VirtualDisk) and backing_uuid == wanted:
            kind = "a virtual-mode RDM" if _is_rdm(backing) else "a VMFS virtual disk"
            raise UnsupportedDisk(_unsupported(wanted, kind, backing.fileName))
    return None


def _unsupported(uid: str, kind: str, file_name: str) -> str:
    return (f"disk {uid} is {kind} ({file_name}): unsupported, only a physical-mode RDM "
            "passes the array's LUN through to the VM (manual 5.1)")


def _is_rdm(backing: object) -> bool:
    return isinstance(backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo)
