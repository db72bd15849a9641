"""Hosts: each SVC host object is one StorageHardwareID (its ports) and one
ProtocolController (its view of mapped volumes). Methods create and delete them."""
from __future__ import annotations

from pywbem import CIMInstanceName

from .. import naming as N
from .. import returncodes as rc
from ..array import Array, normalise_port
from ..returncodes import ArrayError
from .base import AssociationProvider, Provider, make_instance
from .params import opt_bool, req_ref

ID_PORT_WWN, ID_ISCSI_NAME = 2, 5


def _host_rows(a: Array):
    return a.db.execute("SELECT * FROM hosts ORDER BY id").fetchall()


def _hosts_where(a: Array, prop: str, values: list):
    """Host rows whose name (any case, as queries compare) or one of whose ports is one
    of values; None when prop is not one of those (the caller scans)."""
    if prop in ("elementname", "name"):
        keys = sorted({str(v).lower() for v in values})
        sql = "SELECT * FROM hosts WHERE lower(name) IN ({}) ORDER BY id"
    elif prop in ("portwwn", "iscsiname"):
        keys = []
        for v in values:
            try:
                keys.append(normalise_port(str(v))[0])
            except ArrayError:        # not a port: matches no host
                pass
        sql = ("SELECT DISTINCT h.* FROM hosts h JOIN host_ports p ON p.host_id=h.id "
               "WHERE p.port IN ({}) ORDER BY h.id")
    else:
        return None
    rows = []
    for i in range(0, len(keys), 500):  # SQLite's bound-parameter limit
        chunk = keys[i:i + 500]
        rows += a.db.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows


def hardware_id_path(a: Array, host_id: int):
    ports = a.host_ports(host_id)
    return a.naming.hardware_id(host_id, ports[0] if ports else "")


class HardwareIDProvider(Provider):
    classname = N.HARDWARE_ID

    def inst(self, a: Array, row):
        ports = a.host_ports(row["id"])
        fc = row["port_type"] == "fc"
        return make_instance(a, hardware_id_path(a, row["id"]), {
            "ElementName": row["name"], "StorageID": f"{a.identity.cluster_id}:{row['id']}",
            "IDType": ID_PORT_WWN if fc else ID_ISCSI_NAME, "HostID": str(row["id"]),
            "PortWWN": ports if fc else [], "iSCSIName": [] if fc else ports,
            "NumberOfPorts": len(ports), "ClientType": 0})

    def enumerate(self, a: Array):
        for row in _host_rows(a):
            yield self.inst(a, row)

    def lookup(self, a: Array, prop, values):
        # ElementName is the host's name; PortWWN / iSCSIName hold its ports
        rows = _hosts_where(a, prop, values) if prop in ("elementname", "portwwn", "iscsiname") else None
        return None if rows is None else [self.inst(a, row) for row in rows]

    def get(self, a: Array, path):
        row = a.row("hosts", "id", a.naming.host_id_of_hardware_id(path))
        # the key names the host's first port: a path from before its ports changed is stale
        if row is None or hardware_id_path(a, row["id"]).keybindings != path.keybindings:
            return None
        return self.inst(a, row)


class ControllerProvider(Provider):
    classname = N.CONTROLLER

    def inst(self, a: Array, row):
        # values as in a real 8.2.1 cluster's dump (MaxUnitsControlled 1 included)
        return make_instance(a, a.naming.controller(row["id"]), {
            "ElementName": row["name"], "Name": row["name"], "AccessGranted": True,
            "ConnectionRole": [2], "ClientType": 0, "MaxUnitsControlled": 1, "NameFormat": 0,
            "OperationalStatus": [2], "StatusDescriptions": ["Unknown"],
            "EnabledState": 5, "RequestedState": 5, "EnabledDefault": 2})

    def enumerate(self, a: Array):
        for row in _host_rows(a):
            yield self.inst(a, row)

    def lookup(self, a: Array, prop, values):
        # ElementName and Name are both the host's name
        rows = _hosts_where(a, prop, values) if prop in ("elementname", "name") else None
        return None if rows is None else [self.inst(a, row) for row in rows]

    def get(self, a: Array, path):
        row = a.row("hosts", "id", a.naming.host_id_of_controller(path))
        return self.inst(a, row) if row else None


