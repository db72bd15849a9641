"""The ports: what the lifecycles ask of the array (ArrayPort) and of the place targets
are shown (Consumer), and what the host adapters offer (HostStorage, FilesystemFreezer),
with the value types and the clock they share. Adapters implement them
(adapters/cim/array.py CimArray, adapters/host/, orchestrator/consumers.py).

An array volume reaches the host as a disk whose SCSI page 0x83 NAA identifier is the
volume's UID: 32 hex digits such as 60050760008D89C0D000000000000001. Adapters hand UIDs
and WWPNs over in one spelling (hex upper-case, no prefix, no separators; IQNs as the OS
gives them) so that the orchestrator compares them with the array's without knowing
where they came from.

The rescan parameters of the configuration reach the host adapters as arguments, not as
adapter settings: rescanOnceArr/rescanOnceRem become `rescan_once` of the two waits (the
manual does not define them; read here as "one bus rescan, or one before every poll" for
LUNs that a single scan misses), rescanRemMin/rescanRemMax become `min_s`/`max_s` of
`wait_for_removal`.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.model import FcMap, Group, Host, Identity, Volume


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


class Clock(Protocol):
    """What every wait runs on (core/poll.py): the system's, or a test's fake clock."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float, /) -> None: ...


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


class Consumer(Protocol):
    """Where the lifecycles show targets: this host, its ESXi VM or its Hyper-V VM
    (orchestrator/consumers.py)."""

    def initiators(self) -> Initiators: ...
    def after_map(self, uids: Sequence[str]) -> dict[str, str]: ...
    def before_unmap(self, uids: Sequence[str]) -> None: ...
    def after_unmap(self, uids: Sequence[str]) -> None: ...


class ArrayPort(Protocol):
    @property
    def requests(self) -> int:
        """Every request sent to the array, for tests and benchmarks (read only)."""

    # --- the array itself
    def identity(self) -> Identity: ...

    # --- volumes
    def volumes_by_uid(self, uids: Sequence[str]) -> dict[str, Volume]:
        """Volumes with those UIDs (missing ones absent); one request whatever the count."""
    def volume(self, volume_id: str) -> Volume | None: ...
    def volumes_by_id(self, volume_ids: Sequence[str]) -> dict[str, Volume]:
        """Volumes with those ids (missing ones absent); one request whatever the count."""
    def volumes_matching(self, values: Sequence[str]) -> list[Volume]:
        """Volumes whose name, UID or id is one of values, in the array's order; one
        request whatever the array's size (an agent without queries: every volume read)."""
    def volumes_named(self, prefix: str) -> list[Volume]:
        """Volumes whose name starts with prefix: reads every volume (listings only)."""
    def volumes_by_name(self, names: Sequence[str]) -> list[Volume]:
        """Volumes with exactly those names; one request, whatever the array's size."""
    def create_volume(self, name: str, size: int, pool: str, iogroup: str | None, *,
                      thin: bool, compressed: bool, deduped: bool) -> Volume: ...
    def delete_volume(self, volume_id: str) -> None: ...

    # --- hosts and masking
    def hosts(self) -> list[Host]:
        """Every host with its ports; one request (listings only)."""
    def hosts_named(self, names: Sequence[str]) -> list[Host]:
        """The hosts with those names; one request whatever the array's size."""
    def host_named(self, name: str) -> Host | None: ...
    def host_with_initiator(self, initiator: str) -> Host | None:
        """The host owning that WWPN or IQN, or None."""
    def host_volumes(self, host_id: str) -> list[Volume]:
        """Volumes mapped to the host (the free pool is the free host's volumes)."""
    def volume_hosts(self, volume_id: str) -> list[Host]: ...
    def volume_host_ids(self, volume_ids: Sequence[str]) -> dict[str, list[str]]:
        """The ids of the hosts each volume is mapped to; one request whatever the
        array's size."""
    def mapped_hosts(self) -> dict[str, list[Host]]:
        """Every mapped volume's id with its hosts (id and name), for listings: a fixed
        number of requests (every host view and mapping read at once)."""
    def map_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        """One ExposePaths call; volumes already mapped to that host are fine."""
    def unmap_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        """One HidePaths call; volumes not mapped to that host are fine."""

    # --- localcopy (FlashCopy)
    def fcmap(self, map_id: str) -> FcMap | None: ...
    def fcmaps_of_volume(self, volume_id: str) -> list[FcMap]:
        """Mappings where the volume is source or target."""
    def fcmaps_of_volumes(self, volume_ids: Sequence[str]) -> list[FcMap]:
        """Mappings where any of the volumes is source or target; one request."""
    def fcmaps_named(self, prefix: str) -> list[FcMap]:
        """Mappings whose name starts with prefix: reads every mapping (listings only)."""
    def fcmaps_by_name(self, names: Sequence[str]) -> list[FcMap]:
        """Mappings with exactly those names; one request, whatever the array holds."""
    def dependent_fcmaps(self, map_id: str) -> list[str]:
        """Ids of the mappings whose targets read through this one's target."""
    def attach(self, pairs: Sequence[tuple[str, str, str]], *, copy_rate: int,
               incremental: bool, group_id: str | None) -> list[FcMap]:
        """One AttachReplicas for (source_id, target_id, name) pairs, all or nothing (the
        array answers per pair: pairs it made are deleted again when others are refused);
        raises AttachRefused naming the refused pairs."""
    def prepare_fcmap(self, map_id: str, *, restore: bool = False) -> None:
        """Prepare and wait until the array reports the mapping prepared (its SyncState)."""
    def start_fcmap(self, map_id: str, *, restore: bool = False) -> None:
        """Start a prepared mapping (the array refuses an idle or stopped one)."""
    def stop_fcmap(self, map_id: str, *, stop_dependent: int | None = None,
                   force: bool = False, split: bool = False) -> None: ...
    def delete_fcmap(self, map_id: str, *, force: bool = False,
                     stop_dependent: int | None = None) -> None: ...

    # --- consistency groups
    def group(self, group_id: str) -> Group | None: ...
    def groups_named(self, prefix: str) -> list[Group]:
        """Consistency groups whose name starts with prefix: reads every group (orphan
        listings only)."""
    def groups_by_name(self, names: Sequence[str]) -> list[Group]:
        """Consistency groups with exactly those names; one request."""
    def create_group(self, name: str) -> Group: ...
    def add_to_group(self, group_id: str, map_id: str) -> None:
        """An existing (incremental) mapping joins the group so it starts with the others."""
    def prepare_group(self, group_id: str) -> None:
        """PrepareAll and wait until the array reports the group prepared (its Status)."""
    def start_group(self, group_id: str) -> None:
        """One request: every member starts at the same instant."""
    def delete_group(self, group_id: str, *, force: bool = False) -> None:
        """Deletes the group; its mappings stay (they leave the group)."""
