"""The array over SMI-S (CIM-XML) with pywbem: one small method per array operation.

Implements core.ports.ArrayPort for the SVC-family CIM agent (IBMTSSVC_* classes,
see ../shared/reference/smis-cim.md). Thin on purpose: no business rules, only the CIM
calls with typed parameters, job polling, and failures turned into ArrayCallError
with the manual's codes (adapters/cim/errors.py).

`requests` counts every HTTP request sent to the agent (retries included). Paths of
objects already seen are cached so that later calls need no lookup: a volume's path
holds its I/O group, which only the array knows, and a hot path such as starting a
group is then exactly one request. Volumes (by name, UID or id), hosts (by name or
port) and host mappings (by volume) are looked up with indexed ExecQuery, so the array
builds only those asked for; a host view's path is built from its documented key
format. Nothing but a listing reads every volume or host.

Replies are checked as they are read: a missing or mistyped property becomes a
one-line 911, never a KeyError from deep inside.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

import pywbem
import structlog
from pywbem import CIMInstanceName, Uint16, Uint64

from adapters.cim import errors as E
from adapters.cim.connection import Transport, open_connection
from adapters.cim.jobs import wait_job
from core.errors import ArrayCallError, AttachRefused
from core.model import (COPYING, EMPTY_GROUP, IDLE, PREPARED, PREPARING, STOPPED, STOPPING, STOP_OLDER, FcMap,
                        Group, Host, Identity, Volume)
from core import ids
from core.poll import DeadlinePassed, FuncClock, Pending, poll_until

log = structlog.get_logger("vssorch.cim")

VOLUME = "IBMTSSVC_StorageVolume"
CLUSTER = "IBMTSSVC_Cluster"
POOL = "IBMTSSVC_ConcreteStoragePool"
IOGROUP = "IBMTSSVC_IOGroup"
HARDWARE_ID = "IBMTSSVC_StorageHardwareID"
CONTROLLER = "IBMTSSVC_ProtocolController"
FCMAP = "IBMTSSVC_LocalStorageSynchronized"
FCSET = "IBMTSSVC_FlashCopyStorageSynchronizedSet"
SCS = "IBMTSSVC_StorageConfigurationService"
CCS = "IBMTSSVC_ControllerConfigurationService"
MAPS_TO_VOLUMES = "CIM_ProtocolControllerForUnit"
MAPPING = "IBMTSSVC_SystemVolumeController"     # the one ProtocolControllerForUnit class
AGENT_PRODUCT = "IBMTSSVC"    # the agent's schema: a real cluster reports no product name

# ModifySynchronization / ModifySynchronizedSet operations
OP_DETACH, OP_RESYNC, OP_PREPARE, OP_QUIESCE, SET_ADD = 2, 4, 6, 8, 0
COPYTYPE_FLASHCOPY, COPYTYPE_AUTODELETE = 4, 5
FAIL_IF_NOT_OLDEST = 5
# StopDependentMaps values the agent takes only with Restore true (the others only on a stop)
RESTORE_STOPS = (1, 2, 3, 6)
ELEMENT_VOLUME, ELEMENT_THIN, ELEMENT_THIN_COMPRESSED = 2, 5, 8
JOB_STARTED = 4096
RC_ALREADY_EXPOSED, RC_NOT_EXPOSED = 4101, 4100
OPERATIONAL_OK = 2

# FlashCopy set Status -> the group state in SVC words
GROUP_STATES = {0x1000: EMPTY_GROUP, 11: IDLE, 2: IDLE, 3: PREPARING, 4: PREPARED, 5: COPYING,
                0x8002: STOPPING, 0x8001: STOPPED, 12: STOPPED}
# a mapping's SyncState (DMTF) -> its state in SVC words (the agent's "flash | status")
SYNC_STATES = {2: IDLE, 6: IDLE, 11: IDLE, 3: PREPARING, 4: PREPARED, 5: COPYING, 10: COPYING,
               7: STOPPING, 8: STOPPING, 9: STOPPED, 12: STOPPED, 13: STOPPED}

_VOL_PROPS = ["ElementName", "Name", "NumberOfBlocks", "BlockSize", "PoolName", "GroupName",
              "IsSpaceEfficient", "Compressed", "Deduplicated", "OperationalStatus"]
_HOST_PROPS = ["ElementName", "HostID", "PortWWN", "iSCSIName"]
QUERY_CHUNK = 1000            # values in one IN list: the agent's limit
# what an agent without (this kind of) ExecQuery answers
_NO_QUERY = ("CIM_ERR_NOT_SUPPORTED", "CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED", "CIM_ERR_INVALID_QUERY")
_FCMAP_ATTRS = {"SystemElementID": "source_id", "SyncedElementID": "target_id", "ElementName": "name", "Name": "id"}
_GROUP_PROPS = ["ElementName", "Status"]


# ---------------------------------------------------------------- reading replies
def _bad(inst, name: str, why: str) -> ArrayCallError:
    cls = getattr(inst, "classname", None) or type(inst).__name__
    return ArrayCallError(E.AGENT_BROKEN, f"the CIM agent's {cls} reply {why} {name}")


def _prop(inst, name: str):
    if not isinstance(inst, pywbem.CIMInstance):
        raise ArrayCallError(E.AGENT_BROKEN, f"the CIM agent sent a {type(inst).__name__} "
                                             f"where an instance with {name} was expected")
    return inst.get(name)


def _text(inst, name: str, default: str | None = None) -> str:
    value = _prop(inst, name)
    if value is None and default is not None:
        return default
    if value is None:
        raise _bad(inst, name, "lacks")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(inst, name, f"has a {type(value).__name__} in")
    return str(value)


def _int(inst, name: str, default: int | None = None) -> int:
    value = _prop(inst, name)
    if value is None and default is not None:
        return default
    if value is None:
        raise _bad(inst, name, "lacks")
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _bad(inst, name, f"has {E.one_line(repr(value), 40)} (not a number) in")


def _flag(inst, name: str) -> bool:
    value = _prop(inst, name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _bad(inst, name, f"has {E.one_line(repr(value), 40)} (not a boolean) in")


def _strings(inst, name: str) -> list[str]:
    value = _prop(inst, name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(inst, name, "has no list of strings in")
    return value


def _ints(inst, name: str) -> list[int]:
    value = _prop(inst, name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise _bad(inst, name, "has no list of numbers in")
    return [int(v) for v in value]


def _path(value, what: str) -> CIMInstanceName:
    if not isinstance(value, CIMInstanceName):
        raise ArrayCallError(E.AGENT_BROKEN, f"{what}: expected an instance path, got {type(value).__name__}")
    return value


def _key(path, name: str) -> str:
    path = _path(path, f"key {name}")
    for k, v in path.keybindings.items():
        if k.lower() == name.lower() and isinstance(v, (str, int)) and not isinstance(v, bool):
            return str(v)
    raise ArrayCallError(E.AGENT_BROKEN, f"a {path.classname} path lacks the key {name}")


def _controller_host(path) -> str:
    """The host id in a ProtocolController's DeviceID "<cluster id>:<host id>"."""
    return _key(path, "DeviceID").rsplit(":", 1)[-1]


