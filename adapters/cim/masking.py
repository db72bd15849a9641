"""Hosts and masking: hosts found by name or port, which volume is mapped to which host,
and mapping volumes to a host or unmapping them (ExposePaths, HidePaths).

Hosts and host mappings (by volume UID) are looked up with indexed queries; a host
view's path is built from its documented key format, never looked up.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from pywbem import CIMInstanceName

from adapters.cim import errors as E
from adapters.cim.agent import Agent
from adapters.cim.names import (CCS, CLUSTER, CONTROLLER, HARDWARE_ID, HOST_PROPS, MAPPING, MAPS_TO_VOLUMES,
                                RC_ALREADY_EXPOSED, RC_NOT_EXPOSED, VOL_PROPS)
from adapters.cim.queries import Queries
from adapters.cim.replies import as_path, controller_host, instances, key, text, to_host
from adapters.cim.volumes import Volumes
from core import ids
from core.errors import ArrayCallError
from core.model import Host, Volume


class Hosts:
    def __init__(self, agent: Agent, queries: Queries, volumes: Volumes):
        self._agent, self._queries, self._volumes = agent, queries, volumes
        self._controllers: dict[str, CIMInstanceName] = {}

    # ------------------------------------------------------------ hosts
    def all(self) -> list[Host]:
        return [to_host(i) for i in self._agent.enum(HARDWARE_ID, HOST_PROPS)]

    def named(self, names: Sequence[str]) -> list[Host]:
        wanted = set(names)
        found = self._queries.where(HARDWARE_ID, ["ElementName"], wanted, HOST_PROPS)
        hosts = self.all() if found is None else [to_host(i) for i in found]
        return [h for h in hosts if h.name in wanted]

    def with_initiator(self, initiator: str) -> Host | None:
        port = initiator.strip()
        wwpn, iqn = ids.wwpn(port), ids.iqn(port)

        def owner(hosts: Iterable[Host]) -> Host | None:
            return next((h for h in hosts if wwpn in h.wwpns or iqn in h.iqns), None)
        # PortWWN and iSCSIName are arrays: the query matches when one element does. An
        # agent that compares arrays otherwise finds nothing, so "none" is confirmed by
        # reading every host (the failure path only).
        found = self._queries.where(HARDWARE_ID, ["PortWWN", "iSCSIName"], {port, wwpn or port, iqn},
                                    HOST_PROPS)
        return owner(map(to_host, found or [])) or owner(self.all())

    def _controller(self, host_id: str) -> CIMInstanceName:
        """Built, not looked up: a real cluster's ProtocolController keys are DeviceID
        "<cluster id>:<host id>" on the cluster "<cluster id>:<cluster id>"
        (tests/conformance/dump_shapes.json). A host that is gone makes the call that
        names it fail."""
        if host_id not in self._controllers:
            cid = self._agent.identity().cluster_id
            self._controllers[host_id] = CIMInstanceName(CONTROLLER, namespace=self._agent.namespace,
                                                         keybindings={"CreationClassName": CONTROLLER,
                                                                      "DeviceID": f"{cid}:{host_id}",
                                                                      "SystemCreationClassName": CLUSTER,
                                                                      "SystemName": f"{cid}:{cid}"})
        return self._controllers[host_id]

    # ------------------------------------------------------------ who sees what
    def volume_host_ids(self, volume_ids: Sequence[str]) -> dict[str, list[str]]:
        uids = self._volumes.uids
        self._volumes.where("DeviceID", [v for v in volume_ids if v not in uids])
        by_uid = {uids[v]: v for v in volume_ids if v in uids}   # a volume gone is on no host
        found = self._queries.where(MAPPING, ["UniqueID"], list(by_uid), ["UniqueID"])
        if found is None:
            return {v: [h.id for h in self.volume_hosts(v)] if v in uids else [] for v in volume_ids}
        out: dict[str, list[str]] = {v: [] for v in volume_ids}
        for inst in found:
            vol_id = by_uid.get(ids.volume_uid(text(inst, "UniqueID")) or "")
            if vol_id is not None:
                out[vol_id].append(controller_host(as_path(inst.path, MAPPING).keybindings.get("Antecedent")))
        return out

    def mapped_hosts(self) -> dict[str, list[Host]]:
        names = {controller_host(i.path): text(i, "ElementName")
                 for i in self._agent.enum(CONTROLLER, ["ElementName"])}
        paths = self._agent.read("EnumerateInstanceNames", MAPPING)
        if not isinstance(paths, list):
            raise ArrayCallError(E.AGENT_BROKEN, f"EnumerateInstanceNames {MAPPING}: not a list")
        out: dict[str, list[Host]] = {}
        for path in paths:
            host_id = controller_host(as_path(path, MAPPING).keybindings.get("Antecedent"))
            vol_id = key(path.keybindings.get("Dependent"), "DeviceID")
            out.setdefault(vol_id, []).append(Host(id=host_id, name=names.get(host_id, "")))
        return out

    def host_volumes(self, host_id: str) -> list[Volume]:
        try:
            insts = self._agent.read("Associators", self._controller(host_id), AssocClass=MAPS_TO_VOLUMES,
                                     ResultClass="CIM_StorageVolume", PropertyList=VOL_PROPS)
        except ArrayCallError as exc:
            if "CIM_ERR_NOT_FOUND" not in exc.detail:
                raise
            raise ArrayCallError(E.BAD_CONTROLLER, f"the array has no host {host_id}") from None
        return [self._volumes.seen(i) for i in instances(insts, f"volumes of host {host_id}")]

    def volume_hosts(self, volume_id: str) -> list[Host]:
        insts = self._agent.read("Associators", self._volumes.path(volume_id), AssocClass=MAPS_TO_VOLUMES,
                                 ResultClass="CIM_ProtocolController", PropertyList=["ElementName"])
        return [Host(id=controller_host(i.path), name=text(i, "ElementName"))
                for i in instances(insts, f"hosts of volume {volume_id}")]

    # ------------------------------------------------------------ masking
    def _paths_call(self, method: str, host_id: str, volume_ids: Sequence[str], done_rc: int,
                    **extra: Any) -> None:
        if not volume_ids:
            return
        pc = self._controller(host_id)
        self._volumes.learn(volume_ids)
        uids = self._volumes.uids
        what = f"{'mapping' if method == 'ExposePaths' else 'unmapping'} volumes {', '.join(volume_ids)} " \
               f"{'to' if method == 'ExposePaths' else 'from'} host {host_id}"
        rc, _ = self._agent.call(method, CCS, E.ASSIGN_FAILED, what=what, accept=(done_rc,),
                                 LUNames=[uids[v] for v in volume_ids], ProtocolControllers=[pc], **extra)
        if rc == done_rc:
            # The agent refuses the whole call when one volume is already (un)mapped:
            # nothing changed, so the call is repeated for the others only.
            mapped = {v.id for v in self.host_volumes(host_id)}
            rest = [v for v in volume_ids if (v in mapped) == (method == "HidePaths")]
            if rest:
                self._agent.call(method, CCS, E.ASSIGN_FAILED, what=what, LUNames=[uids[v] for v in rest],
                                 ProtocolControllers=[pc], **extra)

    def map_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        # Force: a target is on two hosts for a moment while it moves between them
        self._paths_call("ExposePaths", host_id, volume_ids, RC_ALREADY_EXPOSED, Force=True)

    def unmap_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        self._paths_call("HidePaths", host_id, volume_ids, RC_NOT_EXPOSED)
