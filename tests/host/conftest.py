"""Fakes for the host adapters: a scripted PowerShell runner, a clock, a sysfs/dev tree."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.clock import FakeClock

HOSTILE = "x'; Remove-Item C:\\ -Recurse #"
_ENDS_WITH_JSON = re.compile(r"ConvertTo-Json\b[^\n]*-Compress -Depth \d+\s*\Z")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass
class Call:
    script: str
    params: dict[str, Any]
    reply: Any


@dataclass
class ScriptedRunner:
    """Expects scripts in order; checks each and answers with the recorded JSON."""

    expected: list[Call] = field(default_factory=list)
    seen: list[Call] = field(default_factory=list)

    def expect(self, script: str, params: dict[str, Any], reply: Any) -> ScriptedRunner:
        self.expected.append(Call(script, params, reply))
        return self

    def run(self, script: str, params: dict[str, Any]) -> Any:
        assert self.expected, f"unexpected script:\n{script}"
        call = self.expected.pop(0)
        assert script is call.script, f"wrong script, got:\n{script}"
        assert params == call.params
        # Hygiene every script must have: values only as parameters, errors stop it,
        # and the last statement prints JSON.
        assert script.startswith("param(")
        assert "$ErrorActionPreference = 'Stop'" in script
        assert _ENDS_WITH_JSON.search(script), script[-120:]
        for name in params:
            assert f"${name}" in script.split("\n", 1)[0], f"{name} not declared in param()"
        for value in _strings(list(params.values())):
            if value:
                assert value not in script, f"value {value!r} pasted into the script"
        self.seen.append(Call(script, copy.deepcopy(params), call.reply))
        # What comes back went through JSON, as from ConvertTo-Json.
        return json.loads(json.dumps(call.reply))

    def done(self) -> None:
        assert not self.expected, f"{len(self.expected)} expected scripts were not run"


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
