"""The benchmarks in quick mode, so that they cannot rot (issue: evidence). Figures are
printed, not judged by time; the array request budgets they report are checked."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmarks_run_and_keep_the_request_budgets():
    done = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = ROOT / "bench" / "results"
    lifecycle = json.loads((results / "lifecycle-quick.json").read_text())
    vss = json.loads((results / "vss-quick.json").read_text())
    for row in lifecycle["sets"]:
        n = row["set size"]
        assert row["commit rq"] == 1
        assert row["delete rq"] <= 10 + 2 * n
        if row["process"] == "warm":        # a new process first reads the cluster, services, hosts
            assert row["create rq"] <= 10 + 2 * n
    assert all(row["CommitSnapshots"] == 1 for row in vss["requests"])
    assert vss["throughput"]["failed"] == 0 and vss["throughput"]["cycles"] == 16
