"""Crash points around a masking method: a process ended just before ExposePaths left
nothing mapped, one ended just after its reply left the mapping on the array."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.arrayproc import ROOT
from tests.support.view import ArrayView

SCRIPT = """
import sys
from adapters.cim.array import CimArray
cim = CimArray.connect("127.0.0.1", int(sys.argv[1]), ssl=False, ca_file=None, username="superuser",
                       password="passw0rd", namespace="root/ibm")
host = cim.host_named("backup_host")
cim.map_volumes(host.id, [cim.volumes_named(sys.argv[2])[0].id])
print("survived")
"""


@pytest.mark.parametrize("when, volume, mapped", [("before", "vss_target_5", False), ("after", "vss_target_6", True)])
def test_crash_around_expose_paths(shared_sim, when, volume, mapped):
    view = ArrayView(shared_sim)
    env = {**os.environ, "VSSORCH_CRASH_AT": f"cim:ExposePaths:{when}"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(shared_sim.port), volume], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 86 and "survived" not in done.stdout, done.stderr
    backup = next(i for i in view.conn.EnumerateInstances("IBMTSSVC_StorageHardwareID")
                  if i["ElementName"] == "backup_host")
    vol_id = view.volumes()[volume]["id"]
    assert ((str(backup["HostID"]), vol_id) in view.mapped()) == mapped
