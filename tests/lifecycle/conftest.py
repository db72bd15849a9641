"""Lifecycles end to end: a real embedded-array process (demo seed), the real CIM adapter,
and an independent view of the array read over plain pywbem for the assertions."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from core.errors import MESSAGES, VssError
from orchestrator.recovery import RecoveryStore
from tests.support.arrayproc import PASSWORD, USER, ArrayProcess
from tests.cim_flashcopy.conftest import STATE_OF

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "simulator" / "seeds" / "demo.yaml"
SRC1, SRC2 = "60050760008D89C0D000000000000001", "60050760008D89C0D000000000000002"
HOST_IQN = "iqn.1991-05.com.microsoft:win-abuutepnmf"
BACKUP_IQN = "iqn.1991-05.com.microsoft:backup-server"
MiB = 1 << 20


class ArrayView:
    """What is on the array, read with a separate pywbem connection."""

    def __init__(self, proc: ArrayProcess):
        self.proc = proc
        self.conn = proc.conn()

    def _all(self, cls):
        return self.conn.EnumerateInstances(cls)

    def hosts(self) -> dict[str, str]:
        return {str(i["DeviceID"]).split(":")[-1]: str(i["ElementName"])
                for i in self._all("IBMTSSVC_ProtocolController")}

    def volumes(self) -> dict[str, dict]:
        return {str(i["ElementName"]): {"uid": str(i["Name"]), "size": int(i["NumberOfBlocks"]),
                                        "id": str(i.path.keybindings["DeviceID"])}
                for i in self._all("IBMTSSVC_StorageVolume")}

    def uid(self, name: str) -> str:
        return self.volumes()[name]["uid"]

    def host_volumes(self) -> dict[str, set[str]]:
        names = self.hosts()
        vols = {v["id"]: n for n, v in self.volumes().items()}
        out: dict[str, set[str]] = {n: set() for n in names.values()}
        for i in self._all("IBMTSSVC_SystemVolumeController"):
            host = names[str(i.path.keybindings["Antecedent"].keybindings["DeviceID"]).split(":")[-1]]
            out[host].add(vols[str(i.path.keybindings["Dependent"].keybindings["DeviceID"])])
        return out

    def fcmaps(self) -> dict[str, tuple[str, str, str]]:
        return {str(i["ElementName"]): (str(i["SystemElementName"]), str(i["SyncedElementName"]),
                                        STATE_OF[int(i["SyncState"])])
                for i in self._all("IBMTSSVC_LocalStorageSynchronized")}

    def groups(self) -> list[str]:
        return sorted(str(i["ElementName"]) for i in self._all("IBMTSSVC_FlashCopyStorageSynchronizedSet"))

    def snapshot(self) -> dict:
        """Everything a lifecycle may touch; equal snapshots = nothing left behind."""
        return {"volumes": sorted(self.volumes()), "maps": self.host_volumes(),
                "fcmaps": sorted((s, t) for s, t, _ in self.fcmaps().values()), "groups": self.groups()}


def write_config(path: Path, proc: ArrayProcess, state: Path, **extra) -> Path:
    port = proc.url.rsplit(":", 1)[1].rstrip("/")
    lines = ["cimomHost: 127.0.0.1", f"cimomPort: {port}", "username: superuser", "password: passw0rd",
             f"usingSSL: {'false' if proc.http else 'true'}", f"stateDir: {state}"]
    if not proc.http:
        lines.append(f"caFile: {proc.cafile}")
    lines += [f"{k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def give_sources_to(array, port: str, uids) -> None:
    """Map source volumes to the host owning `port` as well (`array`: the product's
    CimArray): a host may shadow-copy only its own volumes, and a VM's source disks are
    LUNs of its hypervisor host."""
    host = array.host_with_initiator(port)
    array.map_volumes(host.id, [v.id for v in array.volumes_by_uid(list(uids)).values()])


@pytest.fixture
def array(tmp_path):
    proc = ArrayProcess(state=tmp_path / "array", http=True, seed=DEMO, time_scale=1000).start()
    yield proc
    proc.stop()


@pytest.fixture
def view(array):
    return ArrayView(array)


@pytest.fixture
def make_orch(array, tmp_path):
    """An orchestrator on "this host" (the simulated application host of the demo seed),
    with its own state folder; extra keyword arguments are configuration parameters."""
    def make(name: str = "host1", consumer="sim", initiator: str = HOST_IQN, **params) -> Orchestrator:
        state = tmp_path / name
        cfg = load_config(write_config(tmp_path / f"{name}.yaml", array, state, **params))
        orch = Orchestrator.from_config(cfg, consumer=None)
        if consumer == "sim":
            from orchestrator.consumers import PhysicalHost
            from adapters.host.simulated import SimulatedHost
            orch.ctx.consumer = PhysicalHost(SimulatedHost(array.url, initiator, state / "host", auth=(USER, PASSWORD)))
        return orch
    return make


@pytest.fixture
def orch(make_orch):
    return make_orch(consumer=None)


def fill(array: ArrayProcess, uid: str, tag: bytes, size: int = 4 * MiB) -> bytes:
    data = (tag * (size // len(tag) + 1))[:size]
    array.write(uid, 0, data)
    return data


def store_of(orch: Orchestrator) -> RecoveryStore:
    return orch.store


def try_create(orch: Orchestrator, uids: list[str], set_id: str = "s"):
    """'created', or the manual's code the create failed with."""
    try:
        orch.create(uids, set_id=set_id)
        return "created"
    except VssError as err:
        assert err.code in MESSAGES, err
        return err.code


def assert_clean_after_cleanup(array: ArrayProcess, orch: Orchestrator, view: ArrayView, baseline, outcome,
                               label: str) -> None:
    """cleanup; then no group is left, a set that remains is finished and its targets hold
    their (unchanged) sources' bytes, and once it is deleted the array is as before."""
    orch.cleanup()
    sets = orch.sets()
    assert view.groups() == [], label
    if sets:
        assert outcome == "created" or sets[0].state == "done", label
        for s in sets[0].shadows:
            assert array.read(s.target_uid, 0, MiB) == array.read(s.source_uid, 0, MiB), label
        orch.delete(set_id=sets[0].set_id)
    assert view.snapshot() == baseline, label
