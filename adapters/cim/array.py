"""The array over SMI-S (CIM-XML) with pywbem: one method per array operation.

Implements states.ports.ArrayPort for the SVC-family CIM agent (IBMTSSVC_* classes, see
../shared/reference/smis-cim.md). Thin on purpose: no business rules, just the CIM
calls, typed parameters, job polling and the translation of failures into
ArrayCallError with the manual's codes.

Requests: every request sent is counted in `requests` (retries included). Reads are
retried on transient transport failures; methods are not: a method whose connection
dropped after sending raises OutcomeUnknown and the caller reads the array.

Paths of objects the adapter has seen are cached so that later calls need no lookup
(a volume's path holds its I/O group, which only the array knows).
"""
from __future__ import annotations

import os
import time
from typing import Callable, Iterable, Sequence

import pywbem
import structlog
from pywbem import CIMInstanceName, Uint16, Uint64
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from adapters.cim.model import (COPYING, EMPTY_GROUP, IDLE, PREPARED, PREPARING, STOPPED, STOPPING,
                                ArrayCallError, AttachRefused, FcMap, Group, Host, Identity,
                                OutcomeUnknown, Volume)

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

# ModifySynchronization / ModifySynchronizedSet operations
OP_DETACH, OP_RESYNC, OP_PREPARE, OP_QUIESCE, SET_ADD = 2, 4, 6, 8, 0
COPYTYPE_FLASHCOPY = 4
ELEMENT_VOLUME, ELEMENT_THIN, ELEMENT_THIN_COMPRESSED = 2, 5, 8
JOB_STARTED = 4096
JOB_DONE, JOB_FAILED = 7, 10
RC_TAKEN, RC_ALREADY_EXPOSED, RC_NOT_EXPOSED = 32816, 4101, 4100
OPERATIONAL_OK = 2

# SynchronizedSet Status -> the group state in SVC words
GROUP_STATES = {0x1000: EMPTY_GROUP, 11: IDLE, 3: PREPARING, 4: PREPARED, 5: COPYING,
                0x8002: STOPPING, 0x8001: STOPPED}
SYNC_STATES = {"idle_or_copied", "preparing", "prepared", "copying", "stopping", "stopped"}

CRASH_ENV = "VSSORCH_CRASH_AT"


def _not_sent(exc: BaseException) -> bool:
    """A transport failure that happened before the request reached the agent."""
    text = str(exc).lower()
    return isinstance(exc, pywbem.ConnectionError) and any(
        w in text for w in ("refused", "failed to establish", "name or service", "reset by peer"))


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, (pywbem.ConnectionError, pywbem.TimeoutError)) and not _tls_failure(exc)


