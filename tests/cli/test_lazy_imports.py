"""`vssorch --help`, `vssorch list` and `inspurvcfg --help` start without the heavy
modules (issue 17: a command starts in under 0.3 s). Checked by what a fresh
interpreter has imported after the command ran, never by time; bench/bench_cli.py
measures the time."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The array client and its TLS stack, the hypervisor clients, the embedded array's
# implementation (simulator.serve only declares `vssorch sim serve`'s options), the
# state machines' library and structlog (loaded by the first event: core.log).
HEAVY = ("pywbem", "pyVmomi", "pyVim", "pypsrp", "cryptography", "requests", "urllib3", "transitions",
         "structlog")
ALLOWED_SIMULATOR = {"simulator", "simulator.serve"}

RUN = """
import json, sys
from orchestrator.cli import {module} as cli
try:
    rc = cli.main({argv!r})
except SystemExit as exc:
    rc = exc.code
print(json.dumps({{"rc": rc, "modules": sorted(sys.modules)}}), file=sys.stderr)
"""


def loaded(module: str, argv: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", RUN.format(module=module, argv=argv)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["rc"] in (0, None), done.stderr[-2000:]
    return report["modules"]


def heavy(modules: list[str], allow: tuple[str, ...] = ()) -> list[str]:
    return [m for m in modules
            if (m.split(".")[0] in HEAVY and m.split(".")[0] not in allow)
            or (m.startswith("simulator") and m not in ALLOWED_SIMULATOR)]


@pytest.fixture
def config(tmp_path) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"cimomHost: 127.0.0.1\ncimomPort: 5989\nusername: u\npassword: p\n"
                   f"stateDir: {tmp_path / 'state'}\n")
    return cfg


@pytest.mark.parametrize("argv", [["--help"], ["batch", "--help"], ["sim", "serve", "--help"]])
def test_help_loads_no_heavy_module(argv):
    modules = loaded("main", argv)
    assert "orchestrator.cli.main" in modules
    assert heavy(modules) == []


def test_list_loads_no_array_client(config):
    # The records are read by the engine, whose lifecycle tables import transitions.
    modules = loaded("main", ["list", "--config", str(config)])
    assert "orchestrator.cli.listing" in modules
    assert heavy(modules, allow=("transitions",)) == []


def test_inspurvcfg_help_and_showcfg_load_no_heavy_module(config):
    assert heavy(loaded("inspurvcfg", ["--help"])) == []
    assert heavy(loaded("inspurvcfg", ["--config", str(config), "showcfg"])) == []


def test_a_command_that_needs_them_still_loads_them():
    """The check can fail: `states` draws the lifecycle tables with transitions."""
    modules = loaded("main", ["states", "delete", "--format", "table"])
    assert "transitions" in modules and {m.split(".")[0] for m in heavy(modules)} == {"transitions"}


def test_the_embedded_array_under_vssorch_logs_where_the_settings_say(tmp_path):
    """`vssorch sim serve` logs with structlog itself, not through core.log: its events
    still go to VSSORCH_LOG_FILE, never to the stdout its parent reads."""
    log = tmp_path / "array.log"
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli.main", "sim", "serve", "--http", "--port", "0",
                             "--state", str(tmp_path / "state")], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "VSSORCH_LOG_FILE": str(log)})
    try:
        assert "listening on" in proc.stdout.readline()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out == "" and err == ""
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["event"] for e in events] == ["array started", "array stopped"]
