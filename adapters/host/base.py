"""What the host adapters share: their error family, the identifier spellings, and the
two waits of HostStorage (core/ports.py declares the protocol and its value types).
"""

from __future__ import annotations

import re
from typing import Callable

import structlog

from core.errors import INTERNAL, CodedError
from core.ports import Clock, DiskId

log = structlog.get_logger(__name__)


class HostError(CodedError):
    """The host could not do what was asked; the message says what and on which object.
    Reported as 4001 unless the caller names the step (orchestrator/consumers.py: 3008)."""

    code = INTERNAL


class VolumeNotFound(HostError):
    """No volume at that drive letter, mount point or device."""


class DiskTimeout(HostError):
    """A disk did not arrive within the time allowed."""


class UnsupportedVolume(HostError):
    """The volume is not on an array disk the provider can copy (manual 5.1 不支持的卷).

    For instance a virtual disk file (VHD/VHDX) instead of a pass-through disk.
    """


_HEX = re.compile(r"[0-9A-F]+")


def normalize_naa(text: str) -> str | None:
    """NAA id in any spelling the OS tools use (naa.6005…, 0x6005…, 6005…) -> 6005…."""
    value = text.strip().upper()
    for prefix in ("NAA.", "0X"):
        value = value.removeprefix(prefix)
    return value if value and _HEX.fullmatch(value) else None


def normalize_wwpn(text: str) -> str:
    """0x10000090fa1b2c3d, 10:00:00:90:fa:1b:2c:3d, 10000090FA1B2C3D -> 10000090FA1B2C3D."""
    value = text.strip().upper().removeprefix("0X").replace(":", "")
    if not _HEX.fullmatch(value) or len(value) > 16:
        raise HostError(f"not a WWPN: {text!r}")
    return value.zfill(16)


class PollingWaits:
    """The two waits of HostStorage, mixed into an adapter that has find_disk and rescan
    and sets `clock` and `poll_s` (seconds between polls)."""

    clock: Clock
    poll_s: float
    # provided by the adapter (declared for the type checker only)
    find_disk: Callable[[str], DiskId | None]
    rescan: Callable[[], None]

    def wait_for_disk(self, uid: str, timeout: float, rescan_once: bool) -> DiskId:
        deadline = self.clock.monotonic() + timeout
        while True:
            disk = self.find_disk(uid)
            if disk is not None:
                return disk
            left = deadline - self.clock.monotonic()
            if left <= 0:
                raise DiskTimeout(f"disk {uid} did not arrive within {timeout:g} s")
            self.clock.sleep(min(self.poll_s, left))
            if not rescan_once:
                self.rescan()

    def wait_for_removal(self, uid: str, min_s: float, max_s: float, rescan_once: bool) -> bool:
        deadline = self.clock.monotonic() + max_s
        if min_s > 0:
            self.clock.sleep(min_s)
        while True:
            if self.find_disk(uid) is None:
                return True
            left = deadline - self.clock.monotonic()
            if left <= 0:
                log.warning("disk still present", uid=uid, waited_s=max_s)
                return False
            self.clock.sleep(min(self.poll_s, left))
            if not rescan_once:
                self.rescan()
