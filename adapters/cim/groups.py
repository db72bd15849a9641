"""FlashCopy consistency groups (the agent's FlashCopy synchronized sets): created,
filled, prepared, started together and deleted with ModifySynchronizedSet and friends.
"""
from __future__ import annotations

from typing import Any, Sequence

from pywbem import CIMInstance, CIMInstanceName, Uint16

from adapters.cim import errors as E
from adapters.cim.agent import Agent
from adapters.cim.names import COPYTYPE_FLASHCOPY, FCSET, GROUP_PROPS, OP_PREPARE, OP_RESYNC, SCS, SET_ADD
from adapters.cim.queries import Queries
from adapters.cim.replies import as_path, group_id_of, group_state, output, to_group
from core.errors import ArrayCallError
from core.model import EMPTY_GROUP, Group


class Groups:
    def __init__(self, agent: Agent, queries: Queries):
        self._agent, self._queries = agent, queries
        self._paths: dict[str, CIMInstanceName] = {}

    def _seen(self, inst: CIMInstance) -> Group:
        group = to_group(inst)
        self._paths[group.id] = inst.path
        return group

    def _all(self) -> list[Group]:
        return [self._seen(i) for i in self._agent.enum(FCSET, GROUP_PROPS)]

    def path(self, group_id: str) -> CIMInstanceName:
        """A group's path; one not seen yet is looked for among all (a set is known by
        name or InstanceID only, and the id is the InstanceID's last part)."""
        if group_id not in self._paths:
            self._all()
        if group_id not in self._paths:
            raise ArrayCallError(E.NO_SUCH_GROUP, f"the array has no consistency group {group_id}")
        return self._paths[group_id]

    def group(self, group_id: str) -> Group | None:
        path = self._paths.get(group_id)
        if path is None:
            return next((g for g in self._all() if g.id == group_id), None)
        inst = self._agent.get(path)
        if inst is None:
            self._paths.pop(group_id, None)
            return None
        return self._seen(inst)

    def named(self, prefix: str) -> list[Group]:
        return [g for g in self._all() if g.name.startswith(prefix)]

    def by_name(self, names: Sequence[str]) -> list[Group]:
        wanted = set(names)
        found = self._queries.where(FCSET, ["ElementName"], wanted, GROUP_PROPS)
        groups = self._all() if found is None else [self._seen(i) for i in found]
        return [g for g in groups if g.name in wanted]

    def create(self, name: str) -> Group:
        what = f"creating consistency group {name}"
        _, out = self._agent.call("CreateSynchronizedSet", SCS, E.ATTACH_FAILED, what=what, ElementName=name,
                                  CopyType=Uint16(COPYTYPE_FLASHCOPY))
        path = as_path(output(out, "Set", what), what)
        gid = group_id_of(path)
        self._paths[gid] = path
        return Group(id=gid, name=name, state=EMPTY_GROUP)

    def _modify(self, group_id: str, op: int, code: int, what: str, wait: bool = True, **params: Any) -> None:
        self._agent.call("ModifySynchronizedSet", SCS, code, what=f"{what} consistency group {group_id}",
                         wait=wait, Operation=Uint16(op), SynchronizedSet=self.path(group_id), **params)

    def add(self, group_id: str, map_id: str, map_path: CIMInstanceName) -> None:
        """map_path: the mapping's (FcMaps.path), looked up before the group's."""
        self._modify(group_id, SET_ADD, E.ATTACH_FAILED, f"adding mapping {map_id} to", Synchronization=map_path)

    def prepare(self, group_id: str) -> None:
        self._modify(group_id, OP_PREPARE, E.WITHDRAW_FAILED, "preparing", wait=False)
        self._agent.until_prepared(self._paths[group_id], group_state, f"preparing consistency group {group_id}",
                                   E.WITHDRAW_FAILED)

    def start(self, group_id: str) -> None:
        self._modify(group_id, OP_RESYNC, E.WITHDRAW_FAILED, "starting")

    def delete(self, group_id: str, *, force: bool = False) -> None:
        self._agent.call("DeleteSynchronizedSet", SCS, E.WITHDRAW_FAILED,
                         what=f"deleting consistency group {group_id}", Set=self.path(group_id), Force=force)
        self._paths.pop(group_id, None)
