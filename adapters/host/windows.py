"""Windows disk discovery through the Storage module's cmdlets (MSFT_* CIM classes).

Works on this machine (LocalRunner) and on a remote one, such as the Hyper-V parent
(PsrpRunner): nothing here imports a Windows-only module.

Enumerated CIM properties (UniqueIdFormat, ConnectionType) are read from
CimInstanceProperties, the raw numbers: the Storage module's formatting may show some
of them as words, which would make the JSON depend on the module version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.log import get_logger
from adapters.host.base import HostError, PollingWaits, VolumeNotFound, normalize_wwpn
from core.ports import Clock, DiskId, Initiators, SystemClock
from adapters.host.powershell import PowerShellRunner
from core.ids import volume_uid

log = get_logger(__name__)

# MSFT_InitiatorPort.ConnectionType
FIBRE_CHANNEL, ISCSI = 1, 2
# MSFT_Disk.UniqueIdFormat 3 = "FCPH Name": UniqueId is the page 0x83 NAA identifier.
FCPH_NAME = 3

# One disk as JSON; shared by the scripts below (constant text, no values).
_DISK_INFO = r"""
function DiskInfo($d) {
    [pscustomobject]@{
        Number = [int]$d.Number
        UniqueId = [string]$d.UniqueId
        UniqueIdFormat = [int]$d.CimInstanceProperties['UniqueIdFormat'].Value
        SerialNumber = [string]$d.SerialNumber
        IsOffline = [bool]$d.IsOffline
    }
}
"""

INITIATORS = r"""param()
$ErrorActionPreference = 'Stop'
$ports = @(Get-InitiatorPort | ForEach-Object {
    [pscustomobject]@{
        NodeAddress = [string]$_.NodeAddress
        PortAddress = [string]$_.PortAddress
        ConnectionType = [int]$_.CimInstanceProperties['ConnectionType'].Value
    }
})
ConvertTo-Json -InputObject $ports -Compress -Depth 3
"""

# The SMBIOS uuid: a VMware VM's BIOS uuid (vSphere FindByUuid).
BIOS_UUID = r"""param()
$ErrorActionPreference = 'Stop'
ConvertTo-Json -InputObject ([string](Get-CimInstance -ClassName Win32_ComputerSystemProduct).UUID) -Compress -Depth 1
"""

VOLUME_TO_DISK = r"""param([string]$AccessPath)
$ErrorActionPreference = 'Stop'
""" + _DISK_INFO + r"""
$part = @(Get-Partition | Where-Object { $_.AccessPaths -contains $AccessPath }) | Select-Object -First 1
$out = $null
if ($part) { $out = DiskInfo (Get-Disk -Number $part.DiskNumber) }
ConvertTo-Json -InputObject $out -Compress -Depth 3
"""

FIND_DISK = r"""param([string]$UniqueId)
$ErrorActionPreference = 'Stop'
""" + _DISK_INFO + r"""
$disks = @(Get-Disk | Where-Object { $_.UniqueId -eq $UniqueId } | ForEach-Object { DiskInfo $_ })
ConvertTo-Json -InputObject $disks -Compress -Depth 3
"""

RESCAN = r"""param()
$ErrorActionPreference = 'Stop'
Update-HostStorageCache
ConvertTo-Json -InputObject $true -Compress -Depth 1
"""

# Acts only when exactly one disk carries the id; the caller reports the other cases.
SET_OFFLINE = r"""param([string]$UniqueId, [bool]$Offline)
$ErrorActionPreference = 'Stop'
""" + _DISK_INFO + r"""
$disks = @(Get-Disk | Where-Object { $_.UniqueId -eq $UniqueId })
if ($disks.Count -eq 1 -and $disks[0].IsOffline -ne $Offline) {
    Set-Disk -Number $disks[0].Number -IsOffline $Offline
    $disks = @(Get-Disk -Number $disks[0].Number)
}
ConvertTo-Json -InputObject @($disks | ForEach-Object { DiskInfo $_ }) -Compress -Depth 3
"""

_DRIVE_ONLY = re.compile(r"[A-Za-z]:\\?")


def access_path(volume: str) -> str:
    """`e:` / `E:\\` / `C:\\mnt\\data` / `\\\\?\\Volume{…}` -> the form in MSFT_Partition.AccessPaths."""
    value = volume.strip()
    if _DRIVE_ONLY.fullmatch(value):
        return value[0].upper() + ":\\"
    return value if value.endswith("\\") else value + "\\"


def disk_id(info: Mapping[str, Any]) -> DiskId:
    naa = volume_uid(info["UniqueId"]) if info.get("UniqueIdFormat") == FCPH_NAME else None
    serial = (info.get("SerialNumber") or "").strip() or None
    return DiskId(int(info["Number"]), naa, serial)


class WindowsHost(PollingWaits):
    def __init__(self, runner: PowerShellRunner, clock: Clock | None = None,
                 poll_s: float = 2.0) -> None:
        self.runner = runner
        self.clock = clock or SystemClock()
        self.poll_s = poll_s

    def initiators(self) -> Initiators:
        ports = self.runner.run(INITIATORS, {}) or []
        fc = [normalize_wwpn(p["PortAddress"]) for p in ports if p["ConnectionType"] == FIBRE_CHANNEL]
        iqn = [p["NodeAddress"] for p in ports if p["ConnectionType"] == ISCSI]
        return Initiators(tuple(dict.fromkeys(fc)), tuple(dict.fromkeys(iqn)))

    def bios_uuid(self) -> str | None:
        return self.runner.run(BIOS_UUID, {}) or None

    def volume_to_disk(self, volume: str) -> DiskId:
        info = self.runner.run(VOLUME_TO_DISK, {"AccessPath": access_path(volume)})
        if info is None:
            raise VolumeNotFound(f"no partition has the access path {access_path(volume)}")
        return disk_id(info)

    def rescan(self) -> None:
        self.runner.run(RESCAN, {})

    def find_disk(self, uid: str) -> DiskId | None:
        disks = self._one_or_none(uid, self.runner.run(FIND_DISK, {"UniqueId": uid.upper()}))
        return disk_id(disks) if disks else None

    def bring_online(self, uid: str) -> DiskId:
        info = self._set_offline(uid, False)
        if info is None:
            raise HostError(f"no disk has the UniqueId {uid}")
        if info["IsOffline"]:
            raise HostError(f"disk {info['Number']} ({uid}) stayed offline")
        return disk_id(info)

    def release(self, uid: str) -> bool:
        return self._set_offline(uid, True) is not None

    def _set_offline(self, uid: str, offline: bool) -> Mapping[str, Any] | None:
        log.info("set disk offline" if offline else "set disk online", uid=uid)
        return self._one_or_none(uid, self.runner.run(SET_OFFLINE, {"UniqueId": uid.upper(),
                                                                    "Offline": offline}))

    @staticmethod
    def _one_or_none(uid: str, disks: list[Mapping[str, Any]] | None) -> Mapping[str, Any] | None:
        disks = disks or []
        if len(disks) > 1:
            # Without MPIO each path shows as its own disk (manual 2.1: install multipath first).
            numbers = ", ".join(str(d["Number"]) for d in disks)
            raise HostError(f"disks {numbers} all carry the UniqueId {uid}: "
                            "multipath (MPIO) is not claiming them")
        return disks[0] if disks else None