def _instances(reply, what: str) -> list:
    if not isinstance(reply, list):
        raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the reply is not a list")
    for inst in reply:
        if not isinstance(inst, pywbem.CIMInstance) or not isinstance(inst.path, CIMInstanceName):
            raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the reply holds a {type(inst).__name__} "
                                                 "without an instance path")
    return reply


def _out(out, name: str, what: str):
    try:
        return out[name]
    except (KeyError, TypeError):
        raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the reply lacks the output {name}") from None


def _arg(cimtype, value, name: str, code: int, what: str):
    """A caller's number as the CIM type the agent expects; out of range (or not a
    number) is the operation's own refusal before anything is sent, not a ValueError."""
    try:
        return cimtype(value)
    except (TypeError, ValueError):
        raise ArrayCallError(code, f"{what}: {name} {E.one_line(repr(value), 40)} is not a "
                                   f"{cimtype.__name__.lower()}") from None


class CimArray:
    def __init__(self, conn: pywbem.WBEMConnection, *, target_mcs: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 poll_s: float = 0.1, job_timeout_s: float = 600.0):
        self._wire = Transport(conn, sleep=sleep)
        self.target_mcs = target_mcs or None
        self._sleep, self._clock = sleep, clock
        self._poll_s, self._job_timeout_s = poll_s, job_timeout_s
        self._identity: Identity | None = None
        self._services: dict[str, CIMInstanceName] = {}
        self._vol_paths: dict[str, CIMInstanceName] = {}
        self._vol_uids: dict[str, str] = {}
        self._map_paths: dict[str, CIMInstanceName] = {}
        self._group_paths: dict[str, CIMInstanceName] = {}
        self._controllers: dict[str, CIMInstanceName] = {}
        self._pools: dict[str, CIMInstanceName] = {}
        self._iogroups: dict[str, CIMInstanceName] = {}
        self._queries = True      # until the agent turns ExecQuery down

    @classmethod
    def connect(cls, host: str, port: int, *, ssl: bool, ca_file: str | None, username: str,
                password: str, namespace: str, timeout_ms: int = 0, target_mcs: str | None = None,
                verify: bool = True, **options) -> "CimArray":
        """Nothing is sent until the first operation; options go to __init__ (sleep, clock...)."""
        conn = open_connection(host, port, ssl=ssl, ca_file=ca_file, username=username, password=password,
                               namespace=namespace, timeout_ms=timeout_ms, verify=verify)
        return cls(conn, target_mcs=target_mcs, **options)

    @classmethod
    def from_config(cls, cfg, **options) -> "CimArray":
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

    # ------------------------------------------------------------ calls
    def _read(self, op: str, *args, **kwargs):
        return self._wire.read(op, *args, **kwargs)

    def _enum(self, classname: str, props: list[str] | None = None) -> list:
        kwargs = {"PropertyList": props} if props is not None else {}
        return _instances(self._read("EnumerateInstances", classname, **kwargs), f"EnumerateInstances {classname}")

    def _service(self, classname: str) -> CIMInstanceName:
        if classname not in self._services:
            names = self._read("EnumerateInstanceNames", classname)
            if not isinstance(names, list) or not names:
                raise ArrayCallError(E.NO_CONFIG_SERVICE, f"the CIM agent offers no {classname}")
            self._services[classname] = _path(names[0], classname)
        return self._services[classname]

    def _call(self, method: str, service: str, code: int, *, what: str, accept: tuple[int, ...] = (),
              wait: bool = True, **params):
        """One InvokeMethod on a service. A return code other than 0, 4096 or `accept`
        raises ArrayCallError with the manual's code for it (E.code_for_rc); a 4096
        reply is followed by waiting for its job (unless the caller waits on the object's
        own state). -> (rc, out)."""
        rc, out = self._wire.invoke(method, self._service(service), params)
        if rc not in (0, JOB_STARTED, *accept):
            raise ArrayCallError(E.code_for_rc(method, rc, code), f"{what}: {method} returned {rc}", rc)
        if rc == JOB_STARTED and wait:
            wait_job(self._wire, _out(out, "Job", method), what=what, code=code, sleep=self._sleep,
                     clock=self._clock, poll_s=self._poll_s, timeout_s=self._job_timeout_s)
        return rc, out

    # ------------------------------------------------------------ identity
    def identity(self) -> Identity:
        if self._identity is None:
            # The cluster's id is its ID property; its Name key is "<id>:<id>".
            clusters = self._enum(CLUSTER, ["ElementName", "ID", "CodeLevel"])
            if self.target_mcs:
                # a cluster id is hex: the configured one may be in either case
                clusters = [c for c in clusters if _text(c, "ID").upper() == self.target_mcs.upper()]
                if not clusters:
                    raise ArrayCallError(E.NO_SUCH_MCS, f"the CIM agent manages no cluster with id "
                                                        f"{self.target_mcs}")
            if not clusters:
                raise ArrayCallError(E.AGENT_BROKEN, "the CIM agent reports no cluster")
            c = clusters[0]
            self._identity = Identity(cluster_id=_text(c, "ID"), cluster_name=_text(c, "ElementName"),
                                      product=AGENT_PRODUCT, version=_text(c, "CodeLevel", ""))
        return self._identity

    # ------------------------------------------------------------ volumes
    def _volume(self, inst) -> Volume:
        vol_id = _key(inst.path, "DeviceID")
        uid = ids.volume_uid(_text(inst, "Name")) or _text(inst, "Name").upper()
        vol = Volume(id=vol_id, uid=uid, name=_text(inst, "ElementName"),
                     size=_int(inst, "NumberOfBlocks") * _int(inst, "BlockSize", 1),
                     pool=_text(inst, "PoolName", ""), iogroup=_text(inst, "GroupName", ""),
                     thin=_flag(inst, "IsSpaceEfficient"), compressed=_flag(inst, "Compressed"),
                     deduped=_flag(inst, "Deduplicated"),
                     online=OPERATIONAL_OK in _ints(inst, "OperationalStatus"))
        self._vol_paths[vol_id], self._vol_uids[vol_id] = inst.path, uid
        return vol

    def _all_volumes(self) -> list[Volume]:
        return [self._volume(i) for i in self._enum(VOLUME, _VOL_PROPS)]

    def _where(self, classname: str, props: Sequence[str], values: Sequence[str],
               select: Sequence[str] | None = None) -> list | None:
        """Instances of classname with one of props equal to one of values, by ExecQuery:
        an indexed query builds only those (enumerating a 10,000-volume array takes half
        a minute, and a lifecycle must not read every mapping of a busy array). None once
        the agent turns queries down: the caller enumerates, now and later."""
        values = sorted(set(values))
        if not values:
            return []
        if not self._queries:
            return None
        try:
            found = []
            step = QUERY_CHUNK // len(props)
            for i in range(0, len(values), step):
                listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values[i:i + step])
                where = " OR ".join(f"{prop} IN ({listed})" for prop in props)
                query = f"SELECT {', '.join(select) if select else '*'} FROM {classname} WHERE {where}"
                found += _instances(self._read("ExecQuery", "WQL", query), f"ExecQuery {classname}")
            return found
        except ArrayCallError as exc:
            if not any(status in exc.detail for status in _NO_QUERY):
                raise
            log.info("cim agent answers no queries: objects are enumerated", reason=E.one_line(exc.detail, 120))
            self._queries = False
            return None

    def _volumes_where(self, prop: str, values: Sequence[str]) -> list[Volume]:
        """At least the volumes whose prop (Name is the UID, ElementName, or DeviceID) is
        one of values."""
        found = self._where(VOLUME, [prop], values, _VOL_PROPS)
        return self._all_volumes() if found is None else [self._volume(i) for i in found]

    def volumes_by_uid(self, uids: Sequence[str]) -> dict[str, Volume]:
        wanted = {ids.volume_uid(u) or u.strip().upper() for u in uids}
        return {v.uid: v for v in self._volumes_where("Name", wanted) if v.uid in wanted}

    def volumes_named(self, prefix: str) -> list[Volume]:
        return [v for v in self._all_volumes() if v.name.startswith(prefix)]

    def volumes_by_name(self, names: Sequence[str]) -> list[Volume]:
        wanted = set(names)
        return [v for v in self._volumes_where("ElementName", wanted) if v.name in wanted]

    def volumes_by_id(self, volume_ids: Sequence[str]) -> dict[str, Volume]:
        wanted = set(volume_ids)
        return {v.id: v for v in self._volumes_where("DeviceID", wanted) if v.id in wanted}

    def volumes_matching(self, values: Sequence[str]) -> list[Volume]:
        wanted = set(values)
        found = self._where(VOLUME, ["ElementName", "Name", "DeviceID"], wanted, _VOL_PROPS)
        volumes = self._all_volumes() if found is None else [self._volume(i) for i in found]
        matching = [v for v in volumes if wanted & {v.name, v.uid, v.id}]
        return sorted(matching, key=lambda v: (len(v.id), v.id))     # ids are numbers: array order

    def _learn_volumes(self, volume_ids: Sequence[str]) -> None:
        """Paths and UIDs of volumes not seen yet: one query for all of them."""
        unknown = [v for v in volume_ids if v not in self._vol_paths or v not in self._vol_uids]
        self._volumes_where("DeviceID", unknown)
        missing = [v for v in volume_ids if v not in self._vol_paths]
        if missing:
            raise ArrayCallError(E.BAD_VOLUME, f"the array has no volume {', '.join(missing)}")

    def _vol_path(self, volume_id: str) -> CIMInstanceName:
        self._learn_volumes([volume_id])
        return self._vol_paths[volume_id]

    def volume(self, volume_id: str) -> Volume | None:
        path = self._vol_paths.get(volume_id)
        if path is None:
            return next((v for v in self._volumes_where("DeviceID", [volume_id]) if v.id == volume_id), None)
        inst = self._wire.get(path)
        if inst is None:
            self._forget_volume(volume_id)
            return None
        return self._volume(inst)

    def _forget_volume(self, volume_id: str) -> None:
        self._vol_paths.pop(volume_id, None)
        self._vol_uids.pop(volume_id, None)

    def _named_path(self, cache: dict, classname: str, name: str) -> CIMInstanceName:
        if name not in cache:
            for inst in self._enum(classname, ["ElementName"]):
                cache[_text(inst, "ElementName")] = inst.path
        if name not in cache:
            raise ArrayCallError(E.NO_TARGET, f"the array has no {classname.split('_')[-1]} named {name!r}")
        return cache[name]

    def create_volume(self, name: str, size: int, pool: str, iogroup: str | None, *,
                      thin: bool, compressed: bool, deduped: bool) -> Volume:
        # SVC compresses and deduplicates thin volumes only: asking for either means thin
        # (sending a plain volume would silently drop the compression)
        thin = thin or compressed or deduped
        kind = ELEMENT_THIN_COMPRESSED if compressed else ELEMENT_THIN if thin else ELEMENT_VOLUME
        what = f"creating volume {name}"
        params = {"ElementName": name, "Size": _arg(Uint64, size, "size", E.NO_TARGET, what),
                  "ElementType": Uint16(kind),
                  "InPool": self._named_path(self._pools, POOL, pool), "isSpaceEfficient": thin}
        if deduped:  # a later-firmware parameter: an agent without it refuses any mention
            params["Deduplicated"] = True
        if iogroup:
            params["IOGroup"] = self._named_path(self._iogroups, IOGROUP, iogroup)
        _, out = self._call("CreateOrModifyElementFromStoragePool", SCS, E.NO_TARGET, what=what, **params)
        inst = self._wire.get(_path(_out(out, "TheElement", what), what))
        if inst is None:
            raise ArrayCallError(E.AGENT_BROKEN, f"the new volume {name} cannot be read back")
        return self._volume(inst)

    def delete_volume(self, volume_id: str) -> None:
        self._call("ReturnToStoragePool", SCS, E.INTERNAL, what=f"deleting volume {volume_id}",
                   TheElement=self._vol_path(volume_id))
        self._forget_volume(volume_id)

    # ------------------------------------------------------------ hosts and masking
    @staticmethod
    def _host(inst) -> Host:
        return Host(id=_text(inst, "HostID"), name=_text(inst, "ElementName"),
                    # one spelling on both sides, whatever the agent's (host_with_initiator)
                    wwpns=tuple(ids.wwpn(p) or p.strip() for p in _strings(inst, "PortWWN")),
                    iqns=tuple(ids.iqn(p) for p in _strings(inst, "iSCSIName")))

    def hosts(self) -> list[Host]:
        return [self._host(i) for i in self._enum(HARDWARE_ID, _HOST_PROPS)]

    def hosts_named(self, names: Sequence[str]) -> list[Host]:
        wanted = set(names)
        found = self._where(HARDWARE_ID, ["ElementName"], wanted, _HOST_PROPS)
        hosts = self.hosts() if found is None else [self._host(i) for i in found]
        return [h for h in hosts if h.name in wanted]

    def host_named(self, name: str) -> Host | None:
        return next(iter(self.hosts_named([name])), None)

    def host_with_initiator(self, initiator: str) -> Host | None:
        port = initiator.strip()
        wwpn, iqn = ids.wwpn(port), ids.iqn(port)

        def owner(hosts):
            return next((h for h in hosts if wwpn in h.wwpns or iqn in h.iqns), None)
        # PortWWN and iSCSIName are arrays: the query matches when one element does. An
        # agent that compares arrays otherwise finds nothing, so "none" is confirmed by
        # reading every host (the failure path only).
        found = self._where(HARDWARE_ID, ["PortWWN", "iSCSIName"], {port, wwpn or port, iqn}, _HOST_PROPS)
        return owner(map(self._host, found or [])) or owner(self.hosts())

    def _controller(self, host_id: str) -> CIMInstanceName:
        """Built, not looked up: a real cluster's ProtocolController keys are DeviceID
        "<cluster id>:<host id>" on the cluster "<cluster id>:<cluster id>"
        (tests/conformance/dump_shapes.json). A host that is gone makes the call that
        names it fail."""
        if host_id not in self._controllers:
            cid = self.identity().cluster_id
            self._controllers[host_id] = CIMInstanceName(CONTROLLER, namespace=self._wire.conn.default_namespace,
                                                         keybindings={"CreationClassName": CONTROLLER,
                                                                      "DeviceID": f"{cid}:{host_id}",
                                                                      "SystemCreationClassName": CLUSTER,
                                                                      "SystemName": f"{cid}:{cid}"})
        return self._controllers[host_id]

    def volume_host_ids(self, volume_ids: Sequence[str]) -> dict[str, list[str]]:
        self._volumes_where("DeviceID", [v for v in volume_ids if v not in self._vol_uids])
        by_uid = {self._vol_uids[v]: v for v in volume_ids if v in self._vol_uids}   # a volume gone is on no host
        found = self._where(MAPPING, ["UniqueID"], list(by_uid), ["UniqueID"])
        if found is None:
            return {v: [h.id for h in self.volume_hosts(v)] if v in self._vol_uids else [] for v in volume_ids}
        out: dict[str, list[str]] = {v: [] for v in volume_ids}
        for inst in found:
            vol_id = by_uid.get(ids.volume_uid(_text(inst, "UniqueID")) or "")
            if vol_id is not None:
                out[vol_id].append(_controller_host(_path(inst.path, MAPPING).keybindings.get("Antecedent")))
        return out

    def mapped_hosts(self) -> dict[str, list[Host]]:
        names = {_controller_host(i.path): _text(i, "ElementName")
                 for i in self._enum(CONTROLLER, ["ElementName"])}
        paths = self._read("EnumerateInstanceNames", MAPPING)
        if not isinstance(paths, list):
            raise ArrayCallError(E.AGENT_BROKEN, f"EnumerateInstanceNames {MAPPING}: not a list")
        out: dict[str, list[Host]] = {}
        for path in paths:
            host_id = _controller_host(_path(path, MAPPING).keybindings.get("Antecedent"))
            vol_id = _key(path.keybindings.get("Dependent"), "DeviceID")
            out.setdefault(vol_id, []).append(Host(id=host_id, name=names.get(host_id, "")))
        return out

    def host_volumes(self, host_id: str) -> list[Volume]:
        try:
            insts = self._read("Associators", self._controller(host_id), AssocClass=MAPS_TO_VOLUMES,
                               ResultClass="CIM_StorageVolume", PropertyList=_VOL_PROPS)
        except ArrayCallError as exc:
            if "CIM_ERR_NOT_FOUND" not in exc.detail:
                raise
            raise ArrayCallError(E.BAD_CONTROLLER, f"the array has no host {host_id}") from None
        return [self._volume(i) for i in _instances(insts, f"volumes of host {host_id}")]

    def volume_hosts(self, volume_id: str) -> list[Host]:
        insts = self._read("Associators", self._vol_path(volume_id), AssocClass=MAPS_TO_VOLUMES,
                           ResultClass="CIM_ProtocolController", PropertyList=["ElementName"])
        return [Host(id=_controller_host(i.path), name=_text(i, "ElementName"))
                for i in _instances(insts, f"hosts of volume {volume_id}")]

    def _paths_call(self, method: str, host_id: str, volume_ids: Sequence[str], done_rc: int, **extra) -> None:
        if not volume_ids:
            return
        pc = self._controller(host_id)
        self._learn_volumes(volume_ids)
        what = f"{'mapping' if method == 'ExposePaths' else 'unmapping'} volumes {', '.join(volume_ids)} " \
               f"{'to' if method == 'ExposePaths' else 'from'} host {host_id}"
        rc, _ = self._call(method, CCS, E.ASSIGN_FAILED, what=what, accept=(done_rc,),
                           LUNames=[self._vol_uids[v] for v in volume_ids], ProtocolControllers=[pc], **extra)
        if rc == done_rc:
            # The agent refuses the whole call when one volume is already (un)mapped:
            # nothing changed, so the call is repeated for the others only.
            mapped = {v.id for v in self.host_volumes(host_id)}
            rest = [v for v in volume_ids if (v in mapped) == (method == "HidePaths")]
            if rest:
                self._call(method, CCS, E.ASSIGN_FAILED, what=what, LUNames=[self._vol_uids[v] for v in rest],
                           ProtocolControllers=[pc], **extra)

    def map_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        # Force: a target is on two hosts for a moment while it moves between them
        self._paths_call("ExposePaths", host_id, volume_ids, RC_ALREADY_EXPOSED, Force=True)

    def unmap_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        self._paths_call("HidePaths", host_id, volume_ids, RC_NOT_EXPOSED)

    # ------------------------------------------------------------ localcopy
    def _fcmap(self, inst) -> FcMap:
        state = _sync_state(inst)
        map_id = _text(inst, "Name")
        group = _text(inst, "SynchronizedSetID", "")
        m = FcMap(id=map_id, name=_text(inst, "ElementName"), source_id=_text(inst, "SystemElementID"),
                  target_id=_text(inst, "SyncedElementID"), state=state, progress=_int(inst, "Progress", 0),
                  copy_rate=_int(inst, "CopyRate"), incremental=_flag(inst, "Incremental"),
                  autodelete=_int(inst, "CopyType", COPYTYPE_FLASHCOPY) == COPYTYPE_AUTODELETE,
                  group_id=group or None, restoring=_flag(inst, "Restoring"),
                  dependent_count=_int(inst, "DependentMappingCount", 0))
        self._map_paths[map_id] = inst.path
        return m

    def _all_fcmaps(self) -> list[FcMap]:
        return [self._fcmap(i) for i in self._enum(FCMAP)]

    def _fcmaps_where(self, props: Sequence[str], values: Sequence[str]) -> list[FcMap]:
        """Mappings with one of props equal to one of values (exactly: queries ignore case),
        in id order."""
        wanted = set(values)
        if not wanted:
            return []
        found = self._where(FCMAP, props, wanted)
        maps = self._all_fcmaps() if found is None else [self._fcmap(i) for i in found]
        unique = {m.id: m for m in maps if any(getattr(m, _FCMAP_ATTRS[p]) in wanted for p in props)}
        return sorted(unique.values(), key=lambda m: (len(m.id), m.id))

    def fcmap(self, map_id: str) -> FcMap | None:
        path = self._map_paths.get(map_id)
        if path is None:
            return next(iter(self._fcmaps_where(["Name"], [map_id])), None)
        inst = self._wire.get(path)
        if inst is not None and _text(inst, "Name") == map_id:
            return self._fcmap(inst)
        self._map_paths.pop(map_id, None)
        if inst is None:
            return None
        # the same two volumes now hold another mapping: this one may still be elsewhere
        return next(iter(self._fcmaps_where(["Name"], [map_id])), None)

    def fcmaps_of_volume(self, volume_id: str) -> list[FcMap]:
        insts = self._read("References", self._vol_path(volume_id), ResultClass=FCMAP)
        return [self._fcmap(i) for i in _instances(insts, f"mappings of volume {volume_id}")]

    def fcmaps_of_volumes(self, volume_ids: Sequence[str]) -> list[FcMap]:
        return self._fcmaps_where(["SystemElementID", "SyncedElementID"], volume_ids)

    def fcmaps_named(self, prefix: str) -> list[FcMap]:
        return [m for m in self._all_fcmaps() if m.name.startswith(prefix)]

    def fcmaps_by_name(self, names: Sequence[str]) -> list[FcMap]:
        return self._fcmaps_where(["ElementName"], names)

    def _map_path(self, map_id: str) -> CIMInstanceName:
        if map_id not in self._map_paths and self.fcmap(map_id) is None:
            raise ArrayCallError(E.NO_SUCH_SYNC, f"the array has no localcopy mapping {map_id}")
        return self._map_paths[map_id]

    def dependent_fcmaps(self, map_id: str) -> list[str]:
        """The agent names the dependents; their ids are read by those names."""
        what = f"dependents of mapping {map_id}"
        _, out = self._call("GetDependentMappingNames", SCS, E.NO_SUCH_SYNC, what=what,
                            Mapping=self._map_path(map_id))
        names = out.get("Dependentnames") if hasattr(out, "get") else None
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise ArrayCallError(E.AGENT_BROKEN, f"{what}: Dependentnames is not a list of strings")
        by_name = {m.name: m.id for m in self.fcmaps_by_name(names or [])}
        return [by_name[n] for n in names or [] if n in by_name]

    def attach(self, pairs: Sequence[tuple[str, str, str]], *, copy_rate: int, incremental: bool,
               group_id: str | None) -> list[FcMap]:
        """AttachReplicas answers per pair; when some are refused the others (made) are
        deleted again, so that the lifecycle sees all or nothing. The new mappings are
        found by their names: the agent does not return them."""
        if not pairs:
            raise ArrayCallError(E.EMPTY_PAIRS, "no volume pairs to copy")
        self._learn_volumes([v for s, t, _ in pairs for v in (s, t)])
        params = {"SourceElements": [self._vol_paths[s] for s, _, _ in pairs],
                  "TargetElements": [self._vol_paths[t] for _, t, _ in pairs],
                  "ElementNames": [n for _, _, n in pairs], "CopyType": Uint16(COPYTYPE_FLASHCOPY),
                  "BackgroundCopyRate": _arg(Uint16, copy_rate, "copy rate", E.ATTACH_FAILED, "AttachReplicas"),
                  "Incremental": incremental}
        if group_id is not None:
            params["Set"] = self._group_path(group_id)
        rc, out = self._wire.invoke("AttachReplicas", self._service(SCS), params)
        values = out.get("ReturnValues") if hasattr(out, "get") else None
        if values is not None and (not isinstance(values, list) or len(values) != len(pairs) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in values)):
            raise ArrayCallError(E.AGENT_BROKEN, f"AttachReplicas returned {rc} with unreadable ReturnValues")
        refused = {i: E.code_for_rc("AttachReplicas", int(v), int(v)) for i, v in enumerate(values or []) if v}
        if rc not in (0, JOB_STARTED) and not refused:
            raise ArrayCallError(E.code_for_rc("AttachReplicas", rc, E.ATTACH_FAILED),
                                 f"AttachReplicas returned {rc}", rc)
        if rc == JOB_STARTED:
            wait_job(self._wire, _out(out, "Job", "AttachReplicas"), what="attaching replicas",
                     code=E.ATTACH_FAILED, sleep=self._sleep, clock=self._clock, poll_s=self._poll_s,
                     timeout_s=self._job_timeout_s)
        by_name = {m.name: m for m in self.fcmaps_by_name([n for _, _, n in pairs])}
        if refused:
            for i, (_, _, name) in enumerate(pairs):
                if i not in refused and name in by_name:
                    self.delete_fcmap(by_name[name].id, force=True)
            raise AttachRefused(refused, "AttachReplicas refused " + ", ".join(
                f"pair {i} ({pairs[i][0]} -> {pairs[i][1]}) rc {values[i]}" for i in refused))
        missing = [n for _, _, n in pairs if n not in by_name]
        if missing:
            raise ArrayCallError(E.ATTACH_NOTHING, f"mapping {missing[0]} is missing after AttachReplicas")
        return [by_name[n] for _, _, n in pairs]

    def _modify(self, map_id: str, op: int, code: int, what: str, **params) -> None:
        self._call("ModifySynchronization", SCS, code, what=f"{what} mapping {map_id}", Operation=Uint16(op),
                   Synchronization=self._map_path(map_id), **params)

    def _until_prepared(self, path: CIMInstanceName, prop: str, what: str, code: int) -> None:
        """Reads the object's state until it has left preparing: whatever the prepare
        answered (0, or 4096 and jobs), prepared is what the array says it is."""
        def probe() -> Pending | None:
            inst = self._wire.get(path)
            if inst is None:
                raise ArrayCallError(code, f"{what}: it is gone")
            state = _sync_state(inst) if prop == "SyncState" else _group_state(inst)
            if state == PREPARED:
                return None
            if state != PREPARING:
                raise ArrayCallError(code, f"{what}: it is {state}, not prepared")
            return Pending()     # no progress is reported while preparing (see jobs.py)
        try:
            poll_until(probe, clock=FuncClock(self._clock, self._sleep), interval=self._poll_s,
                       deadline=self._job_timeout_s, what=what)
        except DeadlinePassed:
            raise ArrayCallError(code, f"{what}: it did not finish preparing within "
                                       f"{self._job_timeout_s:.0f} s") from None

    def prepare_fcmap(self, map_id: str, *, restore: bool = False) -> None:
        code, what = E.RESTORE_PREPARE if restore else E.WITHDRAW_FAILED, f"preparing mapping {map_id}"
        path = self._map_path(map_id)
        self._call("ModifySynchronization", SCS, code, what=what, wait=False, Operation=Uint16(OP_PREPARE),
                   Synchronization=path, Restore=restore)
        self._until_prepared(path, "SyncState", what, code)

    def start_fcmap(self, map_id: str, *, restore: bool = False) -> None:
        self._modify(map_id, OP_RESYNC, E.RESTORE_START if restore else E.WITHDRAW_FAILED,
                     "starting", Restore=restore)

    @staticmethod
    def _stop_dependent(map_id: str, how: int | None) -> dict:
        """StopDependentMaps with the Restore flag the agent wants beside it."""
        if how is None:
            return {}
        value = _arg(Uint16, how, "StopDependentMaps", E.NO_SUCH_SYNC, f"mapping {map_id}")
        return {"StopDependentMaps": value, **({"Restore": True} if how in RESTORE_STOPS else {})}

    def stop_fcmap(self, map_id: str, *, stop_dependent: int | None = None, force: bool = False,
                   split: bool = False) -> None:
        extra = self._stop_dependent(map_id, stop_dependent)
        self._modify(map_id, OP_QUIESCE, E.WITHDRAW_FAILED, "stopping", Force=force, Split=split, **extra)

    def delete_fcmap(self, map_id: str, *, force: bool = False, stop_dependent: int | None = None) -> None:
        """"Stop older" and "fail if not oldest" are stop options for the agent: the
        mapping is stopped with them first (one that already stands still is fine)."""
        extra = self._stop_dependent(map_id, stop_dependent)
        if stop_dependent in (STOP_OLDER, FAIL_IF_NOT_OLDEST):
            self._call("ModifySynchronization", SCS, E.WITHDRAW_FAILED, what=f"stopping mapping {map_id}",
                       accept=(E.RC_FC_STOP_IDLE, E.RC_FC_STOP_STOPPED), Operation=Uint16(OP_QUIESCE),
                       Synchronization=self._map_path(map_id), Force=force, **extra)
            extra = {}
        self._modify(map_id, OP_DETACH, E.WITHDRAW_FAILED, "deleting", Force=force, **extra)
        self._map_paths.pop(map_id, None)

    # ------------------------------------------------------------ consistency groups
    def _group(self, inst) -> Group:
        gid = _key(inst.path, "InstanceID").rsplit(":", 1)[-1]
        group = Group(id=gid, name=_text(inst, "ElementName"), state=_group_state(inst))
        self._group_paths[gid] = inst.path
        return group

    def _all_groups(self) -> list[Group]:
        return [self._group(i) for i in self._enum(FCSET, _GROUP_PROPS)]

    def _group_path(self, group_id: str) -> CIMInstanceName:
        """A group's path; one not seen yet is looked for among all (a set is known by
        name or InstanceID only, and the id is the InstanceID's last part)."""
        if group_id not in self._group_paths:
            self._all_groups()
        if group_id not in self._group_paths:
            raise ArrayCallError(E.NO_SUCH_GROUP, f"the array has no consistency group {group_id}")
        return self._group_paths[group_id]

    def group(self, group_id: str) -> Group | None:
        path = self._group_paths.get(group_id)
        if path is None:
            return next((g for g in self._all_groups() if g.id == group_id), None)
        inst = self._wire.get(path)
        if inst is None:
            self._group_paths.pop(group_id, None)
            return None
        return self._group(inst)

    def groups_named(self, prefix: str) -> list[Group]:
        return [g for g in self._all_groups() if g.name.startswith(prefix)]

    def groups_by_name(self, names: Sequence[str]) -> list[Group]:
        wanted = set(names)
        found = self._where(FCSET, ["ElementName"], wanted, _GROUP_PROPS)
        groups = self._all_groups() if found is None else [self._group(i) for i in found]
        return [g for g in groups if g.name in wanted]

    def create_group(self, name: str) -> Group:
        what = f"creating consistency group {name}"
        _, out = self._call("CreateSynchronizedSet", SCS, E.ATTACH_FAILED, what=what, ElementName=name,
                            CopyType=Uint16(COPYTYPE_FLASHCOPY))
        path = _path(_out(out, "Set", what), what)
        gid = _key(path, "InstanceID").rsplit(":", 1)[-1]
        self._group_paths[gid] = path
        return Group(id=gid, name=name, state=EMPTY_GROUP)

    def _modify_set(self, group_id: str, op: int, code: int, what: str, wait: bool = True, **params) -> None:
        self._call("ModifySynchronizedSet", SCS, code, what=f"{what} consistency group {group_id}", wait=wait,
                   Operation=Uint16(op), SynchronizedSet=self._group_path(group_id), **params)

    def add_to_group(self, group_id: str, map_id: str) -> None:
        self._modify_set(group_id, SET_ADD, E.ATTACH_FAILED, f"adding mapping {map_id} to",
                         Synchronization=self._map_path(map_id))

    def prepare_group(self, group_id: str) -> None:
        self._modify_set(group_id, OP_PREPARE, E.WITHDRAW_FAILED, "preparing", wait=False)
        self._until_prepared(self._group_paths[group_id], "Status", f"preparing consistency group {group_id}",
                             E.WITHDRAW_FAILED)

    def start_group(self, group_id: str) -> None:
        self._modify_set(group_id, OP_RESYNC, E.WITHDRAW_FAILED, "starting")

    def delete_group(self, group_id: str, *, force: bool = False) -> None:
        self._call("DeleteSynchronizedSet", SCS, E.WITHDRAW_FAILED, what=f"deleting consistency group {group_id}",
                   Set=self._group_path(group_id), Force=force)
        self._group_paths.pop(group_id, None)


def _sync_state(inst) -> str:
    value = _int(inst, "SyncState")
    if value not in SYNC_STATES:
        raise _bad(inst, "SyncState", f"has an unknown mapping state {value} in")
    return SYNC_STATES[value]


def _group_state(inst) -> str:
    value = _int(inst, "Status")
    if value not in GROUP_STATES:
        raise _bad(inst, "Status", f"has an unknown group status {value} in")
    return GROUP_STATES[value]
