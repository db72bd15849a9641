"""What the lifecycles ask of the machine they run on, whatever its OS.

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

import time
from dataclasses import dataclass
from typing import Callable, Protocol

import structlog

from core import ids
from core.poll import DeadlinePassed, Pending, poll_until

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Initiators:
    """This machine's ports: FC WWPNs (16 hex digits) and iSCSI initiator names."""

    fc_wwpns: tuple[str, ...] = ()
    iscsi_iqns: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiskId:
    """A disk as the OS knows it and as the array knows it.

    number_or_device: the Windows disk number, or the Linux device path (/dev/sdb,
    /dev/dm-3). naa_uid: the page 0x83 NAA identifier, normalised; None when the disk
    has none. serial: page 0x80, None when the disk reports none.
    """

    number_or_device: int | str
    naa_uid: str | None
    serial: str | None


class HostError(Exception):
    """The host could not do what was asked; the message says what and on which object."""


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


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class HostStorage(Protocol):
    """Disk discovery on the machine the provider runs on."""

    def initiators(self) -> Initiators: ...

    def bios_uuid(self) -> str | None:
        """The machine's SMBIOS uuid (a VM's uuid as its hypervisor knows it); None when
        it cannot be read."""

    def volume_to_disk(self, volume: str) -> DiskId:
        """Windows: `E:`, a mount point folder or `\\\\?\\Volume{…}\\`; Linux: a mount path
        or a block device. Raises VolumeNotFound."""

    def rescan(self) -> None:
        """Ask the OS to look for disks that arrived or went away."""

    def find_disk(self, uid: str) -> DiskId | None: ...

    def wait_for_disk(self, uid: str, timeout: float, rescan_once: bool) -> DiskId:
        """Poll until the disk is there; DiskTimeout after `timeout` seconds."""

    def wait_for_removal(self, uid: str, min_s: float, max_s: float, rescan_once: bool) -> bool:
        """Wait at least `min_s`, then poll until the disk is gone or `max_s` has passed
        since the call. True when it is gone."""

    def bring_online(self, uid: str) -> DiskId:
        """Make an arrived disk usable (Windows brings it online). Raises HostError when
        the disk is not there."""

    def release(self, uid: str) -> bool:
        """Let go of the disk before the array unmaps it (Windows takes it offline, Linux
        deletes its SCSI devices). False when the disk was not there: safe to repeat."""


class FilesystemFreezer(Protocol):
    """Filesystem-consistent point in time where the OS offers it (Linux fsfreeze).

    Windows has no such call for the provider: VSS freezes through its writers.
    """

    def freeze(self, volume: str) -> None: ...

    def thaw(self, volume: str) -> None:
        """Thawing a volume that is not frozen does nothing, so recovery can repeat it."""


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
