"""The array view: what is on the array, read over a pywbem connection of its own (not the
product's adapter), and how many requests it served, for the tests' assertions."""
from __future__ import annotations

from tests.support.arrayproc import ArrayProcess

# SyncState (DMTF) -> the CLI's word for the mapping's state, as the array reports it
STATE_OF = {2: "idle_or_copied", 6: "idle_or_copied", 3: "preparing", 4: "prepared", 5: "copying",
            8: "stopping", 13: "stopped"}

# CIM operations that only read; every change is an extrinsic method call.
READS = {"EnumerateInstances", "EnumerateInstanceNames", "GetInstance", "Associators", "ExecQuery",
         "AssociatorNames", "References", "ReferenceNames", "GetClass", "EnumerateClasses",
         "EnumerateClassNames"}


class ArrayView:
    def __init__(self, proc: ArrayProcess):
        self.proc = proc
        self.conn = proc.conn()

    def _all(self, cls):
        return self.conn.EnumerateInstances(cls)

    def hosts(self) -> dict[str, str]:
        """host id -> host name."""
        return {str(i["DeviceID"]).split(":")[-1]: str(i["ElementName"])
                for i in self._all("IBMTSSVC_ProtocolController")}

    def volumes(self) -> dict[str, dict]:
        return {str(i["ElementName"]): {"uid": str(i["Name"]), "size": int(i["NumberOfBlocks"]),
                                        "id": str(i.path.keybindings["DeviceID"])}
                for i in self._all("IBMTSSVC_StorageVolume")}

    def uid(self, name: str) -> str:
        return self.volumes()[name]["uid"]

    def id_of(self, uid: str) -> str:
        return next(v["id"] for v in self.volumes().values() if v["uid"] == uid)

    def mapped(self) -> set[tuple[str, str]]:
        """(host id, volume id) of every host mapping."""
        return {(str(i.path["Antecedent"]["DeviceID"]).split(":")[-1], str(i.path["Dependent"]["DeviceID"]))
                for i in self._all("IBMTSSVC_SystemVolumeController")}

    def host_volumes(self) -> dict[str, set[str]]:
        """host name -> names of the volumes mapped to it."""
        names = self.hosts()
        vols = {v["id"]: n for n, v in self.volumes().items()}
        out: dict[str, set[str]] = {n: set() for n in names.values()}
        for host, vol in self.mapped():
            out[names[host]].add(vols[vol])
        return out

    def fcmaps(self) -> dict[str, tuple[str, str, str]]:
        """mapping name -> (source name, target name, state)."""
        return {str(i["ElementName"]): (str(i["SystemElementName"]), str(i["SyncedElementName"]),
                                        STATE_OF[int(i["SyncState"])])
                for i in self._all("IBMTSSVC_LocalStorageSynchronized")}

    def fcmap_records(self) -> dict[str, dict]:
        """mapping name -> its id, source and target volume ids, state and group id."""
        return {str(i["ElementName"]): {"id": str(i["Name"]), "source": str(i["SystemElementID"]),
                                        "target": str(i["SyncedElementID"]),
                                        "state": STATE_OF[int(i["SyncState"])],
                                        "group": i.get("SynchronizedSetID")}
                for i in self._all("IBMTSSVC_LocalStorageSynchronized")}

    def groups(self) -> list[str]:
        return sorted(str(i["ElementName"]) for i in self._all("IBMTSSVC_FlashCopyStorageSynchronizedSet"))

    def group_records(self) -> dict[str, dict]:
        """group name -> its id and status."""
        return {str(i["ElementName"]): {"id": str(i.path["InstanceID"]).rsplit(":", 1)[-1],
                                        "status": int(i["Status"])}
                for i in self._all("IBMTSSVC_FlashCopyStorageSynchronizedSet")}

    def snapshot(self) -> dict:
        """Everything a lifecycle may touch; equal snapshots = nothing left behind."""
        return {"volumes": sorted(self.volumes()), "maps": self.host_volumes(),
                "fcmaps": sorted((s, t) for s, t, _ in self.fcmaps().values()), "groups": self.groups()}

    def requests(self) -> int:
        """Requests the array has served so far, of any kind."""
        return sum(self.proc.stats().values())
