"""The provider service end to end: a real embedded-array process, the real engine and
CIM adapter, the service on a loopback port (in this process, so a test can also count
the engine's array requests), and an independent pywbem view of the array."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli.shadow import Requestor
from orchestrator.service import Service
from orchestrator.service_client import HttpClient
from tests.lifecycle.conftest import ArrayView, write_config
from tests.support.arrayproc import ArrayProcess

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "simulator" / "seeds" / "demo.yaml"
BIG = Path(__file__).resolve().parent / "big.yaml"
SRC1, SRC2 = "60050760008D89C0D000000000000001", "60050760008D89C0D000000000000002"
HOST_IQN = "iqn.1991-05.com.microsoft:win-abuutepnmf"
BACKUP_IQN = "iqn.1991-05.com.microsoft:backup-server"
MiB = 1 << 20


@pytest.fixture
def array(tmp_path):
    proc = ArrayProcess(state=tmp_path / "array", http=True, seed=DEMO, time_scale=1000).start()
    yield proc
    proc.stop()


@pytest.fixture
def view(array):
    return ArrayView(array)


@pytest.fixture
def config_file(array, tmp_path):
    return write_config(tmp_path / "config.yaml", array, tmp_path / "state", backgroundCopy=0)


@pytest.fixture
def start_service(config_file):
    started = []

    def start(host_name: str = "vss_iscsi_host", **kw) -> Service:
        kw.setdefault("listen", "127.0.0.1:0")
        svc = Service(kw.pop("config", config_file), host_name=host_name, **kw).start()
        started.append(svc)
        return svc
    yield start
    for svc in started:
        svc.stop()


@pytest.fixture
def service(start_service):
    return start_service()


def client_of(svc: Service) -> HttpClient:
    return HttpClient.from_token_file(svc.urls[0], svc.token_path)


@pytest.fixture
def client(service):
    c = client_of(service)
    yield c
    c.close()


@pytest.fixture
def requestor(client):
    return Requestor(client)


def fill(array: ArrayProcess, uid: str, tag: bytes, size: int = MiB) -> bytes:
    data = (tag * (size // len(tag) + 1))[:size]
    array.write(uid, 0, data)
    return data
