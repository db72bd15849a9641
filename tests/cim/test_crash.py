"""The named crash points: VSSORCH_CRASH_AT=cim:<Method>:before|after ends the process
with 86 just before the method is sent, or just after its reply arrived."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.arrayproc import ROOT

SCRIPT = """
import sys
from adapters.cim.array import CimArray
cim = CimArray.connect("127.0.0.1", int(sys.argv[1]), ssl=False, ca_file=None, username="superuser",
                       password="passw0rd", namespace="root/ibm")
cim.create_group("cim-crash")
print("survived")
"""


@pytest.mark.parametrize("when, exists", [("before", False), ("after", True), ("nowhere", True)])
def test_crash_points(sim, view, when, exists):
    env = {**os.environ, "VSSORCH_CRASH_AT": f"cim:CreateSynchronizedSet:{when}"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(sim.port)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == (0 if when == "nowhere" else 86), done.stderr
    assert ("survived" in done.stdout) == (when == "nowhere")
    assert ("cim-crash" in view.group_records()) == exists
