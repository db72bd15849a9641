"""LUN descriptions: which array volume a LUN VSS names is, and how our target LUNs are
described to VSS (FillInLunInfo, GetTargetLuns) so that it finds them again."""
from __future__ import annotations

from typing import Sequence

from orchestrator.vss_types import HResult, Identifier, LunInfo, VssFault

# What an SVC-family LUN answers to INQUIRY; FillInLunInfo/GetTargetLuns report it.
VENDOR, PRODUCT, REVISION = "IBM", "2145", "0000"


class LunChange:
    """OnLunStateChange flags (_VSS_HARDWARE_OPTIONS)."""

    NOTIFY_READ_WRITE = 0x100
    NOTIFY_LUN_PRE_RECOVERY = 0x200
    NOTIFY_LUN_POST_RECOVERY = 0x400
    DO_MASK_LUNS = 0x800
    ALL = 0xF00


def volume_uids(luns: Sequence[LunInfo], call: str) -> list[str]:
    """The array volume UID of each LUN; a virtual disk or a LUN without a page 0x83 NAA
    identifier is none of ours (201)."""
    out = []
    for lun in luns:
        if lun.virtual:
            raise VssFault(HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER,
                           f"{call}: {lun.vendor} {lun.product} is a virtual disk", 201)
        if lun.uid is None:
            raise VssFault(HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER,
                           f"{call}: a LUN without a page 0x83 NAA identifier", 201)
        out.append(lun.uid)
    return out


def describe(uid: str, base: LunInfo | None = None) -> LunInfo:
    """Volume `uid` as VSS should see it: what `base` (the disk's own information) says,
    completed with our INQUIRY strings and the volume's NAA id first."""
    lun = base or LunInfo()
    ids = [i for i in lun.identifiers if not (i.type == "naa" and i.association == "lun")]
    return LunInfo(vendor=lun.vendor or VENDOR, product=lun.product or PRODUCT,
                   revision=lun.revision or REVISION, serial=lun.serial or uid,
                   bus_type=lun.bus_type, device_type=lun.device_type,
                   device_type_modifier=lun.device_type_modifier, command_queueing=lun.command_queueing,
                   disk_signature=lun.disk_signature,
                   identifiers=[Identifier(id=uid), *ids], interconnects=lun.interconnects)