def _tls_failure(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "certificate" in text or "ssl" in text


def _wanted(inst, name: str, kind: type = str):
    """A property the reply must have, with the expected type (911 otherwise)."""
    value = inst.get(name) if hasattr(inst, "get") else None
    if value is None:
        raise ArrayCallError(911, f"the CIM agent's {inst.classname} lacks {name}")
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            raise TypeError
        if kind is int:
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        raise ArrayCallError(911, f"the CIM agent's {inst.classname}.{name} is not {kind.__name__}: "
                                  f"{str(value)[:60]!r}") from None


def _flag(inst, name: str) -> bool:
    value = inst.get(name)
    return bool(value) if isinstance(value, bool) else False


def _key(path: CIMInstanceName, name: str) -> str:
    for k, v in path.keybindings.items():
        if k.lower() == name.lower():
            return str(v)
    raise ArrayCallError(911, f"a {path.classname} path lacks {name}")


class CimArray:
    def __init__(self, conn: pywbem.WBEMConnection, *, target_mcs: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, poll_s: float = 0.1,
                 job_timeout_s: float = 600.0):
        self.conn = conn
        self.requests = 0
        self.target_mcs = target_mcs
        self._sleep, self._poll_s, self._job_timeout_s = sleep, poll_s, job_timeout_s
        self._identity: Identity | None = None
        self._services: dict[str, CIMInstanceName] = {}
        self._vol_paths: dict[str, CIMInstanceName] = {}
        self._vol_uids: dict[str, str] = {}
        self._map_paths: dict[str, CIMInstanceName] = {}
        self._group_paths: dict[str, CIMInstanceName] = {}
        self._controllers: dict[str, CIMInstanceName] = {}
        self._pools: dict[str, CIMInstanceName] = {}
        self._iogroups: dict[str, CIMInstanceName] = {}

    @classmethod
    def connect(cls, host: str, port: int, *, ssl: bool, ca_file: str | None, username: str,
                password: str, namespace: str, timeout_ms: int = 0, target_mcs: str | None = None,
                verify: bool = True) -> "CimArray":
        url = f"{'https' if ssl else 'http'}://{host}:{port}"
        conn = pywbem.WBEMConnection(url, (username, password), default_namespace=namespace,
                                     ca_certs=ca_file or None, no_verification=not verify,
                                     timeout=(timeout_ms / 1000.0) if timeout_ms else None)
        # requests would let REQUESTS_CA_BUNDLE replace the CA file given here
        conn.session.trust_env = False
        return cls(conn, target_mcs=target_mcs)

    def __repr__(self) -> str:
        return f"CimArray({self.conn.url})"

    # ------------------------------------------------------------ transport
    def _translate(self, exc: BaseException, what: str) -> ArrayCallError:
        if isinstance(exc, ArrayCallError):
            return exc
        if isinstance(exc, pywbem.AuthError):
            return ArrayCallError(5, f"{self.conn.url} refused the user name or password")
        if isinstance(exc, (pywbem.ConnectionError, pywbem.TimeoutError)):
            reason = " ".join(str(exc).split())[:200]
            return ArrayCallError(3002, f"{what}: cannot talk to {self.conn.url}: {reason}")
        if isinstance(exc, pywbem.CIMError):
            return ArrayCallError(911, f"{what}: {exc.status_code_name} {exc.status_description}")
        if isinstance(exc, pywbem.Error):
            return ArrayCallError(911, f"{what}: bad reply: {' '.join(str(exc).split())[:200]}")
        return ArrayCallError(911, f"{what}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")

    def _read(self, op: str, *args, **kw):
        """An intrinsic read: safe to repeat, so transient failures are retried."""
        @retry(retry=retry_if_exception(_transient), stop=stop_after_attempt(3),
               wait=wait_exponential(multiplier=0.2, max=2), reraise=True)
        def attempt():
            self.requests += 1
            return getattr(self.conn, op)(*args, **kw)

        try:
            return attempt()
        except Exception as exc:  # noqa: BLE001 - every failure leaves as a typed error
            raise self._translate(exc, op) from None

    def _get(self, path: CIMInstanceName):
        """GetInstance; None when the object is gone."""
        try:
            return self._read("GetInstance", path)
        except ArrayCallError as exc:
            if "CIM_ERR_NOT_FOUND" in exc.detail:
                return None
            raise

    def _invoke(self, method: str, service: str, code: int, accept: Iterable[int] = (), **params):
        """InvokeMethod on a service; returns (rc, out). A return code outside 0/accept
        raises ArrayCallError(code); the CIM return code is kept on it."""
        target = self._service(service)
        if os.environ.get(CRASH_ENV) == f"cim:{method}:before":
            os._exit(86)
        for attempt in range(3):
            self.requests += 1
            try:
                rc, out = self.conn.InvokeMethod(method, target, **params)
                break
            except Exception as exc:  # noqa: BLE001
                if _not_sent(exc) and attempt < 2:
                    self._sleep(0.2 * (attempt + 1))
                    continue
                if _transient(exc) and not _tls_failure(exc):
                    raise OutcomeUnknown(911, f"{method}: no answer from {self.conn.url}; "
                                              "the array is read to learn the outcome") from None
                raise self._translate(exc, method) from None
        if os.environ.get(CRASH_ENV) == f"cim:{method}:after":
            os._exit(86)
        rc = int(rc)
        if rc not in (0, JOB_STARTED, *accept):
            raise ArrayCallError(code, f"{method} returned {rc}", rc)
        log.debug("cim method", method=method, rc=rc)
        return rc, out

    def _service(self, classname: str) -> CIMInstanceName:
        if classname not in self._services:
            names = self._read("EnumerateInstanceNames", classname)
            if not names:
                raise ArrayCallError(3003, f"the CIM agent has no {classname}")
            self._services[classname] = names[0]
        return self._services[classname]

    def _wait_job(self, out, what: str, code: int) -> None:
        job = out.get("Job") if out else None
        if job is None:
            return
        deadline = time.monotonic() + self._job_timeout_s
        while True:
            inst = self._get(job)
            if inst is None:
                return       # jobs that delete themselves on completion
            state = _wanted(inst, "JobState", int)
            if state == JOB_DONE:
                return
            if state == JOB_FAILED or state > JOB_DONE:
                detail = inst.get("ErrorDescription") or f"job state {state}"
                raise ArrayCallError(code, f"{what}: {detail}")
            if time.monotonic() > deadline:
                raise ArrayCallError(code, f"{what}: the job did not finish in {self._job_timeout_s:.0f} s")
            self._sleep(self._poll_s)

    # ------------------------------------------------------------ identity
    def identity(self) -> Identity:
        if self._identity is None:
            clusters = self._read("EnumerateInstances", CLUSTER)
            if self.target_mcs:
                clusters = [c for c in clusters if str(c.path.keybindings.get("Name")) == self.target_mcs]
                if not clusters:
                    raise ArrayCallError(702, f"the CIM agent manages no cluster with id {self.target_mcs}")
            if not clusters:
                raise ArrayCallError(911, "the CIM agent reports no cluster")
            c = clusters[0]
            self._identity = Identity(cluster_id=_key(c.path, "Name"), cluster_name=_wanted(c, "ElementName"),
                                      product=str(c.get("ProductName") or ""), version=str(c.get("CodeLevel") or ""))
        return self._identity

    # ------------------------------------------------------------ volumes
    _VOL_PROPS = ["ElementName", "Name", "NumberOfBlocks", "BlockSize", "PoolName", "GroupName",
                  "IsSpaceEfficient", "Compressed", "Deduplicated", "OperationalStatus"]

    def _volume(self, inst) -> Volume:
        vol_id = _key(inst.path, "DeviceID")
        uid = _wanted(inst, "Name").upper()
        self._vol_paths[vol_id] = inst.path
        self._vol_uids[vol_id] = uid
        status = inst.get("OperationalStatus") or []
        return Volume(id=vol_id, uid=uid, name=_wanted(inst, "ElementName"),
                      size=_wanted(inst, "NumberOfBlocks", int) * int(inst.get("BlockSize") or 1),
                      pool=str(inst.get("PoolName") or ""), iogroup=str(inst.get("GroupName") or ""),
                      thin=_flag(inst, "IsSpaceEfficient"), compressed=_flag(inst, "Compressed"),
                      deduped=_flag(inst, "Deduplicated"),
                      online=OPERATIONAL_OK in [int(s) for s in status])

    def _all_volumes(self) -> list[Volume]:
        return [self._volume(i) for i in self._read("EnumerateInstances", VOLUME, PropertyList=self._VOL_PROPS)]

    def volumes_by_uid(self, uids: Sequence[str]) -> dict[str, Volume]:
        wanted = {u.upper() for u in uids}
        return {v.uid: v for v in self._all_volumes() if v.uid in wanted}

    def volumes_named(self, prefix: str) -> list[Volume]:
        return [v for v in self._all_volumes() if v.name.startswith(prefix)]

    def _vol_path(self, volume_id: str) -> CIMInstanceName:
        if volume_id not in self._vol_paths:
            for path in self._read("EnumerateInstanceNames", VOLUME):
                self._vol_paths.setdefault(_key(path, "DeviceID"), path)
        if volume_id not in self._vol_paths:
            raise ArrayCallError(201, f"the array has no volume {volume_id}")
        return self._vol_paths[volume_id]

    def _uid(self, volume_id: str) -> str:
        if volume_id not in self._vol_uids:
            vol = self.volume(volume_id)
            if vol is None:
                raise ArrayCallError(201, f"the array has no volume {volume_id}")
        return self._vol_uids[volume_id]

    def volume(self, volume_id: str) -> Volume | None:
        try:
            path = self._vol_path(volume_id)
        except ArrayCallError as exc:
            if exc.code == 201:
                return None
            raise
        inst = self._get(path)
        if inst is None:
            self._vol_paths.pop(volume_id, None)
            return None
        return self._volume(inst)

    def _named_path(self, cache: dict, classname: str, name: str, code: int) -> CIMInstanceName:
        if name not in cache:
            for inst in self._read("EnumerateInstances", classname, PropertyList=["ElementName"]):
                cache[str(inst.get("ElementName"))] = inst.path
        if name not in cache:
            raise ArrayCallError(code, f"the array has no {classname.split('_')[-1]} named {name!r}")
        return cache[name]

    def create_volume(self, name: str, size: int, pool: str, iogroup: str | None, *,
                      thin: bool, compressed: bool, deduped: bool) -> Volume:
        params = {"ElementName": name, "Size": Uint64(size),
                  "ElementType": Uint16(ELEMENT_THIN_COMPRESSED if thin and compressed
                                        else ELEMENT_THIN if thin else ELEMENT_VOLUME),
                  "InPool": self._named_path(self._pools, POOL, pool, 3007),
                  "isSpaceEfficient": thin, "Deduplicated": deduped}
        if iogroup:
            params["IOGroup"] = self._named_path(self._iogroups, IOGROUP, iogroup, 3007)
        _, out = self._invoke("CreateOrModifyElementFromStoragePool", SCS, 3007, **params)
        inst = self._get(out["TheElement"])
        if inst is None:
            raise ArrayCallError(911, f"the new volume {name} cannot be read back")
        return self._volume(inst)

    def delete_volume(self, volume_id: str) -> None:
        self._invoke("ReturnToStoragePool", SCS, 4001, TheElement=self._vol_path(volume_id))
        self._vol_paths.pop(volume_id, None)

    # ------------------------------------------------------------ hosts
    @staticmethod
    def _host(inst) -> Host:
        return Host(id=_wanted(inst, "HostID"), name=_wanted(inst, "ElementName"),
                    wwpns=tuple(str(p).upper() for p in inst.get("PortWWN") or ()),
                    iqns=tuple(str(p).lower() for p in inst.get("iSCSIName") or ()))

    def hosts(self) -> list[Host]:
        return [self._host(i) for i in self._read("EnumerateInstances", HARDWARE_ID)]

    def host_named(self, name: str) -> Host | None:
        return next((h for h in self.hosts() if h.name == name), None)

    def host_with_initiator(self, initiator: str) -> Host | None:
        port = initiator.strip()
        wwpn = port.replace(":", "").upper()
        return next((h for h in self.hosts() if wwpn in h.wwpns or port.lower() in h.iqns), None)

    def _controller(self, host_id: str) -> CIMInstanceName:
        if host_id not in self._controllers:
            for path in self._read("EnumerateInstanceNames", CONTROLLER):
                self._controllers[_key(path, "DeviceID").rsplit(":", 1)[-1]] = path
        if host_id not in self._controllers:
            raise ArrayCallError(200, f"the array has no host {host_id}")
        return self._controllers[host_id]

    def host_volumes(self, host_id: str) -> list[Volume]:
        insts = self._read("Associators", self._controller(host_id), AssocClass="CIM_ProtocolControllerForUnit",
                           ResultClass="CIM_StorageVolume", PropertyList=self._VOL_PROPS)
        return [self._volume(i) for i in insts]

    def volume_hosts(self, volume_id: str) -> list[Host]:
        insts = self._read("Associators", self._vol_path(volume_id), AssocClass="CIM_ProtocolControllerForUnit",
                           ResultClass="CIM_ProtocolController")
        return [Host(id=_key(i.path, "DeviceID").rsplit(":", 1)[-1], name=_wanted(i, "ElementName"))
                for i in insts]

    def _paths_call(self, method: str, host_id: str, volume_ids: Sequence[str], skip_rc: int) -> None:
        if not volume_ids:
            return
        pc = self._controller(host_id)
        lunames = [self._uid(v) for v in volume_ids]
        extra = {"Force": True} if method == "ExposePaths" else {}
        rc, _ = self._invoke(method, CCS, 3008, accept=(skip_rc,), LUNames=lunames,
                             ProtocolControllers=[pc], **extra)
        if rc == skip_rc:
            # some were already (un)mapped: the call changed nothing; redo it for the rest
            mapped = {v.id for v in self.host_volumes(host_id)}
            rest = [v for v in volume_ids if (v in mapped) == (method == "HidePaths")]
            if rest:
                self._invoke(method, CCS, 3008, LUNames=[self._uid(v) for v in rest],
                             ProtocolControllers=[pc], **extra)

    def map_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        # Force: a target is on two hosts for a moment while it moves between them
        self._paths_call("ExposePaths", host_id, volume_ids, RC_ALREADY_EXPOSED)

    def unmap_volumes(self, host_id: str, volume_ids: Sequence[str]) -> None:
        self._paths_call("HidePaths", host_id, volume_ids, RC_NOT_EXPOSED)

    # ------------------------------------------------------------ localcopy
    def _fcmap(self, inst) -> FcMap:
        state = _wanted(inst, "Status")
        if state not in SYNC_STATES:
            raise ArrayCallError(911, f"unknown mapping state {state[:40]!r}")
        map_id = _wanted(inst, "Name")
        self._map_paths[map_id] = inst.path
        group = inst.get("SynchronizedSetID")
        return FcMap(id=map_id, name=_wanted(inst, "ElementName"), source_id=_wanted(inst, "SystemElementID"),
                     target_id=_wanted(inst, "SyncedElementID"), state=state,
                     progress=int(inst.get("Progress") or 0), copy_rate=_wanted(inst, "CopyRate", int),
                     incremental=_flag(inst, "Incremental"), autodelete=int(inst.get("CopyType") or 4) == 5,
                     group_id=str(group) if group is not None else None, restoring=_flag(inst, "Restoring"),
                     dependent_count=int(inst.get("DependentMappingCount") or 0))

    def _all_fcmaps(self) -> list[FcMap]:
        return [self._fcmap(i) for i in self._read("EnumerateInstances", FCMAP)]

    def fcmap(self, map_id: str) -> FcMap | None:
        path = self._map_paths.get(map_id)
        if path is None:
            return next((m for m in self._all_fcmaps() if m.id == map_id), None)
        inst = self._get(path)
        if inst is None or str(inst.get("Name")) != map_id:
            self._map_paths.pop(map_id, None)
            return None if inst is None else next((m for m in self._all_fcmaps() if m.id == map_id), None)
        return self._fcmap(inst)

    def fcmaps_of_volume(self, volume_id: str) -> list[FcMap]:
        insts = self._read("References", self._vol_path(volume_id), ResultClass=FCMAP)
        return [self._fcmap(i) for i in insts]

    def fcmaps_of_volumes(self, volume_ids: Sequence[str]) -> list[FcMap]:
        ids = set(volume_ids)
        return [m for m in self._all_fcmaps() if m.source_id in ids or m.target_id in ids]

    def fcmaps_named(self, prefix: str) -> list[FcMap]:
        return [m for m in self._all_fcmaps() if m.name.startswith(prefix)]

    def _map_path(self, map_id: str) -> CIMInstanceName:
        if map_id not in self._map_paths and self.fcmap(map_id) is None:
            raise ArrayCallError(501, f"the array has no localcopy mapping {map_id}")
        return self._map_paths[map_id]

    def dependent_fcmaps(self, map_id: str) -> list[str]:
        _, out = self._invoke("GetDependentMappingNames", SCS, 501, Mapping=self._map_path(map_id))
        return [str(i) for i in out.get("IDs") or []]

    def attach(self, pairs: Sequence[tuple[str, str, str]], *, copy_rate: int, incremental: bool,
               group_id: str | None) -> list[FcMap]:
        if not pairs:
            raise ArrayCallError(400, "no volume pairs to copy")
        params = {"SourceElements": [self._vol_path(s) for s, _, _ in pairs],
                  "TargetElements": [self._vol_path(t) for _, t, _ in pairs],
                  "ElementNames": [n for _, _, n in pairs], "CopyType": Uint16(COPYTYPE_FLASHCOPY),
                  "BackgroundCopyRate": Uint16(copy_rate), "Incremental": incremental}
        if group_id is not None:
            params["Set"] = self._group_path(group_id)
        target = self._service(SCS)
        self.requests += 1
        try:
            rc, out = self.conn.InvokeMethod("AttachReplicas", target, **params)
        except Exception as exc:  # noqa: BLE001
            if _transient(exc) and not _not_sent(exc):
                raise OutcomeUnknown(911, "AttachReplicas: no answer; read the array by the mappings' names") from None
            raise self._translate(exc, "AttachReplicas") from None
        rc = int(rc)
        if rc != 0:
            values = [int(v) for v in (out or {}).get("ReturnValues") or []]
            refused = {i: v for i, v in enumerate(values) if v}
            if not refused:
                raise ArrayCallError(402, f"AttachReplicas returned {rc}", rc)
            raise AttachRefused(refused, f"AttachReplicas refused pair(s) {sorted(refused)}: "
                                         + ", ".join(f"{pairs[i][1]} rc {v}" for i, v in refused.items()))
        if not (out or {}).get("Synchronizations"):
            raise ArrayCallError(401, "AttachReplicas returned no mappings")
        by_name = {m.name: m for m in self._all_fcmaps()}
        try:
            return [by_name[n] for _, _, n in pairs]
        except KeyError as exc:
            raise ArrayCallError(401, f"mapping {exc.args[0]} is missing after AttachReplicas") from None

    def _modify(self, map_id: str, op: int, code: int, **params) -> None:
        _, out = self._invoke("ModifySynchronization", SCS, code, Operation=Uint16(op),
                              Synchronization=self._map_path(map_id), **params)
        self._wait_job(out, f"mapping {map_id}", code)

    def prepare_fcmap(self, map_id: str, *, restore: bool = False) -> None:
        self._modify(map_id, OP_PREPARE, 720 if restore else 3009, Restore=restore)

    def start_fcmap(self, map_id: str, *, restore: bool = False) -> None:
        self._modify(map_id, OP_RESYNC, 730 if restore else 3009, Restore=restore)

    def stop_fcmap(self, map_id: str, *, stop_dependent: int | None = None, force: bool = False,
                   split: bool = False) -> None:
        extra = {"StopDependentMaps": Uint16(stop_dependent)} if stop_dependent is not None else {}
        self._modify(map_id, OP_QUIESCE, 3009, Force=force, Split=split, **extra)

    def delete_fcmap(self, map_id: str, *, force: bool = False, stop_dependent: int | None = None) -> None:
        extra = {"StopDependentMaps": Uint16(stop_dependent)} if stop_dependent is not None else {}
        self._modify(map_id, OP_DETACH, 3009, Force=force, **extra)
        self._map_paths.pop(map_id, None)

    # ------------------------------------------------------------ groups
    def _group(self, inst) -> Group:
        gid = _wanted(inst, "SetID")
        self._group_paths[gid] = inst.path
        status = _wanted(inst, "Status", int)
        return Group(id=gid, name=_wanted(inst, "ElementName"), state=GROUP_STATES.get(status, str(status)))

    def _group_path(self, group_id: str) -> CIMInstanceName:
        if group_id not in self._group_paths:
            for inst in self._read("EnumerateInstances", FCSET):
                self._group(inst)
        if group_id not in self._group_paths:
            raise ArrayCallError(711, f"the array has no consistency group {group_id}")
        return self._group_paths[group_id]

    def group(self, group_id: str) -> Group | None:
        try:
            path = self._group_path(group_id)
        except ArrayCallError as exc:
            if exc.code == 711:
                return None
            raise
        inst = self._get(path)
        if inst is None:
            self._group_paths.pop(group_id, None)
            return None
        return self._group(inst)

    def groups_named(self, prefix: str) -> list[Group]:
        return [g for g in (self._group(i) for i in self._read("EnumerateInstances", FCSET))
                if g.name.startswith(prefix)]

    def create_group(self, name: str) -> Group:
        _, out = self._invoke("CreateSynchronizedSet", SCS, 402, ElementName=name,
                              CopyType=Uint16(COPYTYPE_FLASHCOPY))
        path = out.get("Set") if out else None
        if path is None:
            raise ArrayCallError(911, "CreateSynchronizedSet returned no set")
        gid = _key(path, "InstanceID").rsplit(":", 1)[-1]
        self._group_paths[gid] = path
        return Group(id=gid, name=name, state=EMPTY_GROUP)

    def _modify_set(self, group_id: str, op: int, code: int, **params) -> None:
        _, out = self._invoke("ModifySynchronizedSet", SCS, code, Operation=Uint16(op),
                              SynchronizedSet=self._group_path(group_id), **params)
        self._wait_job(out, f"consistency group {group_id}", code)

    def add_to_group(self, group_id: str, map_id: str) -> None:
        self._modify_set(group_id, SET_ADD, 402, Synchronization=self._map_path(map_id))

    def prepare_group(self, group_id: str) -> None:
        self._modify_set(group_id, OP_PREPARE, 3009)

    def start_group(self, group_id: str) -> None:
        self._modify_set(group_id, OP_RESYNC, 3009)

    def delete_group(self, group_id: str, *, force: bool = False) -> None:
        self._invoke("DeleteSynchronizedSet", SCS, 3009, Set=self._group_path(group_id), Force=force)
        self._group_paths.pop(group_id, None)
