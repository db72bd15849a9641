"""The product's commands run as a user runs them: console scripts in child processes,
against a real embedded-array process (demo seed, HTTP, fast clock)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.arrayproc import ArrayProcess

ROOT = Path(__file__).resolve().parents[2]
DEMO_SEED = ROOT / "simulator" / "seeds" / "demo.yaml"
SRC1, SRC2 = "60050760008D89C0D000000000000001", "60050760008D89C0D000000000000002"
HOST_IQN = "iqn.1991-05.com.microsoft:win-abuutepnmf"
BACKUP_IQN = "iqn.1991-05.com.microsoft:backup-server"

# CIM operations that only read; every change is an extrinsic method call.
READS = {"EnumerateInstances", "EnumerateInstanceNames", "GetInstance", "Associators", "ExecQuery",
         "AssociatorNames", "References", "ReferenceNames", "GetClass", "EnumerateClasses",
         "EnumerateClassNames"}

# A valid batch file using every action, for the validation and fuzz tests to start from.
GOOD = """\
jobs:
  - name: a
    create:
      volumes: [vss_src_vol, 60050760008D89C0D000000000000002]
      transportable: yes
      import_to: backup_host
      copy_rate: 0
      keep: 2
      verify: true
  - write: {volumes: [vss_src_vol], text: x}
  - restore: {job: a, verify: true}
  - delete: {job: a}
"""

# The end-to-end tests need the CIM adapter; until it is in the tree they are skipped.
needs_cim = pytest.mark.skipif(importlib.util.find_spec("adapters.cim.array") is None,
                               reason="adapters/cim/array.py (CimArray) is not there yet")


def script(name: str) -> list[str]:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    module = {"inspurvcfg": "orchestrator.cli.inspurvcfg", "vssorch": "orchestrator.cli.main"}[name]
    return [found] if found else [sys.executable, "-m", module]


class View:
    """The array read over a separate pywbem connection, for assertions."""

    def __init__(self, proc: ArrayProcess):
        self.proc, self.conn = proc, proc.conn()

    def volumes(self) -> dict[str, dict]:
        return {str(i["ElementName"]): {"uid": str(i["Name"]), "id": str(i.path.keybindings["DeviceID"])}
                for i in self.conn.EnumerateInstances("IBMTSSVC_StorageVolume")}

    def host_volumes(self) -> dict[str, set[str]]:
        hosts = {str(i["DeviceID"]).split(":")[-1]: str(i["ElementName"])
                 for i in self.conn.EnumerateInstances("IBMTSSVC_ProtocolController")}
        by_id = {v["id"]: n for n, v in self.volumes().items()}
        out: dict[str, set[str]] = {n: set() for n in hosts.values()}
        for i in self.conn.EnumerateInstances("IBMTSSVC_SystemVolumeController"):
            host = hosts[str(i.path.keybindings["Antecedent"].keybindings["DeviceID"]).split(":")[-1]]
            out[host].add(by_id[str(i.path.keybindings["Dependent"].keybindings["DeviceID"])])
        return out

    def fcmaps(self) -> list[tuple[str, str]]:
        return sorted((str(i["SystemElementName"]), str(i["SyncedElementName"]))
                      for i in self.conn.EnumerateInstances("IBMTSSVC_LocalStorageSynchronized"))

    def snapshot(self) -> dict:
        return {"volumes": sorted(self.volumes()), "maps": self.host_volumes(), "fcmaps": self.fcmaps()}

    def requests(self) -> int:
        return sum(self.proc.stats().values())


@pytest.fixture
def array(tmp_path):
    proc = ArrayProcess(state=tmp_path / "array", http=True, seed=DEMO_SEED, time_scale=1000).start()
    yield proc
    proc.stop()


@pytest.fixture
def view(array):
    return View(array)


def write_config(path: Path, proc: ArrayProcess | None, **extra) -> Path:
    lines = [f"stateDir: {path.parent / 'state'}"]
    if proc is not None:
        port = proc.url.rsplit(":", 1)[1].rstrip("/")
        lines += ["cimomHost: 127.0.0.1", f"cimomPort: {port}", "username: superuser",
                  "password: passw0rd", "usingSSL: false"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)       # it holds a password: readable by others, inspurvcfg warns
    return path


@pytest.fixture
def config(tmp_path, array) -> Path:
    """A configuration for the array, with this host as the demo's application host."""
    return write_config(tmp_path / "config.yaml", array, hostAdapter="sim", simInitiator=HOST_IQN)


@pytest.fixture
def run(tmp_path):
    """run("inspurvcfg", args...) -> CompletedProcess, from tmp_path, no VSSORCH_* inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VSSORCH_")}

    def call(name: str, *args: str, extra_env: dict | None = None, timeout: float = 120,
             input: str | None = None):
        return subprocess.run([*script(name), *args], cwd=tmp_path, env={**env, **(extra_env or {})},
                              capture_output=True, text=True, timeout=timeout, input=input)
    return call


def one_line_error(done: subprocess.CompletedProcess, prog: str, code: int, exit_code: int) -> str:
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"{prog}: error {code}:"), done.stderr
    return done.stderr


def load_json(text: str):
    return json.loads(text)
