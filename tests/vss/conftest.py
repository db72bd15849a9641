"""The provider service end to end: a real embedded-array process (tests/conftest.py's demo
`array`), the real engine and CIM adapter, the service on a loopback port (in this process,
so a test can also count the engine's array requests), and the array view."""
from __future__ import annotations

import pytest

from orchestrator.cli.shadow import Requestor
from orchestrator.service import Service
from tests.support.configfile import write_config
from tests.support.service import client_of


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


@pytest.fixture
def client(service):
    c = client_of(service)
    yield c
    c.close()


@pytest.fixture
def requestor(client):
    return Requestor(client)
