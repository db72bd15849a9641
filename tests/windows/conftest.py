"""The native provider under Wine: one build (cached by source hash in build/windows/)
and one Wine prefix per test session (its first wineboot is the expensive part), shared
by xdist workers through a lock in the session's common temporary folder.

Wine runs headless (tests/support/wine.py). Skips only when mingw-w64 or Wine is not
installed (scripts/setup.sh installs both when run as root)."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.arrayproc import ROOT, ArrayProcess
from tests.support.commands import script
from tests.support.configfile import write_config
from tests.support.demo import start_seeded
from tests.support.view import ArrayView
from tests.support.wine import CXX, HOST, Wine, locked


@pytest.fixture(scope="session")
def wine(tmp_path_factory) -> Wine:
    missing = [tool for tool in (CXX, "wine", "wineboot") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (bash scripts/setup.sh as root installs mingw-w64 and Wine)")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base   # common to the session's workers
    (ROOT / "build").mkdir(exist_ok=True)
    with locked(ROOT / "build" / ".windows-build.lock"):
        built = subprocess.run(["bash", str(ROOT / "scripts" / "build-windows-provider.sh")],
                               capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr[-3000:]
    dll, harness = (Path(p) for p in built.stdout.split())
    w = Wine(shared / "wineprefix", dll, harness)
    with locked(shared / "wineprefix.lock"):
        if not (w.prefix / "system.reg").exists():
            boot = subprocess.run(["wineboot", "-i"], env=w.env(), capture_output=True, text=True, timeout=600)
            assert boot.returncode == 0, boot.stderr[-3000:]
            subprocess.run(["wineserver", "-w"], env=w.env(), timeout=600)
    return w


@dataclass
class Served:
    array: ArrayProcess
    view: ArrayView
    url: str
    token_file: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The embedded array and a real `vssorch serve` process on a free loopback port."""
    tmp = tmp_path_factory.mktemp("winsvc")
    array = start_seeded(tmp / "array")
    config = write_config(tmp / "config.yaml", array, tmp / "state", backgroundCopy=0)
    with open(tmp / "serve.log", "wb") as log:
        proc = subprocess.Popen([*script("vssorch"), "serve", "--config", str(config), "--listen", "127.0.0.1:0",
                                 "--host-name", HOST], cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    try:
        assert line.startswith("listening on "), (line, (tmp / "serve.log").read_text()[-2000:])
        _, _, url, _, token = line.split()
        yield Served(array, ArrayView(array), url, Path(token))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        array.stop()
