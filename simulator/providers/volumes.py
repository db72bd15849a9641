"""Storage pools and volumes: their instances, the associations to the cluster and
pool, and the methods that create and delete volumes."""
from __future__ import annotations

from pywbem import CIMInstanceName, Uint64

from .. import naming as N
from .. import returncodes as rc
from ..array import Array
from ..returncodes import ArrayError
from .base import AssociationProvider, Provider, make_instance
from .params import opt_bool, opt_ref, req_ref

OK, OFFLINE = 2, 10  # OperationalStatus: OK / Stopped


def _device_id(value) -> int:
    found = N.object_id(str(value))
    return N.NO_OBJECT if found is None else found


class PoolProvider(Provider):
    classname = N.POOL

    def _inst(self, a: Array, row):
        used = a.pool_used(row["id"])
        virtual = a.db.execute("SELECT COALESCE(SUM(size),0) FROM volumes WHERE pool_id=?", (row["id"],)).fetchone()[0]
        count = a.db.execute("SELECT COUNT(*) FROM volumes WHERE pool_id=?", (row["id"],)).fetchone()[0]
        return make_instance(a, a.naming.pool(row["id"]), {
            "ElementName": row["name"], "Caption": row["name"], "Name": f"IBMTSSVC:{row['id']}",
            "PoolID": str(row["id"]), "Usage": 2, "Primordial": False,
            "TotalManagedSpace": row["capacity"], "RemainingManagedSpace": max(0, row["capacity"] - used),
            "VirtualCapacity": virtual, "UsedCapacity": used, "RealCapacity": used,
            "NumberOfStorageVolumes": count, "OperationalStatus": [OK]})

    def enumerate(self, a: Array):
        for row in a.db.execute("SELECT * FROM pools ORDER BY id").fetchall():
            yield self._inst(a, row)

    def get(self, a: Array, path):
        row = a.row("pools", "id", a.naming.pool_id(path))
        return self._inst(a, row) if row else None


# A volume's row with the names of its pool and I/O group: one query builds an instance.
VOLUME_ROWS = ("SELECT v.*, p.name AS pool_name, g.name AS group_name FROM volumes v "
               "JOIN pools p ON p.id=v.pool_id JOIN iogroups g ON g.id=v.iogrp_id")


def volume_instance(a: Array, row, path: CIMInstanceName | None = None):
    """row: one of VOLUME_ROWS; path: its instance path when the caller built it already."""
    thin = bool(row["space_efficient"])
    # constants as in a real 8.2.1 cluster's dump: Access 3 (read/write), Type 1
    # (striped), EnabledState/RequestedState 5 (not applicable), EnabledDefault 2
    return make_instance(a, path or a.naming.volume(row["id"], row["iogrp_id"]), {
        "ElementName": row["name"], "Caption": row["name"], "Cluster": a.naming.cluster_name,
        "Name": row["uid"], "UniqueID": row["uid"], "NameFormat": 9, "NameNamespace": 2,
        "BlockSize": 1, "NumberOfBlocks": row["size"], "ConsumableBlocks": row["size"],
        "DataOrganization": 2, "Access": 3, "AccessGranted": True, "Primordial": False, "IsFormatted": False,
        "PoolID": str(row["pool_id"]), "PoolName": row["pool_name"],
        "GroupID": str(row["iogrp_id"]), "GroupName": row["group_name"],
        "IsSpaceEfficient": thin, "ThinlyProvisioned": thin,
        "Compressed": bool(row["compressed"]), "Deduplicated": bool(row["deduplicated"]),
        "FlashCopyMapCount": a.engine.mapping_count(row["id"]),
        "CopyCount": 1, "Type": 1,
        "OperationalStatus": [OK] if row["online"] else [OFFLINE],
        "EnabledState": 5, "RequestedState": 5, "EnabledDefault": 2})


class VolumeProvider(Provider):
    classname = N.VOLUME

    def enumerate(self, a: Array):
        for row in a.db.execute(f"{VOLUME_ROWS} ORDER BY v.id").fetchall():
            yield volume_instance(a, row)

    # query property -> (column, how a literal becomes a column value)
    _INDEXED = {"name": ("v.uid", lambda v: str(v).upper()), "uniqueid": ("v.uid", lambda v: str(v).upper()),
                "elementname": ("lower(v.name)", lambda v: str(v).lower()),
                "deviceid": ("v.id", _device_id)}

    def lookup(self, a: Array, prop, values):
        if prop not in self._INDEXED:
            return None
        column, convert = self._INDEXED[prop]
        keys = list(dict.fromkeys(convert(v) for v in values))
        rows = []
        for i in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[i:i + 500]
            rows += a.db.execute(f"{VOLUME_ROWS} WHERE {column} IN ({','.join('?' * len(chunk))})",
                                 chunk).fetchall()
        return [volume_instance(a, row) for row in sorted(rows, key=lambda r: r["id"])]

    def get(self, a: Array, path):
        row = a.db.execute(f"{VOLUME_ROWS} WHERE v.id=?", (a.naming.volume_id(path),)).fetchone()
        if row is None:
            return None
        own = a.naming.volume(row["id"], row["iogrp_id"])
        return volume_instance(a, row, own) if own.keybindings == path.keybindings else None


