"""The CIM adapter against a real embedded-array process (demo seed), with a second,
plain pywbem connection as an independent view of what is on the array."""
from __future__ import annotations

from pathlib import Path

import pytest

from adapters.cim.array import CimArray
from tests.cim_flashcopy.conftest import STATE_OF
from tests.support.arrayproc import NAMESPACE, PASSWORD, USER, ArrayProcess

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "simulator" / "seeds" / "demo.yaml"
SRC1, SRC2 = "60050760008D89C0D000000000000001", "60050760008D89C0D000000000000002"
TARGET = "60050760008D89C0D000000000000003"
HOST_IQN = "iqn.1991-05.com.microsoft:win-abuutepnmf"
FREE_WWPN = "5000000000000000"
MiB = 1 << 20


def port_of(proc: ArrayProcess) -> int:
    return int(proc.url.rsplit(":", 1)[1].rstrip("/"))


def adapter(proc: ArrayProcess, **kw) -> CimArray:
    """A CimArray on that process; no real sleeping (the array's clock runs 1000x)."""
    options = {"ssl": not proc.http, "ca_file": proc.cafile, "username": USER, "password": PASSWORD,
               "namespace": NAMESPACE, "sleep": lambda s: None, "poll_s": 0.0}
    options.update(kw)
    return CimArray.connect("127.0.0.1", port_of(proc), **options)


class View:
    """What is on the array, read over a separate pywbem connection."""

    def __init__(self, proc: ArrayProcess):
        self.conn = proc.conn()

    def volumes(self) -> dict[str, dict]:
        return {str(i["ElementName"]): {"id": str(i.path.keybindings["DeviceID"]), "uid": str(i["Name"]),
                                        "size": int(i["NumberOfBlocks"])}
                for i in self.conn.EnumerateInstances("IBMTSSVC_StorageVolume")}

    def id_of(self, uid: str) -> str:
        return next(v["id"] for v in self.volumes().values() if v["uid"] == uid)

    def mapped(self) -> set[tuple[str, str]]:
        """(host id, volume id) of every host mapping."""
        return {(str(i.path["Antecedent"]["DeviceID"]).split(":")[-1], str(i.path["Dependent"]["DeviceID"]))
                for i in self.conn.EnumerateInstances("IBMTSSVC_SystemVolumeController")}

    def fcmaps(self) -> dict[str, dict]:
        return {str(i["ElementName"]): {"id": str(i["Name"]), "source": str(i["SystemElementID"]),
                                        "target": str(i["SyncedElementID"]),
                                        "state": STATE_OF[int(i["SyncState"])],
                                        "group": i.get("SynchronizedSetID")}
                for i in self.conn.EnumerateInstances("IBMTSSVC_LocalStorageSynchronized")}

    def groups(self) -> dict[str, dict]:
        return {str(i["ElementName"]): {"id": str(i.path["InstanceID"]).rsplit(":", 1)[-1],
                                        "status": int(i["Status"])}
                for i in self.conn.EnumerateInstances("IBMTSSVC_FlashCopyStorageSynchronizedSet")}


@pytest.fixture
def sim(tmp_path):
    proc = ArrayProcess(state=tmp_path / "array", http=True, seed=DEMO, time_scale=1000).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def shared_sim(tmp_path_factory):
    """One array for tests that only read (or put back what they change)."""
    proc = ArrayProcess(state=tmp_path_factory.mktemp("array"), http=True, seed=DEMO, time_scale=1000).start()
    yield proc
    proc.stop()


@pytest.fixture
def cim(sim):
    return adapter(sim)


@pytest.fixture
def view(sim):
    return View(sim)
