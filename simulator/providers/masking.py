"""Volume-to-host mappings (SystemVolumeController, DeviceNumber = SCSI LUN id) and
the masking methods: ExposePaths/HidePaths for several volumes in one call,
AttachDevice/DetachDevice for one."""
from __future__ import annotations

from pywbem import CIMInstanceName

from .. import naming as N
from .. import returncodes as rc
from ..array import Array, normalise_port
from ..returncodes import ArrayError
from .base import AssociationProvider, make_instance
from .params import opt_bool, opt_list, req_ref

READ_WRITE = 2


class MappingProvider(AssociationProvider):
    classname = "IBMTSSVC_SystemVolumeController"
    roles = {"Antecedent": N.CONTROLLER, "Dependent": N.VOLUME}
    _SELECT = ("SELECT m.host_id, m.volume_id, m.scsi_id, v.uid, v.iogrp_id "
               "FROM host_mappings m JOIN volumes v ON v.id=m.volume_id ")

    def _inst(self, a: Array, row):
        path = CIMInstanceName(self.classname, namespace=a.namespace, keybindings={
            "Antecedent": a.naming.controller(row["host_id"]),
            "Dependent": a.naming.volume(row["volume_id"], row["iogrp_id"])})
        return make_instance(a, path, {"DeviceNumber": str(row["scsi_id"]), "DeviceAccess": READ_WRITE,
                                       "UniqueID": row["uid"]})

    def enumerate(self, a: Array):
        for row in a.db.execute(self._SELECT + "ORDER BY m.host_id, m.scsi_id").fetchall():
            yield self._inst(a, row)

    def lookup(self, a: Array, prop, values):
        # UniqueID is the mapped volume's UID
        if prop != "uniqueid":
            return None
        keys = sorted({str(v).strip().upper() for v in values})
        rows = []
        for i in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[i:i + 500]
            rows += a.db.execute(self._SELECT + f"WHERE v.uid IN ({','.join('?' * len(chunk))}) "
                                 "ORDER BY m.host_id, m.scsi_id", chunk).fetchall()
        return [self._inst(a, row) for row in rows]

    def references(self, a: Array, path, role):
        for r in self.roles_for(a, path, role):
            if r == "Antecedent":
                rows = a.db.execute(self._SELECT + "WHERE m.host_id=? ORDER BY m.scsi_id",
                                    (a.naming.host_id_of_controller(path),))
            else:
                rows = a.db.execute(self._SELECT + "WHERE m.volume_id=? ORDER BY m.host_id",
                                    (a.naming.volume_id(path),))
            for row in rows.fetchall():
                yield self._inst(a, row)


def _volumes_by_uid(a: Array, lunames: list[str]) -> list[int]:
    ids = []
    for uid in lunames:
        row = a.volume_by_uid(str(uid))
        if row is None:
            raise ArrayError(rc.INVALID_LU, f"no volume with UID {uid}")
        ids.append(row["id"])
    return ids


def _hosts(a: Array, params) -> list[int]:
    """Hosts named by ProtocolControllers and/or by InitiatorPortIDs, in order, once."""
    hosts: list[int] = []
    for pc in opt_list(params, "ProtocolControllers"):
        host_id = a.naming.host_id_of_controller(pc)
        a.host(host_id)
        hosts.append(host_id)
    for port in opt_list(params, "InitiatorPortIDs"):
        row = a.host_of_port(str(port))
        if row is None:
            raise ArrayError(rc.INVALID_INITIATOR, f"initiator {port} belongs to no host")
        hosts.append(row["id"])
    return list(dict.fromkeys(hosts))


def _single_controller_host(a: Array, params, verb: str) -> int:
    pcs = opt_list(params, "ProtocolControllers")
    if len(pcs) != 1:
        raise ArrayError(rc.INVALID_PARAMETER, f"LUNames is required (or one controller to {verb})")
    return a.naming.host_id_of_controller(pcs[0])


