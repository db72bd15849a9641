"""The structures of the VSS hardware-provider interface, as plain JSON-friendly records.

Modelled on Microsoft's published types (../shared/reference/vss-provider.md):
VDS_LUN_INFORMATION (LunInfo) with its storage device id descriptor (page 0x83
identifiers, Identifier) and interconnects, the snapshot attribute bits and the contexts
built from them (and the engine's set options they mean), and the HRESULTs a provider
returns (and which one each of the manual's errors becomes). Nothing here talks to the array.
"""
from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass, field

from core.errors import MESSAGES, CodedError, VssError, as_vss_error
from core.ids import array_volume_uid
from core.records import SetOptions


class Attr(enum.IntFlag):
    """_VSS_VOLUME_SNAPSHOT_ATTRIBUTES bit values."""

    PERSISTENT = 0x1
    NO_AUTORECOVERY = 0x2
    CLIENT_ACCESSIBLE = 0x4
    NO_AUTO_RELEASE = 0x8
    NO_WRITERS = 0x10
    TRANSPORTABLE = 0x20
    NOT_SURFACED = 0x40
    NOT_TRANSACTED = 0x80
    HARDWARE_ASSISTED = 0x10000
    DIFFERENTIAL = 0x20000
    PLEX = 0x40000
    IMPORTED = 0x80000
    EXPOSED_LOCALLY = 0x100000
    EXPOSED_REMOTELY = 0x200000
    AUTORECOVER = 0x400000
    ROLLBACK_RECOVERY = 0x800000


# _VSS_SNAPSHOT_CONTEXT: combinations of the attributes above.
CONTEXTS: dict[str, int] = {
    "backup": 0,
    "file_share_backup": Attr.NO_WRITERS,
    "nas_rollback": Attr.PERSISTENT | Attr.NO_AUTO_RELEASE | Attr.NO_WRITERS,
    "app_rollback": Attr.PERSISTENT | Attr.NO_AUTO_RELEASE,
    "client_accessible": Attr.PERSISTENT | Attr.CLIENT_ACCESSIBLE | Attr.NO_AUTO_RELEASE | Attr.NO_WRITERS,
}
ALL_ATTRS = sum(a.value for a in Attr)
# A provider never sees these set by a requestor: they describe what already exists.
RESULT_ONLY = Attr.IMPORTED | Attr.EXPOSED_LOCALLY | Attr.EXPOSED_REMOTELY | Attr.HARDWARE_ASSISTED
MAX_VOLUMES = 64               # VSS's own limit for one snapshot set


def options_of(context: int) -> SetOptions:
    """The engine's set options for a VSS context (attribute bits)."""
    attrs = Attr(context)
    return SetOptions(transportable=bool(attrs & Attr.TRANSPORTABLE),
                      persistent=bool(attrs & (Attr.PERSISTENT | Attr.NO_AUTO_RELEASE)),
                      # a copy-on-write (differential) copy is our rate-0 mapping
                      copy_rate=0 if attrs & Attr.DIFFERENTIAL else None)


def context_problem(context) -> str | None:
    if not isinstance(context, int) or isinstance(context, bool) or context < 0:
        return "the context must be a non-negative integer of attribute bits"
    if context & ~ALL_ATTRS:
        return f"unknown attribute bits 0x{context & ~ALL_ATTRS:X}"
    if context & RESULT_ONLY:
        return f"attributes {Attr(context & RESULT_ONLY)!s} describe existing shadow copies"
    if context & Attr.DIFFERENTIAL and context & Attr.PLEX:
        return "a shadow copy is either differential or plex"
    return None


class HResult(enum.IntEnum):
    S_OK = 0
    VSS_E_BAD_STATE = 0x80042301
    VSS_E_PROVIDER_VETO = 0x80042306
    VSS_E_OBJECT_NOT_FOUND = 0x80042308
    VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER = 0x8004230E
    VSS_E_UNEXPECTED_PROVIDER_ERROR = 0x8004230F
    VSS_E_MAXIMUM_NUMBER_OF_VOLUMES_REACHED = 0x80042312
    VSS_E_MAXIMUM_NUMBER_OF_SNAPSHOTS_REACHED = 0x80042317
    VSS_E_UNSUPPORTED_CONTEXT = 0x8004231B
    VSS_E_INSUFFICIENT_STORAGE = 0x8004231F
    E_INVALIDARG = 0x80070057


class VssFault(Exception):
    """A callback's failure as VSS sees it: an HRESULT, plus the manual's code and a
    one-line detail for our log (VSS itself only gets the HRESULT)."""

    def __init__(self, hr: HResult, detail: str, code: int = 4001):
        self.hr, self.code = hr, code if code in MESSAGES else 4001
        self.detail = " ".join(str(detail).split())
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"{self.hr.name} (0x{self.hr.value:08X}): error {self.code}: {self.detail}"

    def to_json(self) -> dict:
        return {"ok": False, "hresult": self.hr.name, "hr": f"0x{self.hr.value:08X}",
                "code": self.code, "error": str(self)}


