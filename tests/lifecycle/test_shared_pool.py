"""Several orchestrator processes, each on its own simulated host (its targets are shown
to it), share one free pool: no target is used twice."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.config import load_config
from orchestrator.engine import Orchestrator

from .conftest import BACKUP_IQN, HOST_IQN, SRC1, SRC2, ArrayView, give_sources_to, write_config

ROOT = Path(__file__).resolve().parents[2]
LOOP = """
import json, sys
from pathlib import Path
from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from core.errors import VssError
orch = Orchestrator.from_config(load_config(Path(sys.argv[1])))
used, codes, details = [], [], []
for i in range(int(sys.argv[2])):
    try:
        r = orch.create(sys.argv[3:])
    except VssError as e:
        codes.append(e.code)
        details.append(str(e))
        continue
    used.append([r.lifecycle_id, [s.target_uid for s in r.shadows]])
    if i % 2:
        orch.delete(set_id=r.set_id)
print(json.dumps({"used": used, "codes": codes, "details": details, "left": [
    [r.lifecycle_id, [s.target_uid for s in r.shadows]] for r in orch.sets()]}))
"""


def test_two_hosts_never_share_a_target(array, view, tmp_path):
    procs = []
    for name, sources, iqn in (("h1", [SRC1], HOST_IQN), ("h2", [SRC2], BACKUP_IQN)):
        cfg = write_config(tmp_path / f"{name}.yaml", array, tmp_path / name, backgroundCopy=100,
                           hostAdapter="sim", simInitiator=iqn)
        # each host copies its own volume (SRC2 becomes backup_host's too)
        give_sources_to(Orchestrator.from_config(load_config(cfg), consumer=None).array, iqn, sources)
        procs.append(subprocess.Popen([sys.executable, "-c", LOOP, str(cfg), "8", *sources], cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out))
    # what is left on each host: disjoint targets, each one on the reserved host once
    left = [t for r in results for _, ts in r["left"] for t in ts]
    assert len(left) == len(set(left))
    vols = view.volumes()
    res = {vols[n]["uid"] for n in view.host_volumes()["vss_res_host"]}
    assert res == set(left)
    assert all(code in (3007,) for r in results for code in r["codes"])      # only "pool empty"
    # every mapping belongs to exactly one host's record
    maps = view.fcmaps()
    assert sorted(n for n in maps) == sorted(f"vss-{lc}-0" for r in results for lc, _ in r["left"])
    assert view.groups() == []
    # each host sees its own shadow copies, and only those
    for r, iqn in zip(results, (HOST_IQN, BACKUP_IQN)):
        shown = {lun["uid"] for lun in array.host_luns(iqn)} - {SRC1, SRC2}
        assert shown == {t for _, ts in r["left"] for t in ts}


POOL_SEED = """
pools: [{name: Pool0, capacity: 64TiB}]
hosts:
  - {name: vss_free_host, wwpns: ["5000000000000000"]}
  - {name: vss_res_host, wwpns: ["5000000000000001"]}
  - {name: "app{n}", count: 8, start: 1, iqns: ["iqn.2026-11.test:host{n}"]}
volumes:
%s  - {name: "tgt{n}", count: 12, size: 1GiB, pool: Pool0, map: vss_free_host}
""" % "".join(f"  - {{name: src{n}, size: 1GiB, pool: Pool0, map: app{n}}}\n" for n in range(1, 9))


@pytest.mark.long
def test_eight_hosts_500_cycles(array_factory, tmp_path):
    """8 processes (8 hosts) share 12 free targets for 8 x 63 create/delete cycles."""
    seed = tmp_path / "seed.yaml"
    seed.write_text(POOL_SEED)
    sim = array_factory(http=True, seed=seed, time_scale=1000)
    view = ArrayView(sim)
    sources = [v["uid"] for n, v in sorted(view.volumes().items()) if n.startswith("src")]
    procs = []
    for i in range(8):
        cfg = write_config(tmp_path / f"h{i}.yaml", sim, tmp_path / f"h{i}", backgroundCopy=100,
                           hostAdapter="sim", simInitiator=f"iqn.2026-11.test:host{i + 1}")
        procs.append(subprocess.Popen([sys.executable, "-c", LOOP.replace("if i % 2:", "if True:"), str(cfg),
                                       os.environ.get("POOL_CYCLES", "63"), sources[i]], cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=3600)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out))
    cycles = sum(len(r["used"]) for r in results)
    failures = [c for r in results for c in r["codes"]]
    print(f"\n{cycles} create/delete cycles done, {len(failures)} refused: {sorted(set(failures))}")
    for detail in sorted({d for r in results for d in r["details"]})[:10]:
        print("  ", detail)
    assert set(failures) <= {3007}
    assert cycles + len(failures) == 8 * int(os.environ.get("POOL_CYCLES", "63"))
    assert view.fcmaps() == {} and view.groups() == []
    assert len(view.host_volumes()["vss_free_host"]) == 12
    assert all(vols == {f"src{host[3:]}"} for host, vols in view.host_volumes().items() if host.startswith("app"))
