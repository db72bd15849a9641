"""Hyper-V parent operations for a provider running in a guest (manual 3.3).

The guest OS has no FC HBA of its own, so a target LUN reaches it through the parent:
mapped to the parent's initiators, found on the parent by its UID, taken offline there,
and attached to this VM's SCSI controller as a pass-through disk. On delete the disk is
detached before the array unmaps it. Virtual disk files (VHD/VHDX) carry no array
identity, so a source volume on one is refused (manual 5.1, 不支持的卷). With NPIV the
VM's virtual HBAs see the LUN themselves; the LUN must then be mapped to both WWPN sets
(A and B alternate during live migration).

Everything goes through a PowerShellRunner: PsrpRunner to the parent (vmhost with
vmusername / vmpassword / vmdomain), LocalRunner in the guest for its own identity.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.log import get_logger
from adapters.host.base import HostError, UnsupportedVolume, normalize_wwpn
from core.ids import volume_uid
from core.ports import Clock, DiskId
from adapters.host.powershell import PowerShellRunner
from adapters.host.windows import WindowsHost

log = get_logger(__name__)

# Locations per synthetic SCSI controller.
SCSI_LOCATIONS = 64

# Run in the guest. The KVP integration service writes the parent's name for this VM
# under this key; the BIOS uuid is the VM id (byte-swapped on generation 1 VMs).
GUEST_IDENTITY = r"""param()
$ErrorActionPreference = 'Stop'
$kvp = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Virtual Machine\Guest\Parameters' -ErrorAction SilentlyContinue
$out = [pscustomobject]@{
    VirtualMachineName = [string]$kvp.VirtualMachineName
    VirtualMachineId = [string]$kvp.VirtualMachineId
    BiosUuid = [string](Get-CimInstance -ClassName Win32_ComputerSystemProduct).UUID
}
ConvertTo-Json -InputObject $out -Compress -Depth 2
"""

FIND_VM = r"""param([string]$Name, [string[]]$Ids)
$ErrorActionPreference = 'Stop'
$vms = @(Get-VM | Where-Object { ($Ids -contains $_.Id.Guid) -or ($Name -and $_.Name -eq $Name) } |
    ForEach-Object { [pscustomobject]@{ Id = [string]$_.Id.Guid; Name = [string]$_.Name } })
