"""The cluster, its I/O groups and its three services, with the associations that
lead a client from the cluster to them (how SMI-S clients find the services).
Constant values are those of a real 8.2.1 cluster's dump (EnabledState 5 "Not
Applicable", Dedicated 15/21 "Block Server"/"Storage Virtualizer", NameFormat
"Other")."""
from __future__ import annotations

from pywbem import CIMInstanceName

from .. import naming as N
from ..array import Array
from . import registration
from .base import AssociationProvider, Provider, make_instance

OK = [2]
ENABLED, NOT_APPLICABLE = 2, 5  # EnabledState values
UNKNOWN = 0                     # OperationalStatus


class ClusterProvider(Provider):
    classname = N.CLUSTER

    def enumerate(self, a: Array):
        ident = a.identity
        pools, volumes = a.db.execute(
            "SELECT (SELECT COALESCE(SUM(capacity), 0) FROM pools),"
            " (SELECT COALESCE(SUM(size), 0) FROM volumes)").fetchone()
        yield make_instance(a, a.naming.cluster(), {
            "ElementName": ident.cluster_name, "Caption": ident.cluster_name,
            "ID": ident.cluster_id, "IDAlias": ident.cluster_id, "NameFormat": "Other",
            "CodeLevel": ident.code_level, "OperationalStatus": OK, "StatusDescriptions": ["OK"],
            "Status": "OK", "EnabledState": NOT_APPLICABLE, "RequestedState": NOT_APPLICABLE,
            "EnabledDefault": ENABLED, "Dedicated": [15, 21], "Types": [2, 3, 5],
            "MaxNumberOfNodes": 8, "ClusterState": 0,
            "PoolCapacity": pools, "TotalVdiskCapacity": volumes})


class IOGroupProvider(Provider):
    classname = N.IOGROUP

    def _inst(self, a: Array, row):
        # a host is created with access to every I/O group (SVC's mkhost default)
        volumes, hosts = a.db.execute(
            "SELECT (SELECT COUNT(*) FROM volumes WHERE iogrp_id=?), (SELECT COUNT(*) FROM hosts)",
            (row["id"],)).fetchone()
        return make_instance(a, a.naming.iogroup(row["id"]), {
            "ElementName": row["name"], "Caption": row["name"], "NameFormat": "Other",
            # OperationalStatus: what a real cluster reports for every I/O group
            "OperationalStatus": [UNKNOWN], "EnabledState": NOT_APPLICABLE,
            "RequestedState": NOT_APPLICABLE, "EnabledDefault": ENABLED, "Dedicated": [0], "NumberOfNodes": 2,
            "NumberOfVolumes": volumes, "NumberOfHosts": hosts})

    def enumerate(self, a: Array):
        for row in a.db.execute("SELECT * FROM iogroups ORDER BY id").fetchall():
            yield self._inst(a, row)


class ServiceProvider(Provider):
    def __init__(self, classname: str):
        self.classname = classname

    def enumerate(self, a: Array):
        yield make_instance(a, a.naming.service(self.classname), {
            "ElementName": N.SERVICES[self.classname], "OperationalStatus": OK,
            "EnabledState": ENABLED, "EnabledDefault": ENABLED, "Started": True})


class _ClusterToFixed(AssociationProvider):
    """Cluster -> a small fixed set of objects (services, I/O groups)."""
    cluster_role = ""
    part_role = ""

    def parts(self, a: Array) -> list[CIMInstanceName]:
        raise NotImplementedError

    def _inst(self, a: Array, part: CIMInstanceName):
        path = CIMInstanceName(self.classname, namespace=a.namespace,
                               keybindings={self.cluster_role: a.naming.cluster(), self.part_role: part})
        return make_instance(a, path, {})

    def enumerate(self, a: Array):
        for part in self.parts(a):
            yield self._inst(a, part)

    def references(self, a: Array, path, role):
        roles = self.roles_for(a, path, role)
        for part in self.parts(a):
            if (self.cluster_role in roles and path.classname == N.CLUSTER) or \
                    (self.part_role in roles and part.keybindings == path.keybindings
                     and part.classname.lower() == path.classname.lower()):
                yield self._inst(a, part)


class HostedServiceProvider(_ClusterToFixed):
    cluster_role, part_role = "Antecedent", "Dependent"

    def __init__(self, classname: str, service_class: str):
        self.classname = classname
        self.service_class = service_class
        self.roles = {"Antecedent": N.CLUSTER, "Dependent": service_class}

    def parts(self, a: Array):
        return [a.naming.service(self.service_class)]


class ClusterIOGroupProvider(_ClusterToFixed):
    classname = "IBMTSSVC_IOGroupComponentOfCluster"
    cluster_role, part_role = "GroupComponent", "PartComponent"
    roles = {"GroupComponent": N.CLUSTER, "PartComponent": N.IOGROUP}

    def parts(self, a: Array):
        return [a.naming.iogroup(r[0]) for r in a.db.execute("SELECT id FROM iogroups ORDER BY id")]


PROVIDERS = [
    ClusterProvider(), IOGroupProvider(),
    ServiceProvider(N.SCS), ServiceProvider(N.CCS), ServiceProvider(N.HWS),
    HostedServiceProvider("IBMTSSVC_HostedStorageConfigurationService", N.SCS),
    HostedServiceProvider("IBMTSSVC_ControllerConfigurationServiceForSystem", N.CCS),
    HostedServiceProvider("IBMTSSVC_StorageHardwareIDsForSystem", N.HWS),
    ClusterIOGroupProvider(),
    *registration.PROVIDERS,   # the profiles registered in the array's namespace too
]
