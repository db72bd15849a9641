"""Fakes for the host adapters: a scripted PowerShell runner and a clock (tests/support), a
sysfs/dev tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.clock import FakeClock
from tests.support.powershell import ScriptedRunner


@pytest.fixture
def runner():
    r = ScriptedRunner()
    yield r
    r.done()


@pytest.fixture
def clock():
    return FakeClock()


class FakeTree:
    """sys/, dev/ and etc/ under a temporary directory, shaped like the real ones."""

    def __init__(self, root: Path) -> None:
        self.sys, self.dev, self.etc = root / "sys", root / "dev", root / "etc"
        for p in (self.sys / "class", self.sys / "block", self.dev / "disk" / "by-id", self.etc):
            p.mkdir(parents=True, exist_ok=True)

    def fc_host(self, n: int, wwpn: str) -> None:
        host = self.sys / "class" / "fc_host" / f"host{n}"
        host.mkdir(parents=True)
        (host / "port_name").write_text(f"0x{wwpn}\n")
        (host / "node_name").write_text("0x20000090fa000000\n")
        (host / "port_state").write_text("Online\n")
        self.scsi_host(n)

    def scsi_host(self, n: int) -> Path:
        host = self.sys / "class" / "scsi_host" / f"host{n}"
        host.mkdir(parents=True, exist_ok=True)
        (host / "scan").touch()
        return host / "scan"

    def initiator_name(self, text: str) -> None:
        (self.etc / "iscsi").mkdir(exist_ok=True)
        (self.etc / "iscsi" / "initiatorname.iscsi").write_text(text)

    def disk(self, name: str, uid: str, serial: str | None = None, link: bool = True,
             state: str = "running") -> Path:
        device = self.sys / "block" / name / "device"
        device.mkdir(parents=True)
        (device / "wwid").write_text(f"naa.{uid.lower()}\n")
        (device / "state").write_text(f"{state}\n")
        (device / "delete").touch()
        if serial is not None:
            data = serial.encode()
            (device / "vpd_pg80").write_bytes(bytes([0, 0x80, 0, len(data)]) + data)
        (self.dev / name).touch()
        if link:
            self.link(uid, name)
        return device

    def link(self, uid: str, name: str) -> None:
        (self.dev / "disk" / "by-id" / f"wwn-0x{uid.lower()}").symlink_to(f"../../{name}")


@pytest.fixture
def tree(tmp_path):
    return FakeTree(tmp_path)
