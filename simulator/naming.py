"""Instance paths of the array's objects, and the way back from a path to a row id.

Keys follow the SVC-family agent (formats of a real 8.2.1 cluster's dump where it
shows them, else the 6.4 MOF's descriptions): the cluster is "<id>:<id>", I/O groups
and pools "<cluster id>:<n>", volumes are keyed by DeviceID (the vdisk id) under their
I/O group, a host's protocol controller by "<cluster id>:<host id>", its hardware id by
"IBMTSSVC:<cluster id>-<host id>-<first port>", sets by InstanceID.
"""
from __future__ import annotations

from pywbem import CIMInstanceName, Uint16

from . import returncodes as rc
from .returncodes import ArrayError

CLUSTER = "IBMTSSVC_Cluster"
IOGROUP = "IBMTSSVC_IOGroup"
POOL = "IBMTSSVC_ConcreteStoragePool"
VOLUME = "IBMTSSVC_StorageVolume"
HARDWARE_ID = "IBMTSSVC_StorageHardwareID"
CONTROLLER = "IBMTSSVC_ProtocolController"
FCMAP = "IBMTSSVC_LocalStorageSynchronized"
FCSET = "IBMTSSVC_FlashCopyStorageSynchronizedSet"
CLONESET = "IBMTSSVC_CloneCopyStorageSynchronizedSet"
JOB = "IBMTSSVC_FlashCopyJob"
SCS = "IBMTSSVC_StorageConfigurationService"
CCS = "IBMTSSVC_ControllerConfigurationService"
HWS = "IBMTSSVC_StorageHardwareIDManagementService"
SERVICES = {SCS: "StorageConfigurationService", CCS: "ControllerConfigurationService",
            HWS: "StorageHardwareIDManagementService"}



NO_OBJECT = -1      # ids start at 0: a lookup by this id finds nothing


def object_id(text: str) -> int | None:
    """An object id from its decimal digits, None when text is not digits only. A number
    beyond SQLite's 64-bit integers (a 32-digit volume UID read as an id) names no object
    instead of failing the request."""
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text) if len(text) <= 18 else NO_OBJECT

class Naming:
    def __init__(self, cluster_id: str, namespace: str):
        self.cid = cluster_id
        self.ns = namespace

    def _path(self, classname: str, keys: dict) -> CIMInstanceName:
        return CIMInstanceName(classname, keybindings=keys, namespace=self.ns)

    @property
    def cluster_name(self) -> str:
        """The cluster's Name key, which is also the SystemName of what it hosts."""
        return f"{self.cid}:{self.cid}"

    def cluster(self) -> CIMInstanceName:
        return self._path(CLUSTER, {"CreationClassName": CLUSTER, "Name": self.cluster_name})

    def iogroup(self, iogrp_id: int) -> CIMInstanceName:
        return self._path(IOGROUP, {"CreationClassName": IOGROUP, "Name": f"{self.cid}:{iogrp_id}"})

    def pool(self, pool_id: int) -> CIMInstanceName:
        return self._path(POOL, {"InstanceID": f"{self.cid}:{pool_id}"})

    def volume(self, vol_id: int, iogrp_id: int) -> CIMInstanceName:
        return self._path(VOLUME, {"CreationClassName": VOLUME, "DeviceID": str(vol_id),
                                   "SystemCreationClassName": IOGROUP,
                                   "SystemName": f"{self.cid}:{iogrp_id}"})

    def hardware_id(self, host_id: int, first_port: str) -> CIMInstanceName:
        # The MOF's mapping string "ClusterID-hostID-wwpn or iqn" with its IBMTSSVC: org id.
        return self._path(HARDWARE_ID, {"InstanceID": f"IBMTSSVC:{self.cid}-{host_id}-{first_port}"})

    def controller(self, host_id: int) -> CIMInstanceName:
        return self._path(CONTROLLER, {"CreationClassName": CONTROLLER, "DeviceID": f"{self.cid}:{host_id}",
                                       "SystemCreationClassName": CLUSTER,
                                       "SystemName": self.cluster_name})

    def service(self, classname: str) -> CIMInstanceName:
        return self._path(classname, {"CreationClassName": classname, "Name": SERVICES[classname],
                                      "SystemCreationClassName": CLUSTER, "SystemName": self.cluster_name})

    def fcset(self, group_id: int, autodelete: bool) -> CIMInstanceName:
        return self._path(CLONESET if autodelete else FCSET,
                          {"InstanceID": f"{self.cid}:fccg:{group_id}", "CopyType": Uint16(5 if autodelete else 4)})

    def job(self, job_id: int) -> CIMInstanceName:
        return self._path(JOB, {"InstanceID": f"{self.cid}:job:{job_id}"})

    # ------------------------------------------------------------ path -> id
    @staticmethod
    def _key(path: CIMInstanceName, key: str) -> str:
        for k, v in path.keybindings.items():
            if k.lower() == key.lower():
                return v if isinstance(v, CIMInstanceName) else str(v)
        raise ArrayError(rc.INVALID_PARAMETER, f"path {path} lacks key {key}")

    def _suffix_id(self, path: CIMInstanceName, key: str, prefix: str) -> int:
        value = self._key(path, key)
        if not value.startswith(prefix):
            raise ArrayError(rc.INVALID_PARAMETER, f"{key}={value!r} does not belong to this array")
        found = object_id(value[len(prefix):])
        if found is None:
            raise ArrayError(rc.INVALID_PARAMETER, f"{key}={value!r} is malformed")
        return found

    def volume_id(self, path: CIMInstanceName) -> int:
        value = self._key(path, "DeviceID")
        found = object_id(value)
        if found is None:
            raise ArrayError(rc.INVALID_PARAMETER, f"DeviceID={value!r} is not a volume id")
        return found

    def host_id_of_controller(self, path: CIMInstanceName) -> int:
        return self._suffix_id(path, "DeviceID", f"{self.cid}:")

    def host_id_of_hardware_id(self, path: CIMInstanceName) -> int:
        """The host id in the key; the caller compares the whole key (its port part
        changes with the host's ports)."""
        value = self._key(path, "InstanceID")
        prefix = f"IBMTSSVC:{self.cid}-"
        host, sep, _port = value[len(prefix):].partition("-")
        if not value.startswith(prefix) or not sep or not host.isdigit():
            raise ArrayError(rc.INVALID_PARAMETER, f"InstanceID={value!r} is not a hardware id of this array")
        return int(host)

    def pool_id(self, path: CIMInstanceName) -> int:
        return self._suffix_id(path, "InstanceID", f"{self.cid}:")

    def iogroup_id(self, path: CIMInstanceName) -> int:
        return self._suffix_id(path, "Name", f"{self.cid}:")

    def group_id(self, path: CIMInstanceName) -> int:
        return self._suffix_id(path, "InstanceID", f"{self.cid}:fccg:")

    def job_id(self, path: CIMInstanceName) -> int:
        return self._suffix_id(path, "InstanceID", f"{self.cid}:job:")

    def fcmap_ends(self, path: CIMInstanceName) -> tuple[int, int]:
        src = self._key(path, "SystemElement")
        tgt = self._key(path, "SyncedElement")
        if not isinstance(src, CIMInstanceName) or not isinstance(tgt, CIMInstanceName):
            raise ArrayError(rc.INVALID_PARAMETER, "a mapping path needs SystemElement and SyncedElement references")
        return self.volume_id(src), self.volume_id(tgt)
