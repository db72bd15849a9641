"""Volumes: found by UID, name or id with one indexed query, created in a pool and
returned to it.

Every volume read leaves its path and UID here, so that later calls on it (a mapping,
a host mapping) need no lookup: a volume's path holds its I/O group, which only the
array knows. Nothing but a listing reads every volume.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from pywbem import CIMInstance, CIMInstanceName, Uint16, Uint64

from adapters.cim import errors as E
from adapters.cim.agent import Agent
from adapters.cim.names import (ELEMENT_THIN, ELEMENT_THIN_COMPRESSED, ELEMENT_VOLUME, IOGROUP, POOL, SCS,
                                VOL_PROPS, VOLUME)
from adapters.cim.queries import Queries
from adapters.cim.replies import argument, as_path, output, text, to_volume
from core import ids
from core.errors import ArrayCallError
from core.model import Volume


class Volumes:
    def __init__(self, agent: Agent, queries: Queries):
        self._agent, self._queries = agent, queries
        self.paths: dict[str, CIMInstanceName] = {}
        self.uids: dict[str, str] = {}
        self._pools: dict[str, CIMInstanceName] = {}
        self._iogroups: dict[str, CIMInstanceName] = {}

    def seen(self, inst: CIMInstance) -> Volume:
        """The record of a volume read, its path and UID kept."""
        vol = to_volume(inst)
        self.paths[vol.id], self.uids[vol.id] = inst.path, vol.uid
        return vol

    def all(self) -> list[Volume]:
        return [self.seen(i) for i in self._agent.enum(VOLUME, VOL_PROPS)]

    def where(self, prop: str, values: Iterable[str]) -> list[Volume]:
        """At least the volumes whose prop (Name is the UID, ElementName, or DeviceID) is
        one of values."""
        found = self._queries.where(VOLUME, [prop], values, VOL_PROPS)
        return self.all() if found is None else [self.seen(i) for i in found]

    def by_uid(self, uids: Sequence[str]) -> dict[str, Volume]:
        wanted = {ids.volume_uid(u) or u.strip().upper() for u in uids}
        return {v.uid: v for v in self.where("Name", wanted) if v.uid in wanted}

    def named(self, prefix: str) -> list[Volume]:
        return [v for v in self.all() if v.name.startswith(prefix)]

    def by_name(self, names: Sequence[str]) -> list[Volume]:
        wanted = set(names)
        return [v for v in self.where("ElementName", wanted) if v.name in wanted]

    def by_id(self, volume_ids: Sequence[str]) -> dict[str, Volume]:
        wanted = set(volume_ids)
        return {v.id: v for v in self.where("DeviceID", wanted) if v.id in wanted}

    def matching(self, values: Sequence[str]) -> list[Volume]:
        wanted = set(values)
        found = self._queries.where(VOLUME, ["ElementName", "Name", "DeviceID"], wanted, VOL_PROPS)
        volumes = self.all() if found is None else [self.seen(i) for i in found]
        matching = [v for v in volumes if wanted & {v.name, v.uid, v.id}]
        return sorted(matching, key=lambda v: (len(v.id), v.id))     # ids are numbers: array order

    def learn(self, volume_ids: Sequence[str]) -> None:
        """Paths and UIDs of volumes not seen yet: one query for all of them."""
        unknown = [v for v in volume_ids if v not in self.paths or v not in self.uids]
        self.where("DeviceID", unknown)
        missing = [v for v in volume_ids if v not in self.paths]
        if missing:
            raise ArrayCallError(E.BAD_VOLUME, f"the array has no volume {', '.join(missing)}")

    def path(self, volume_id: str) -> CIMInstanceName:
        self.learn([volume_id])
        return self.paths[volume_id]

    def volume(self, volume_id: str) -> Volume | None:
        path = self.paths.get(volume_id)
        if path is None:
            return next((v for v in self.where("DeviceID", [volume_id]) if v.id == volume_id), None)
        inst = self._agent.get(path)
        if inst is None:
            self._forget(volume_id)
            return None
        return self.seen(inst)

    def _forget(self, volume_id: str) -> None:
        self.paths.pop(volume_id, None)
        self.uids.pop(volume_id, None)

    def _named_path(self, cache: dict[str, CIMInstanceName], classname: str, name: str) -> CIMInstanceName:
        if name not in cache:
            for inst in self._agent.enum(classname, ["ElementName"]):
                cache[text(inst, "ElementName")] = inst.path
        if name not in cache:
            raise ArrayCallError(E.NO_TARGET, f"the array has no {classname.split('_')[-1]} named {name!r}")
        return cache[name]

    def create(self, name: str, size: int, pool: str, iogroup: str | None, *,
               thin: bool, compressed: bool, deduped: bool) -> Volume:
        # SVC compresses and deduplicates thin volumes only: asking for either means thin
        # (sending a plain volume would silently drop the compression)
        thin = thin or compressed or deduped
        kind = ELEMENT_THIN_COMPRESSED if compressed else ELEMENT_THIN if thin else ELEMENT_VOLUME
        what = f"creating volume {name}"
        params = {"ElementName": name, "Size": argument(Uint64, size, "size", E.NO_TARGET, what),
                  "ElementType": Uint16(kind),
                  "InPool": self._named_path(self._pools, POOL, pool), "isSpaceEfficient": thin}
        if deduped:  # a later-firmware parameter: an agent without it refuses any mention
            params["Deduplicated"] = True
        if iogroup:
            params["IOGroup"] = self._named_path(self._iogroups, IOGROUP, iogroup)
        _, out = self._agent.call("CreateOrModifyElementFromStoragePool", SCS, E.NO_TARGET, what=what, **params)
        inst = self._agent.get(as_path(output(out, "TheElement", what), what))
        if inst is None:
            raise ArrayCallError(E.AGENT_BROKEN, f"the new volume {name} cannot be read back")
        return self.seen(inst)

    def delete(self, volume_id: str) -> None:
        self._agent.call("ReturnToStoragePool", SCS, E.INTERNAL, what=f"deleting volume {volume_id}",
                         TheElement=self.path(volume_id))
        self._forget(volume_id)
