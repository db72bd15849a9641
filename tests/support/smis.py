"""SMI-S recipes over a plain pywbem connection: the services, pools, volumes and hosts an
SMI-S client finds and makes, for the array's own tests."""
from __future__ import annotations

from pywbem import Uint16, Uint64

GIB = 1 << 30


class Cim:
    """Small helpers over a pywbem connection: the recipes an SMI-S client uses."""

    def __init__(self, conn):
        self.conn = conn
        self.cluster = conn.EnumerateInstanceNames("IBMTSSVC_Cluster")[0]

    def service(self, cls: str):
        return self.conn.AssociatorNames(self.cluster, AssocClass="CIM_HostedService", ResultClass=cls)[0]

    @property
    def scs(self):
        return self.service("CIM_StorageConfigurationService")

    @property
    def ccs(self):
        return self.service("CIM_ControllerConfigurationService")

    @property
    def hws(self):
        return self.service("CIM_StorageHardwareIDManagementService")

    def pool(self, name: str):
        for p in self.conn.EnumerateInstances("IBMTSSVC_ConcreteStoragePool"):
            if p["ElementName"] == name:
                return p
        raise KeyError(name)

    def iogroup(self, name: str = "io_grp0"):
        for g in self.conn.EnumerateInstances("IBMTSSVC_IOGroup"):
            if g["ElementName"] == name:
                return g.path
        raise KeyError(name)

    def create_volume(self, name, size=GIB, pool="Pool0", **extra):
        extra.setdefault("ElementType", Uint16(2))
        rc, out = self.conn.InvokeMethod("CreateOrModifyElementFromStoragePool", self.scs,
                                         ElementName=name, Size=Uint64(size),
                                         InPool=self.pool(pool).path, **extra)
        return rc, out

    def volume(self, name: str):
        rc, out = self.create_volume(name)
        assert rc == 0, rc
        return self.conn.GetInstance(out["TheElement"])

    def create_host(self, name, port, validate=False, id_type=2):
        return self.conn.InvokeMethod("CreateStorageHardwareID", self.hws, ElementName=name,
                                      StorageID=port, IDType=Uint16(id_type), Validate=validate)

    def host(self, name, port, id_type=2):
        rc, out = self.create_host(name, port, id_type=id_type)
        assert rc == 0, rc
        pcs = self.conn.AssociatorNames(out["HardwareID"], ResultClass="IBMTSSVC_ProtocolController")
        return out["HardwareID"], pcs[0]

    def mapped_uids(self, pc) -> dict[str, str]:
        return {r["UniqueID"]: r["DeviceNumber"]
                for r in self.conn.References(pc, ResultClass="CIM_ProtocolControllerForUnit")}
