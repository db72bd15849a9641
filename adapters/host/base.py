"""What the host adapters share: their error family, the identifier spellings, and the
two waits of HostStorage (core/ports.py declares the protocol and its value types).

An array volume reaches the host as a disk whose SCSI page 0x83 NAA identifier is the
volume's UID: 32 hex digits such as 60050760008D89C0D000000000000001. Adapters hand UIDs
and WWPNs over in one spelling (core/ids.py: hex upper-case, no prefix, no separators; IQNs
as the OS gives them) so that the orchestrator compares them with the array's without knowing
where they came from.

The rescan parameters of the configuration reach the adapters as arguments, not as
adapter settings: rescanOnceArr/rescanOnceRem become `rescan_once` of the two waits (the
manual does not define them; read here as "one bus rescan, or one before every poll" for
LUNs that a single scan misses), rescanRemMin/rescanRemMax become `min_s`/`max_s` of
`wait_for_removal`.
"""

from __future__ import annotations

from typing import Callable

from core.log import get_logger
from core import ids
from core.errors import INTERNAL, CodedError
from core.poll import DeadlinePassed, Pending, poll_until
from core.ports import Clock, DiskId

log = get_logger(__name__)


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


def normalize_wwpn(text: str) -> str:
    """The port name in core.ids' spelling; HostError when the OS gave something else."""
    value = ids.wwpn(text)
    if value is None:
        raise HostError(f"not a WWPN: {text!r}")
    return value


class PollingWaits:
    """The two waits of HostStorage, mixed into an adapter that has find_disk and rescan
    and sets `clock` and `poll_s` (seconds between polls)."""

    clock: Clock
    poll_s: float
    # provided by the adapter (declared for the type checker only)
    find_disk: Callable[[str], DiskId | None]
    rescan: Callable[[], None]

    def wait_for_disk(self, uid: str, timeout: float, rescan_once: bool) -> DiskId:
        look = self._looks(uid, rescan_once)
        try:
            return poll_until(lambda: look() or Pending(), clock=self.clock, interval=self.poll_s,
                              deadline=timeout, what=uid)
        except DeadlinePassed:
            raise DiskTimeout(f"disk {uid} did not arrive within {timeout:g} s") from None

    def wait_for_removal(self, uid: str, min_s: float, max_s: float, rescan_once: bool) -> bool:
        start = self.clock.monotonic()
        if min_s > 0:
            self.clock.sleep(min_s)
        look = self._looks(uid, rescan_once)
        try:
            return poll_until(lambda: Pending() if look() else True, clock=self.clock, interval=self.poll_s,
                              deadline=max_s - (self.clock.monotonic() - start), what=uid)
        except DeadlinePassed:
            log.warning("disk still present", uid=uid, waited_s=max_s)
            return False

    def _looks(self, uid: str, rescan_once: bool) -> Callable[[], DiskId | None]:
        """find_disk, with a rescan before each look but the first unless `rescan_once`."""
        looks = 0

        def look() -> DiskId | None:
            nonlocal looks
            if looks and not rescan_once:
                self.rescan()
            looks += 1
            return self.find_disk(uid)
        return look
