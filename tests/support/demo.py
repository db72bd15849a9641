"""The demo seed (simulator/seeds/demo.yaml) as tests see it: the UIDs of its source
volumes, its hosts' ports, and an array process started with it."""
from __future__ import annotations

from pathlib import Path

from tests.support.arrayproc import ROOT, ArrayProcess

DEMO = ROOT / "simulator" / "seeds" / "demo.yaml"
SRC1, SRC2 = "60050760008D89C0D000000000000001", "60050760008D89C0D000000000000002"
TARGET = "60050760008D89C0D000000000000003"
HOST_IQN = "iqn.1991-05.com.microsoft:win-abuutepnmf"
BACKUP_IQN = "iqn.1991-05.com.microsoft:backup-server"
FREE_WWPN = "5000000000000000"


def start_seeded(state: Path, seed: Path = DEMO) -> ArrayProcess:
    """An array with that seed (the demo's by default) over HTTP, its clock 1000x fast so
    prepares and copies end at once."""
    return ArrayProcess(state=state, http=True, seed=seed, time_scale=1000).start()