def manual_error(exc: BaseException) -> VssError | None:
    """The manual's error an engine or array failure carries (array errors reach the
    provider directly from lookups such as supported()), or None for a bug."""
    return as_vss_error(exc) if isinstance(exc, CodedError) else None


def fault_of(exc: VssError) -> VssFault:
    """The HRESULT VSS gets for one of the manual's errors."""
    hr = {3007: HResult.VSS_E_INSUFFICIENT_STORAGE, 711: HResult.VSS_E_OBJECT_NOT_FOUND,
          201: HResult.VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER}.get(exc.code, HResult.VSS_E_PROVIDER_VETO)
    return VssFault(hr, exc.detail or exc.message, exc.code)


# VDS_STORAGE_BUS_TYPE values this product tells apart: disks on a virtual bus are VHDs
# or hypervisor virtual disks, never one of our LUNs (manual 5.1: virtual disks unsupported).
BUS_TYPES = {"unknown": 0, "scsi": 1, "fibre": 6, "iscsi": 9, "sas": 10, "sata": 11,
             "virtual": 14, "filebackedvirtual": 15}
VIRTUAL_BUSES = {"virtual", "filebackedvirtual"}
# Inquiry strings of hypervisor virtual disks (vRDM/VMFS on ESXi, VHD on Hyper-V).
VIRTUAL_PRODUCTS = (("vmware", "virtual disk"), ("msft", "virtual disk"), ("microsoft", "virtual disk"))

def clean_uid(text: str) -> str | None:
    """A page 0x83 NAA id in our one spelling (32 hex, upper case), or None."""
    return array_volume_uid(re.sub(r"[\s:-]", "", str(text)))     # the shim may group the bytes


@dataclass
class Identifier:
    """One VDS_STORAGE_IDENTIFIER of SCSI inquiry page 0x83."""

    code_set: str = "binary"       # reserved | binary | ascii | utf8 (docs/SERVICE.md, Types)
    type: str = "naa"              # vendor | t10 | eui64 | naa | port_relative | ... | scsi_name
    association: str = "lun"       # lun | port | target
    id: str = ""


@dataclass
class Interconnect:
    """VDS_INTERCONNECT: how the LUN is reached; address and port are hex of their bytes."""

    type: str = "unknown"          # the address type: unknown | fcfs | fcph | fcph3 | mac | scsi
    address: str = ""
    port: str = ""


@dataclass
class LunInfo:
    """VDS_LUN_INFORMATION."""

    vendor: str = ""
    product: str = ""
    revision: str = ""
    serial: str = ""
    bus_type: str = "unknown"
    device_type: int = 0           # SCSI peripheral type: 0 = direct-access disk
    device_type_modifier: int = 0
    command_queueing: bool = False
    disk_signature: str = ""       # a GUID "{...}"; "" = none (GUID_NULL)
    identifiers: list[Identifier] = field(default_factory=list)
    interconnects: list[Interconnect] = field(default_factory=list)

    @classmethod
    def for_uid(cls, uid: str, **kw) -> "LunInfo":
        return cls(identifiers=[Identifier(id=uid)], **kw)

    @property
    def uid(self) -> str | None:
        """The LUN's NAA id: the array volume's UID; None when the LUN has none."""
        for ident in self.identifiers:
            if ident.type == "naa" and ident.association == "lun":
                uid = clean_uid(ident.id)
                if uid:
                    return uid
        return None

    @property
    def virtual(self) -> bool:
        if self.bus_type.lower() in VIRTUAL_BUSES:
            return True
        vp = (self.vendor.strip().lower(), self.product.strip().lower())
        return any(vp[0].startswith(v) and p in vp[1] for v, p in VIRTUAL_PRODUCTS)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "LunInfo":
        """Raises ValueError/TypeError for a malformed object (the caller says 400)."""
        if not isinstance(data, dict):
            raise ValueError("a LUN information must be an object")
        known = {f for f in cls.__dataclass_fields__}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown LUN information field {sorted(extra)[0]!r}")
        data = dict(data)
        for name in ("vendor", "product", "revision", "serial", "bus_type", "disk_signature"):
            if name in data and not isinstance(data[name], str):
                raise ValueError(f"LUN information field {name!r} must be a string")
        for name in ("device_type", "device_type_modifier"):
            if name in data and (not isinstance(data[name], int) or isinstance(data[name], bool)):
                raise ValueError(f"LUN information field {name!r} must be an integer")
        if "command_queueing" in data and not isinstance(data["command_queueing"], bool):
            raise ValueError("LUN information field 'command_queueing' must be true or false")
        data["identifiers"] = [_sub(Identifier, i) for i in _list(data.get("identifiers", []), "identifiers")]
        data["interconnects"] = [_sub(Interconnect, i) for i in _list(data.get("interconnects", []), "interconnects")]
        return cls(**data)


def _list(value, name: str) -> list:
    if not isinstance(value, list):
        raise ValueError(f"LUN information field {name!r} must be a list")
    return value


def _sub(cls, data):
    if not isinstance(data, dict) or set(data) - set(cls.__dataclass_fields__):
        raise ValueError(f"malformed {cls.__name__.lower()} in a LUN information")
    if not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{cls.__name__.lower()} fields must be strings")
    return cls(**data)
