"""What the lifecycles need from the array: one method per array operation.

`adapters.cim.array.CimArray` implements it over pywbem; the records and errors are in
`adapters.cim.model`.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from adapters.cim.model import FcMap, Group, Host, Identity, Volume


class ArrayPort(Protocol):
    requests: int   # every request sent to the array, for tests and benchmarks

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