class _PerHost(AssociationProvider):
    """An association with exactly one instance per host."""
    left_role = right_role = ""

    def ends(self, a: Array, host_id: int) -> tuple[CIMInstanceName, CIMInstanceName]:
        raise NotImplementedError

    def host_of(self, a: Array, role: str, path: CIMInstanceName) -> list[int]:
        raise NotImplementedError

    def _inst(self, a: Array, host_id: int):
        left, right = self.ends(a, host_id)
        path = CIMInstanceName(self.classname, namespace=a.namespace,
                               keybindings={self.left_role: left, self.right_role: right})
        return make_instance(a, path, {})

    def enumerate(self, a: Array):
        for row in _host_rows(a):
            yield self._inst(a, row["id"])

    def references(self, a: Array, path, role):
        for r in self.roles_for(a, path, role):
            for host_id in self.host_of(a, r, path):
                if a.row("hosts", "id", host_id):
                    yield self._inst(a, host_id)


class HardwareIDControllerProvider(_PerHost):
    classname = "IBMTSSVC_StorageHardwareIDToSPC"
    roles = {"Antecedent": N.HARDWARE_ID, "Dependent": N.CONTROLLER}
    left_role, right_role = "Antecedent", "Dependent"

    def ends(self, a, host_id):
        return hardware_id_path(a, host_id), a.naming.controller(host_id)

    def host_of(self, a, role, path):
        if role == "Antecedent":
            return [a.naming.host_id_of_hardware_id(path)]
        return [a.naming.host_id_of_controller(path)]


class ClusterControllerProvider(_PerHost):
    classname = "IBMTSSVC_ProtocolControllerOnCluster"
    roles = {"GroupComponent": N.CLUSTER, "PartComponent": N.CONTROLLER}
    left_role, right_role = "GroupComponent", "PartComponent"

    def ends(self, a, host_id):
        return a.naming.cluster(), a.naming.controller(host_id)

    def host_of(self, a, role, path):
        if role == "GroupComponent":
            if path.keybindings != a.naming.cluster().keybindings:
                return []
            return [r["id"] for r in _host_rows(a)]
        return [a.naming.host_id_of_controller(path)]


# ------------------------------------------------------------------ methods
def create_storage_hardware_id(a: Array, target, params):
    storage_id = params.get("StorageID")
    if not storage_id:
        raise ArrayError(rc.INVALID_PARAMETER, "StorageID (WWPN or IQN) is required")
    id_type = params.get("IDType")
    # Several ports of one host may be given at once, separated by ':' between whole
    # WWPNs (16 hex digits each) -- IQNs contain ':' themselves, so they come alone.
    if id_type is not None and int(id_type) not in (ID_PORT_WWN, ID_ISCSI_NAME):
        raise ArrayError(rc.INVALID_IDTYPE, f"IDType {id_type} is not 2 (PortWWN) or 5 (iSCSI name)")
    if id_type is not None and int(id_type) == ID_PORT_WWN:
        parts = storage_id.split(":")
        ports = parts if all(len(p) == 16 for p in parts) else [storage_id]
    else:
        ports = [storage_id]
    validate = True if params.get("Validate") is None else bool(params["Validate"])
    host_id = a.create_host(params.get("ElementName"), ports, validate=validate)
    kind = a.host(host_id)["port_type"]
    if id_type is not None and (int(id_type) == ID_PORT_WWN) != (kind == "fc"):
        raise ArrayError(rc.INVALID_IDTYPE, f"IDType {id_type} does not match port {storage_id!r}")
    return rc.OK, {"HardwareID": hardware_id_path(a, host_id)}


def delete_storage_hardware_id(a: Array, target, params):
    path = req_ref(params, "HardwareID")
    host_id = a.naming.host_id_of_hardware_id(path)
    a.host(host_id)
    if hardware_id_path(a, host_id).keybindings != path.keybindings:
        raise ArrayError(rc.INVALID_PARAMETER, f"{path.keybindings['InstanceID']!r} names no host's ports")
    a.delete_host(host_id, force=opt_bool(params, "Force"))
    return rc.OK, {}


PROVIDERS = [HardwareIDProvider(), ControllerProvider(), HardwareIDControllerProvider(),
             ClusterControllerProvider()]
METHODS = {
    (N.HWS, "CreateStorageHardwareID"): create_storage_hardware_id,
    (N.HWS, "DeleteStorageHardwareID"): delete_storage_hardware_id,
}