class HostedStoragePoolProvider(AssociationProvider):
    classname = "IBMTSSVC_HostedConcretePool"
    roles = {"GroupComponent": N.CLUSTER, "PartComponent": N.POOL}

    def _inst(self, a: Array, pool_id: int):
        path = CIMInstanceName(self.classname, namespace=a.namespace, keybindings={
            "GroupComponent": a.naming.cluster(), "PartComponent": a.naming.pool(pool_id)})
        return make_instance(a, path, {})

    def enumerate(self, a: Array):
        for (pid,) in a.db.execute("SELECT id FROM pools ORDER BY id").fetchall():
            yield self._inst(a, pid)

    def references(self, a: Array, path, role):
        roles = self.roles_for(a, path, role)
        if "GroupComponent" in roles and path.keybindings == a.naming.cluster().keybindings:
            yield from self.enumerate(a)
        elif "PartComponent" in roles:
            pid = a.naming.pool_id(path)
            if a.row("pools", "id", pid):
                yield self._inst(a, pid)


class _VolumeOwner(AssociationProvider):
    """Volume <-> one owner (its pool, or the cluster): indexed both ways."""
    owner_role = volume_role = ""

    def owner_path(self, a: Array, row) -> CIMInstanceName:
        raise NotImplementedError

    def volumes_of_owner(self, a: Array, owner: CIMInstanceName):
        raise NotImplementedError

    def extra(self, row) -> dict:
        return {}

    def _inst(self, a: Array, row):
        path = CIMInstanceName(self.classname, namespace=a.namespace, keybindings={
            self.owner_role: self.owner_path(a, row),
            self.volume_role: a.naming.volume(row["id"], row["iogrp_id"])})
        return make_instance(a, path, self.extra(row))

    def enumerate(self, a: Array):
        for row in a.db.execute("SELECT * FROM volumes ORDER BY id").fetchall():
            yield self._inst(a, row)

    def references(self, a: Array, path, role):
        roles = self.roles_for(a, path, role)
        if self.volume_role in roles:
            row = a.row("volumes", "id", a.naming.volume_id(path))
            if row is not None:
                yield self._inst(a, row)
        if self.owner_role in roles:
            for row in self.volumes_of_owner(a, path):
                yield self._inst(a, row)


class AllocatedFromPoolProvider(_VolumeOwner):
    classname = "IBMTSSVC_AllocatedFromConcretePool"
    roles = {"Antecedent": N.POOL, "Dependent": N.VOLUME}
    owner_role, volume_role = "Antecedent", "Dependent"

    def owner_path(self, a, row):
        return a.naming.pool(row["pool_id"])

    def volumes_of_owner(self, a, owner):
        return a.db.execute("SELECT * FROM volumes WHERE pool_id=? ORDER BY id",
                            (a.naming.pool_id(owner),)).fetchall()

    def extra(self, row):
        return {"SpaceConsumed": Array._consumed(row["size"], row["space_efficient"])}


class ClusterVolumeProvider(_VolumeOwner):
    classname = "IBMTSSVC_StorageVolumeOnCluster"
    roles = {"GroupComponent": N.CLUSTER, "PartComponent": N.VOLUME}
    owner_role, volume_role = "GroupComponent", "PartComponent"

    def owner_path(self, a, row):
        return a.naming.cluster()

    def volumes_of_owner(self, a, owner):
        if owner.keybindings != a.naming.cluster().keybindings:
            return []
        return a.db.execute("SELECT * FROM volumes ORDER BY id").fetchall()


# ------------------------------------------------------------------ methods
ELEMENT_VOLUME, ELEMENT_THIN, ELEMENT_THIN_COMPRESSED = 2, 5, 8


def create_or_modify_element(a: Array, target, params):
    if params.get("TheElement") is not None:
        raise ArrayError(rc.NOT_SUPPORTED, "modifying an existing volume is not supported")
    element_type = int(params.get("ElementType") or ELEMENT_VOLUME)
    if element_type not in (ELEMENT_VOLUME, ELEMENT_THIN, ELEMENT_THIN_COMPRESSED):
        raise ArrayError(rc.INVALID_PARAMETER, f"ElementType {element_type} is not supported")
    size = params.get("Size")
    if size is None:
        raise ArrayError(rc.INVALID_PARAMETER, "Size is required")
    pool_id = a.naming.pool_id(req_ref(params, "InPool"))
    iogrp = opt_ref(params, "IOGroup")
    iogrp_id = a.naming.iogroup_id(iogrp) if iogrp is not None else 0
    thin = opt_bool(params, "isSpaceEfficient") or element_type != ELEMENT_VOLUME
    vol_id = a.create_volume(
        params.get("ElementName"), int(size), pool_id, iogrp_id, space_efficient=thin,
        compressed=element_type == ELEMENT_THIN_COMPRESSED,
        deduplicated=opt_bool(params, "Deduplicated"))
    row = a.volume(vol_id)
    return rc.OK, {"TheElement": a.naming.volume(vol_id, row["iogrp_id"]), "Size": Uint64(row["size"])}


def return_to_storage_pool(a: Array, target, params):
    path = req_ref(params, "TheElement")
    a.delete_volume(a.naming.volume_id(path), force=opt_bool(params, "Force"))
    return rc.OK, {}


PROVIDERS = [PoolProvider(), VolumeProvider(), HostedStoragePoolProvider(),
             AllocatedFromPoolProvider(), ClusterVolumeProvider()]
METHODS = {
    (N.SCS, "CreateOrModifyElementFromStoragePool"): create_or_modify_element,
    (N.SCS, "ReturnToStoragePool"): return_to_storage_pool,
}