ConvertTo-Json -InputObject $vms -Compress -Depth 3
"""

VM_STORAGE = r"""param([string]$VmId)
$ErrorActionPreference = 'Stop'
$vm = Get-VM -Id $VmId
$drives = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object {
    $uid = $null
    if ($null -ne $_.DiskNumber) { $uid = [string](Get-Disk -Number $_.DiskNumber).UniqueId }
    [pscustomobject]@{
        ControllerType = [string]$_.ControllerType
        ControllerNumber = [int]$_.ControllerNumber
        ControllerLocation = [int]$_.ControllerLocation
        DiskNumber = $_.DiskNumber
        Path = [string]$_.Path
        UniqueId = $uid
    }
})
$controllers = @(Get-VMScsiController -VM $vm | ForEach-Object { [int]$_.ControllerNumber })
ConvertTo-Json -InputObject ([pscustomobject]@{ ScsiControllers = $controllers; Drives = $drives }) -Compress -Depth 4
"""

# Add-VMHardDiskDrive -DiskNumber wants a disk that is offline on the parent.
ATTACH = r"""param([string]$VmId, [string]$UniqueId, [int]$ControllerNumber, [int]$ControllerLocation)
$ErrorActionPreference = 'Stop'
$vm = Get-VM -Id $VmId
$disks = @(Get-Disk | Where-Object { $_.UniqueId -eq $UniqueId })
if ($disks.Count -ne 1) { throw "expected one disk with UniqueId $UniqueId on the parent, found $($disks.Count)" }
$d = Add-VMHardDiskDrive -VM $vm -ControllerType SCSI -ControllerNumber $ControllerNumber -ControllerLocation $ControllerLocation -DiskNumber $disks[0].Number -Passthru
$out = [pscustomobject]@{
    ControllerType = [string]$d.ControllerType
    ControllerNumber = [int]$d.ControllerNumber
    ControllerLocation = [int]$d.ControllerLocation
    DiskNumber = $d.DiskNumber
    Path = [string]$d.Path
    UniqueId = [string]$disks[0].UniqueId
}
ConvertTo-Json -InputObject $out -Compress -Depth 3
"""

DETACH = r"""param([string]$VmId, [string]$UniqueId)
$ErrorActionPreference = 'Stop'
$vm = Get-VM -Id $VmId
$numbers = @(Get-Disk | Where-Object { $_.UniqueId -eq $UniqueId } | ForEach-Object { $_.Number })
$drives = @(Get-VMHardDiskDrive -VM $vm | Where-Object { $null -ne $_.DiskNumber -and $numbers -contains $_.DiskNumber })
$drives | Remove-VMHardDiskDrive
ConvertTo-Json -InputObject $drives.Count -Compress -Depth 1
"""

FC_HBAS = r"""param([string]$VmId)
$ErrorActionPreference = 'Stop'
$hbas = @(Get-VMFibreChannelHba -VM (Get-VM -Id $VmId) | ForEach-Object {
    [pscustomobject]@{
        SanName = [string]$_.SanName
        SetA = [string]$_.WorldWidePortNameSetA
        SetB = [string]$_.WorldWidePortNameSetB
    }
})
ConvertTo-Json -InputObject $hbas -Compress -Depth 3
"""


@dataclass(frozen=True)
class GuestIdentity:
    """What the guest knows of itself; empty strings when it does not know."""

    vm_name: str
    vm_id: str
    bios_uuid: str


@dataclass(frozen=True)
class VmDrive:
    """One hard disk drive of the VM. Pass-through: disk_number and uid are set; a
    virtual disk file: path is the VHD/VHDX and both are None."""

    controller_type: str
    controller_number: int
    controller_location: int
    disk_number: int | None
    path: str
    uid: str | None


@dataclass(frozen=True)
class VmStorage:
    scsi_controllers: tuple[int, ...]
    drives: tuple[VmDrive, ...]


def read_guest_identity(local: PowerShellRunner) -> GuestIdentity:
    out = local.run(GUEST_IDENTITY, {})
    return GuestIdentity(out["VirtualMachineName"], out["VirtualMachineId"].lower(),
                         out["BiosUuid"].lower())


def bios_uuid_candidates(bios_uuid: str) -> list[str]:
    """The VM id as written, and with its first three fields byte-swapped (generation 1)."""
    if not bios_uuid:
        return []
    written = uuid.UUID(bios_uuid)
    return [str(written), str(uuid.UUID(bytes=written.bytes_le))]


def find_vm(parent: PowerShellRunner, guest: GuestIdentity) -> str:
    """The parent's id for this VM: by VM id first (exact), then by name (must be unique)."""
    ids = [i for i in [guest.vm_id, *bios_uuid_candidates(guest.bios_uuid)] if i]
    vms = parent.run(FIND_VM, {"Name": guest.vm_name, "Ids": ids}) or []
    by_id = {vm["Id"].lower(): vm for vm in vms}
    for candidate in ids:
        if candidate in by_id:
            return candidate
    named = [vm for vm in vms if guest.vm_name and vm["Name"] == guest.vm_name]
    if len(named) == 1:
        return named[0]["Id"].lower()
    if named:
        raise HostError(f"{len(named)} VMs on the Hyper-V host are named {guest.vm_name!r} "
                        "and none has this VM's id")
    raise HostError(f"this VM (name {guest.vm_name!r}, ids {', '.join(ids) or 'unknown'}) "
                    "is not on the Hyper-V host")


