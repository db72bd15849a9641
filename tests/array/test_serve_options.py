"""Starting the array with options that cannot work: exit 2 and one line on stderr,
from `python -m simulator.serve` and from `vssorch sim serve` alike."""
import subprocess
import sys

import pytest

from tests.support.arrayproc import ROOT


@pytest.mark.parametrize("args, says", [
    (["--cert", "c.pem"], "--cert and --key go together"),
    (["--time-scale", "0"], "--time-scale must be positive"),
    (["--time-scale", "nan"], "--time-scale must be positive"),
    (["--port", "70000"], "--port 70000 is not within 0..65535"),
])
@pytest.mark.parametrize("entry", [["-m", "simulator.serve"], ["-m", "orchestrator.cli.main", "sim", "serve"]],
                         ids=["module", "vssorch"])
def test_bad_options_exit_2_with_one_line(tmp_path, entry, args, says):
    done = subprocess.run([sys.executable, *entry, "--state", str(tmp_path / "s"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(says) and "error" in lines[0]
    assert not (tmp_path / "s").exists()   # nothing was created
