"""The array over SMI-S (CIM-XML) with pywbem: core.ports.ArrayPort for the
SVC-family CIM agent (IBMTSSVC_* classes), one method per array operation.

A thin composition, one module per array concept (like libstoragemgmt's SMI-S plugin):
adapters/cim/volumes.py, masking.py (hosts and host mappings), fcmaps.py (FlashCopy
mappings), groups.py (consistency groups), over agent.py (reads, method calls, jobs, the
cluster), queries.py (indexed lookups), replies.py (checked reply readers, instance ->
record) and names.py (the agent's classes and numbers). No business rules here, only
the CIM calls with typed parameters and failures turned into ArrayCallError with the
manual's codes (adapters/cim/errors.py).

`requests` counts every HTTP request sent to the agent (retries included). Paths of
objects already seen are kept so that later calls need no lookup, and a hot path such
as starting a group is then exactly one request. Nothing but a listing reads every
volume, host, mapping or group.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import pywbem

from adapters.cim.agent import Agent
from adapters.cim.connection import Transport, open_connection
from adapters.cim.fcmaps import FcMaps
from adapters.cim.groups import Groups
from adapters.cim.masking import Hosts
from adapters.cim.queries import Queries
from adapters.cim.volumes import Volumes
from core.model import FcMap, Group, Host, Identity, Volume


class CimArray:
    def __init__(self, conn: pywbem.WBEMConnection, *, target_mcs: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 poll_s: float = 0.1, job_timeout_s: float = 600.0):
        self._wire = Transport(conn, sleep=sleep)
        self._agent = Agent(self._wire, target_mcs=target_mcs or None, sleep=sleep, clock=clock, poll_s=poll_s,
                            job_timeout_s=job_timeout_s)
        queries = Queries(self._agent)
        self._volumes = Volumes(self._agent, queries)
        self._hosts = Hosts(self._agent, queries, self._volumes)
        self._groups = Groups(self._agent, queries)
        self._fcmaps = FcMaps(self._agent, queries, self._volumes, self._groups)

    @classmethod
    def connect(cls, host: str, port: int, *, ssl: bool, ca_file: str | None, username: str,
                password: str, namespace: str, timeout_ms: int = 0, target_mcs: str | None = None,
                verify: bool = True, **options: Any) -> CimArray:
        """Nothing is sent until the first operation; options go to __init__ (sleep, clock...)."""
        conn = open_connection(host, port, ssl=ssl, ca_file=ca_file, username=username, password=password,
                               namespace=namespace, timeout_ms=timeout_ms, verify=verify)
        return cls(conn, target_mcs=target_mcs, **options)

    @classmethod
    def from_config(cls, cfg: Any, **options: Any) -> CimArray:
        """From an orchestrator Config (read by attribute: adapters do not import it)."""
        return cls.connect(cfg.cimom_host, cfg.cimom_port, ssl=cfg.using_ssl,
                           ca_file=str(cfg.ca_file) if cfg.ca_file else None, username=cfg.username,
                           password=cfg.password, namespace=cfg.namespace, timeout_ms=cfg.cimom_timeout,
                           target_mcs=cfg.target_mcs or None, **options)

    @property
    def requests(self) -> int:
        return self._wire.requests

    @property
    def url(self) -> str:
        return self._wire.url

    def __repr__(self) -> str:
        return f"CimArray({self._wire.url})"

    # ------------------------------------------------------------ the array itself
    def identity(self) -> Identity:
        return self._agent.identity()

    # ------------------------------------------------------------ volumes
    def volumes_by_uid(self, uids: Sequence[str]) -> dict[str, Volume]:
        return self._volumes.by_uid(uids)

    def volume(self, volume_id: str) -> Volume | None:
        return self._volumes.volume(volume_id)

    def volumes_by_id(self, volume_ids: Sequence[str]) -> dict[str, Volume]:
        return self._volumes.by_id(volume_ids)

    def volumes_matching(self, values: Sequence[str]) -> list[Volume]:
        return self._volumes.matching(values)

    def volumes_named(self, prefix: str) -> list[Volume]:
        return self._volumes.named(prefix)

    def volumes_by_name(self, names: Sequence[str]) -> list[Volume]:
        return self._volumes.by_name(names)

    def create_volume(self, name: str, size: int, pool: str, iogroup: str | None, *,
                      thin: bool, compressed: bool, deduped: bool) -> Volume:
        return self._volumes.create(name, size, pool, iogroup, thin=thin, compressed=compressed, deduped=deduped)

    def delete_volume(self, volume_id: str) -> None:
        self._volumes.delete(volume_id)

    # ------------------------------------------------------------ hosts and masking
    def hosts(self) -> list[Host]:
        return self._hosts.all()

    def hosts_named(self, names: Sequence[str]) -> list[Host]:
        return self._hosts.named(names)

    def host_named(self, name: str) -> Host | None:
        return next(iter(self._hosts.named([name])), None)

    def host_with_initiator(self, initiator: str) -> Host | None:
        return self._hosts.with_initiator(initiator)

    def host_volumes(self, host_id: str) -> list[Volume]:
        return self._hosts.host_volumes(host_id)

    def volume_hosts(self, volume_id: str) -> list[Host]:
        return self._hosts.volume_hosts(volume_id)

    def volume_host_ids(self, volume_ids: Sequence[str]) -> dict[str, list[str]]:
        return self._hosts.volume_host_ids(volume_ids)

    def mapped_hosts(self) -> dict[str, list[Host]]:
        return self._hosts.mapped_hosts()

    def map_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        self._hosts.map_volumes(host_id, volume_ids)

    def unmap_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        self._hosts.unmap_volumes(host_id, volume_ids)

    # ------------------------------------------------------------ localcopy (FlashCopy)
    def fcmap(self, map_id: str) -> FcMap | None:
        return self._fcmaps.fcmap(map_id)

    def fcmaps_of_volume(self, volume_id: str) -> list[FcMap]:
        return self._fcmaps.of_volume(volume_id)

    def fcmaps_of_volumes(self, volume_ids: Sequence[str]) -> list[FcMap]:
        return self._fcmaps.of_volumes(volume_ids)

    def fcmaps_named(self, prefix: str) -> list[FcMap]:
        return self._fcmaps.named(prefix)

    def fcmaps_by_name(self, names: Sequence[str]) -> list[FcMap]:
        return self._fcmaps.by_name(names)

    def dependent_fcmaps(self, map_id: str) -> list[str]:
        return self._fcmaps.dependents(map_id)

    def attach(self, pairs: Sequence[tuple[str, str, str]], *, copy_rate: int, incremental: bool,
               group_id: str | None) -> list[FcMap]:
        return self._fcmaps.attach(pairs, copy_rate=copy_rate, incremental=incremental, group_id=group_id)

    def prepare_fcmap(self, map_id: str, *, restore: bool = False) -> None:
        self._fcmaps.prepare(map_id, restore=restore)

    def start_fcmap(self, map_id: str, *, restore: bool = False) -> None:
        self._fcmaps.start(map_id, restore=restore)

    def stop_fcmap(self, map_id: str, *, stop_dependent: int | None = None, force: bool = False,
                   split: bool = False) -> None:
        self._fcmaps.stop(map_id, stop_dependent=stop_dependent, force=force, split=split)

    def delete_fcmap(self, map_id: str, *, force: bool = False, stop_dependent: int | None = None) -> None:
        self._fcmaps.delete(map_id, force=force, stop_dependent=stop_dependent)

    # ------------------------------------------------------------ consistency groups
    def group(self, group_id: str) -> Group | None:
        return self._groups.group(group_id)

    def groups_named(self, prefix: str) -> list[Group]:
        return self._groups.named(prefix)

    def groups_by_name(self, names: Sequence[str]) -> list[Group]:
        return self._groups.by_name(names)

    def create_group(self, name: str) -> Group:
        return self._groups.create(name)

    def add_to_group(self, group_id: str, map_id: str) -> None:
        self._groups.add(group_id, map_id, self._fcmaps.path(map_id))

    def prepare_group(self, group_id: str) -> None:
        self._groups.prepare(group_id)

    def start_group(self, group_id: str) -> None:
        self._groups.start(group_id)

    def delete_group(self, group_id: str, *, force: bool = False) -> None:
        self._groups.delete(group_id, force=force)