def pick_free_slot(storage: VmStorage) -> tuple[int, int]:
    """Lowest free (controller, location) on the VM's SCSI controllers.

    SCSI only: pass-through disks can be added to a running VM there, not on IDE.
    """
    used = {(d.controller_number, d.controller_location) for d in storage.drives
            if d.controller_type.upper() == "SCSI"}
    for controller in sorted(storage.scsi_controllers):
        for location in range(SCSI_LOCATIONS):
            if (controller, location) not in used:
                return controller, location
    raise HostError("the VM has no free SCSI controller location: shut it down and add a "
                    "SCSI controller (manual 5.1)")


def _drive(info: Mapping[str, Any]) -> VmDrive:
    uid = info.get("UniqueId")
    return VmDrive(info["ControllerType"], int(info["ControllerNumber"]),
                   int(info["ControllerLocation"]), info.get("DiskNumber"), info.get("Path") or "",
                   volume_uid(uid) if uid else None)


class HyperVParent:
    """The Hyper-V parent of one VM (`vm_id` from find_vm)."""

    def __init__(self, runner: PowerShellRunner, vm_id: str, clock: Clock | None = None) -> None:
        self.runner = runner
        self.vm_id = vm_id
        # The parent is a Windows machine: its own disks are handled like any Windows host's.
        self.disks = WindowsHost(runner, clock)

    def rescan(self) -> None:
        self.disks.rescan()

    def find_disk(self, uid: str) -> DiskId | None:
        return self.disks.find_disk(uid)

    def take_offline(self, uid: str) -> None:
        if not self.disks.release(uid):
            raise HostError(f"the Hyper-V host has no disk {uid}")

    def vm_storage(self) -> VmStorage:
        out = self.runner.run(VM_STORAGE, {"VmId": self.vm_id})
        return VmStorage(tuple(out["ScsiControllers"]), tuple(_drive(d) for d in out["Drives"]))

    def require_passthrough(self, uid: str) -> VmDrive:
        """The VM's pass-through drive for array disk `uid`; UnsupportedVolume otherwise."""
        storage = self.vm_storage()
        for drive in storage.drives:
            if drive.uid == uid.upper():
                return drive
        files = [d.path for d in storage.drives if d.disk_number is None]
        raise UnsupportedVolume(
            f"disk {uid} is not a pass-through disk of VM {self.vm_id}"
            + (f"; its virtual disk files ({', '.join(files)})" if files else "")
            + ": virtual disks (VHD/VHDX) are not supported, attach the volume as a "
              "pass-through disk (manual 3.3, 5.1)")

    def attach_passthrough(self, uid: str) -> VmDrive:
        """Attach the parent's (offline) disk `uid` to this VM; an attached one is kept."""
        storage = self.vm_storage()
        for drive in storage.drives:
            if drive.uid == uid.upper():
                return drive
        controller, location = pick_free_slot(storage)
        log.info("attach pass-through", vm=self.vm_id, uid=uid, controller=controller,
                 location=location)
        return _drive(self.runner.run(ATTACH, {"VmId": self.vm_id, "UniqueId": uid.upper(),
                                               "ControllerNumber": controller,
                                               "ControllerLocation": location}))

    def detach_passthrough(self, uid: str) -> int:
        """Detach every drive of this VM on disk `uid`; how many (0: nothing to do)."""
        removed = self.runner.run(DETACH, {"VmId": self.vm_id, "UniqueId": uid.upper()})
        log.info("detach pass-through", vm=self.vm_id, uid=uid, removed=removed)
        return int(removed)

    def fc_wwpns(self) -> tuple[str, ...]:
        """The WWPNs of the VM's virtual FC HBAs, sets A and B (empty without NPIV)."""
        wwpns = []
        for hba in self.runner.run(FC_HBAS, {"VmId": self.vm_id}) or []:
            wwpns += [normalize_wwpn(hba[key]) for key in ("SetA", "SetB") if hba[key]]
        return tuple(dict.fromkeys(wwpns))