def expose_paths(a: Array, target, params):
    lunames = opt_list(params, "LUNames")
    if not lunames:
        # Ports and one controller but no volumes: add the ports to that host.
        host_id = _single_controller_host(a, params, "add ports to")
        for port in opt_list(params, "InitiatorPortIDs"):
            canon, kind = normalise_port(str(port))
            if kind != a.host(host_id)["port_type"]:
                raise ArrayError(rc.INVALID_INITIATOR, f"port {port} is not of the host's kind")
            owner = a.row("host_ports", "port", canon)
            if owner is not None and owner["host_id"] != host_id:
                raise ArrayError(rc.HARDWARE_ID_EXISTS, f"port {port} belongs to another host")
            a.db.execute("INSERT OR IGNORE INTO host_ports(port, host_id) VALUES(?, ?)", (canon, host_id))
        return rc.OK, {"ProtocolControllers": [a.naming.controller(host_id)]}
    hosts = _hosts(a, params)
    if not hosts:
        raise ArrayError(rc.INVALID_PARAMETER, "ProtocolControllers or InitiatorPortIDs is required")
    vol_ids = _volumes_by_uid(a, lunames)
    numbers = opt_list(params, "DeviceNumbers")
    if numbers and len(numbers) != len(vol_ids):
        raise ArrayError(rc.INVALID_PARAMETER, "DeviceNumbers must match LUNames one to one")
    for access in opt_list(params, "DeviceAccesses"):
        if int(access) != READ_WRITE:
            raise ArrayError(rc.INVALID_PARAMETER, "only DeviceAccess 2 (Read Write) is supported")
    force = opt_bool(params, "Force")
    for host_id in hosts:
        for i, vol_id in enumerate(vol_ids):
            scsi = _device_number(numbers[i]) if numbers else None
            # Several hosts named in one call share the volume on purpose.
            a.map_volume(host_id, vol_id, scsi, force=force or host_id != hosts[0])
    return rc.OK, {"ProtocolControllers": [a.naming.controller(h) for h in hosts]}


def hide_paths(a: Array, target, params):
    lunames = opt_list(params, "LUNames")
    if not lunames:
        host_id = _single_controller_host(a, params, "remove ports from")
        for port in opt_list(params, "InitiatorPortIDs"):
            a.db.execute("DELETE FROM host_ports WHERE port=? AND host_id=?",
                         (normalise_port(str(port))[0], host_id))
        return rc.OK, {"ProtocolControllers": [a.naming.controller(host_id)]}
    hosts = _hosts(a, params)
    if not hosts:
        raise ArrayError(rc.INVALID_PARAMETER, "ProtocolControllers or InitiatorPortIDs is required")
    vol_ids = _volumes_by_uid(a, lunames)
    for host_id in hosts:
        for vol_id in vol_ids:
            a.unmap_volume(host_id, vol_id)
    return rc.OK, {"ProtocolControllers": [a.naming.controller(h) for h in hosts]}


def _device_number(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value), 0)
    except ValueError:
        raise ArrayError(rc.INVALID_PARAMETER, f"DeviceNumber {value!r} is not a number") from None


def attach_device(a: Array, target, params):
    host_id = a.naming.host_id_of_controller(req_ref(params, "ProtocolController"))
    vol_id = a.naming.volume_id(req_ref(params, "Device"))
    scsi = a.map_volume(host_id, vol_id, _device_number(params.get("DeviceNumber")),
                        force=opt_bool(params, "Force"))
    return rc.OK, {"DeviceNumber": str(scsi)}


def detach_device(a: Array, target, params):
    host_id = a.naming.host_id_of_controller(req_ref(params, "ProtocolController"))
    a.unmap_volume(host_id, a.naming.volume_id(req_ref(params, "Device")))
    return rc.OK, {}


PROVIDERS = [MappingProvider()]
METHODS = {
    (N.CCS, "ExposePaths"): expose_paths,
    (N.CCS, "HidePaths"): hide_paths,
    (N.CCS, "AttachDevice"): attach_device,
    (N.CCS, "DetachDevice"): detach_device,
}
