"""FlashCopy mappings (the agent's local storage synchronizations): found by id, name or
volume, made by AttachReplicas (all or nothing), prepared, started, stopped and deleted
with ModifySynchronization.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from pywbem import CIMInstance, CIMInstanceName, Uint16

from adapters.cim import errors as E
from adapters.cim.agent import Agent
from adapters.cim.groups import Groups
from adapters.cim.names import (COPYTYPE_FLASHCOPY, FAIL_IF_NOT_OLDEST, FCMAP, JOB_STARTED, OP_DETACH,
                                OP_PREPARE, OP_QUIESCE, OP_RESYNC, RESTORE_STOPS, SCS)
from adapters.cim.queries import Queries
from adapters.cim.replies import argument, instances, output, sync_state, text, to_fcmap
from adapters.cim.volumes import Volumes
from core.errors import ArrayCallError, AttachRefused
from core.model import STOP_OLDER, FcMap

# the record's attribute each queried property fills
_ATTRS = {"SystemElementID": "source_id", "SyncedElementID": "target_id", "ElementName": "name", "Name": "id"}


class FcMaps:
    def __init__(self, agent: Agent, queries: Queries, volumes: Volumes, groups: Groups):
        self._agent, self._queries, self._volumes, self._groups = agent, queries, volumes, groups
        self._paths: dict[str, CIMInstanceName] = {}

    # ------------------------------------------------------------ reads
    def _seen(self, inst: CIMInstance) -> FcMap:
        m = to_fcmap(inst)
        self._paths[m.id] = inst.path
        return m

    def _all(self) -> list[FcMap]:
        return [self._seen(i) for i in self._agent.enum(FCMAP)]

    def _where(self, props: Sequence[str], values: Iterable[str]) -> list[FcMap]:
        """Mappings with one of props equal to one of values (exactly: queries ignore case),
        in id order."""
        wanted = set(values)
        if not wanted:
            return []
        found = self._queries.where(FCMAP, props, wanted)
        maps = self._all() if found is None else [self._seen(i) for i in found]
        unique = {m.id: m for m in maps if any(getattr(m, _ATTRS[p]) in wanted for p in props)}
        return sorted(unique.values(), key=lambda m: (len(m.id), m.id))

    def fcmap(self, map_id: str) -> FcMap | None:
        path = self._paths.get(map_id)
        if path is None:
            return next(iter(self._where(["Name"], [map_id])), None)
        inst = self._agent.get(path)
        if inst is not None and text(inst, "Name") == map_id:
            return self._seen(inst)
        self._paths.pop(map_id, None)
        if inst is None:
            return None
        # the same two volumes now hold another mapping: this one may still be elsewhere
        return next(iter(self._where(["Name"], [map_id])), None)

    def of_volume(self, volume_id: str) -> list[FcMap]:
        insts = self._agent.read("References", self._volumes.path(volume_id), ResultClass=FCMAP)
        return [self._seen(i) for i in instances(insts, f"mappings of volume {volume_id}")]

    def of_volumes(self, volume_ids: Sequence[str]) -> list[FcMap]:
        return self._where(["SystemElementID", "SyncedElementID"], volume_ids)

    def named(self, prefix: str) -> list[FcMap]:
        return [m for m in self._all() if m.name.startswith(prefix)]

    def by_name(self, names: Sequence[str]) -> list[FcMap]:
        return self._where(["ElementName"], names)

    def path(self, map_id: str) -> CIMInstanceName:
        if map_id not in self._paths and self.fcmap(map_id) is None:
            raise ArrayCallError(E.NO_SUCH_SYNC, f"the array has no localcopy mapping {map_id}")
        return self._paths[map_id]

    def dependents(self, map_id: str) -> list[str]:
        """The agent names the dependents; their ids are read by those names."""
        what = f"dependents of mapping {map_id}"
        _, out = self._agent.call("GetDependentMappingNames", SCS, E.NO_SUCH_SYNC, what=what,
                                  Mapping=self.path(map_id))
        names = out.get("Dependentnames") if hasattr(out, "get") else None
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise ArrayCallError(E.AGENT_BROKEN, f"{what}: Dependentnames is not a list of strings")
        by_name = {m.name: m.id for m in self.by_name(names or [])}
        return [by_name[n] for n in names or [] if n in by_name]

    # ------------------------------------------------------------ changes
    def attach(self, pairs: Sequence[tuple[str, str, str]], *, copy_rate: int, incremental: bool,
               group_id: str | None) -> list[FcMap]:
        """AttachReplicas answers per pair; when some are refused the others (made) are
        deleted again, so that the lifecycle sees all or nothing. The new mappings are
        found by their names: the agent does not return them."""
        if not pairs:
            raise ArrayCallError(E.EMPTY_PAIRS, "no volume pairs to copy")
        self._volumes.learn([v for s, t, _ in pairs for v in (s, t)])
        paths = self._volumes.paths
        params: dict[str, Any] = {
            "SourceElements": [paths[s] for s, _, _ in pairs], "TargetElements": [paths[t] for _, t, _ in pairs],
            "ElementNames": [n for _, _, n in pairs], "CopyType": Uint16(COPYTYPE_FLASHCOPY),
            "BackgroundCopyRate": argument(Uint16, copy_rate, "copy rate", E.ATTACH_FAILED, "AttachReplicas"),
            "Incremental": incremental}
        if group_id is not None:
            params["Set"] = self._groups.path(group_id)
        rc, out = self._agent.invoke("AttachReplicas", SCS, params)
        values = out.get("ReturnValues") if hasattr(out, "get") else None
        if values is not None and (not isinstance(values, list) or len(values) != len(pairs) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in values)):
            raise ArrayCallError(E.AGENT_BROKEN, f"AttachReplicas returned {rc} with unreadable ReturnValues")
        returned: list[int] = values or []
        refused = {i: E.code_for_rc("AttachReplicas", int(v), int(v)) for i, v in enumerate(returned) if v}
        if rc not in (0, JOB_STARTED) and not refused:
            raise ArrayCallError(E.code_for_rc("AttachReplicas", rc, E.ATTACH_FAILED),
                                 f"AttachReplicas returned {rc}", rc)
        if rc == JOB_STARTED:
            self._agent.wait_job(output(out, "Job", "AttachReplicas"), what="attaching replicas",
                                 code=E.ATTACH_FAILED)
        by_name = {m.name: m for m in self.by_name([n for _, _, n in pairs])}
        if refused:
            for i, (_, _, name) in enumerate(pairs):
                if i not in refused and name in by_name:
                    self.delete(by_name[name].id, force=True)
            raise AttachRefused(refused, "AttachReplicas refused " + ", ".join(
                f"pair {i} ({pairs[i][0]} -> {pairs[i][1]}) rc {returned[i]}" for i in refused))
        missing = [n for _, _, n in pairs if n not in by_name]
        if missing:
            raise ArrayCallError(E.ATTACH_NOTHING, f"mapping {missing[0]} is missing after AttachReplicas")
        return [by_name[n] for _, _, n in pairs]

    def _modify(self, map_id: str, op: int, code: int, what: str, **params: Any) -> None:
        self._agent.call("ModifySynchronization", SCS, code, what=f"{what} mapping {map_id}", Operation=Uint16(op),
                         Synchronization=self.path(map_id), **params)

    def prepare(self, map_id: str, *, restore: bool = False) -> None:
        code, what = E.RESTORE_PREPARE if restore else E.WITHDRAW_FAILED, f"preparing mapping {map_id}"
        path = self.path(map_id)
        self._agent.call("ModifySynchronization", SCS, code, what=what, wait=False, Operation=Uint16(OP_PREPARE),
                         Synchronization=path, Restore=restore)
        self._agent.until_prepared(path, sync_state, what, code)

    def start(self, map_id: str, *, restore: bool = False) -> None:
        self._modify(map_id, OP_RESYNC, E.RESTORE_START if restore else E.WITHDRAW_FAILED,
                     "starting", Restore=restore)

    @staticmethod
    def _stop_dependent(map_id: str, how: int | None) -> dict[str, Any]:
        """StopDependentMaps with the Restore flag the agent wants beside it."""
        if how is None:
            return {}
        value = argument(Uint16, how, "StopDependentMaps", E.NO_SUCH_SYNC, f"mapping {map_id}")
        return {"StopDependentMaps": value, **({"Restore": True} if how in RESTORE_STOPS else {})}

    def stop(self, map_id: str, *, stop_dependent: int | None = None, force: bool = False,
             split: bool = False) -> None:
        extra = self._stop_dependent(map_id, stop_dependent)
        self._modify(map_id, OP_QUIESCE, E.WITHDRAW_FAILED, "stopping", Force=force, Split=split, **extra)

    def delete(self, map_id: str, *, force: bool = False, stop_dependent: int | None = None) -> None:
        """"Stop older" and "fail if not oldest" are stop options for the agent: the
        mapping is stopped with them first (one that already stands still is fine)."""
        extra = self._stop_dependent(map_id, stop_dependent)
        if stop_dependent in (STOP_OLDER, FAIL_IF_NOT_OLDEST):
            self._agent.call("ModifySynchronization", SCS, E.WITHDRAW_FAILED, what=f"stopping mapping {map_id}",
                             accept=(E.RC_FC_STOP_IDLE, E.RC_FC_STOP_STOPPED), Operation=Uint16(OP_QUIESCE),
                             Synchronization=self.path(map_id), Force=force, **extra)
            extra = {}
        self._modify(map_id, OP_DETACH, E.WITHDRAW_FAILED, "deleting", Force=force, **extra)
        self._paths.pop(map_id, None)
