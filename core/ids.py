"""The one spelling of each identifier the array, the OS tools and the user write in
their own ways; values compare equal only after going through here."""
from __future__ import annotations

import re

_HEX = re.compile(r"[0-9A-F]+")


def volume_uid(text: str) -> str | None:
    """A volume's UID (its SCSI page 0x83 NAA id): naa.6005…, 0x6005…, 6005… in any case
    -> 6005… upper-case hex; None when it is not hex (t10., eui., separators, empty)."""
    value = text.strip().upper()
    for prefix in ("NAA.", "0X"):
        value = value.removeprefix(prefix)
    return value if _HEX.fullmatch(value) else None


def array_volume_uid(text: str) -> str | None:
    """volume_uid, when it has the 32 hex digits of the UIDs the array gives its volumes
    (an NAA 6 registered extended id); None otherwise."""
    value = volume_uid(text)
    return value if value is not None and len(value) == 32 else None


def wwpn(text: str) -> str | None:
    """An FC port name: 0x10000090fa1b2c3d, 10:00:00:90:fa:1b:2c:3d, 10000090FA1B2C3D ->
    10000090FA1B2C3D (16 hex digits, zero-filled); None when it is not one."""
    value = text.strip().upper().removeprefix("0X").replace(":", "")
    return value.zfill(16) if _HEX.fullmatch(value) and len(value) <= 16 else None


def iqn(text: str) -> str:
    """An iSCSI name (iqn.… or eui.…): case does not count (RFC 3720), lower-case here."""
    return text.strip().lower()


def initiator(text: str) -> str:
    """A host port as either kind: a WWPN's spelling when it is one, else an iSCSI name's."""
    return wwpn(text) or iqn(text)
