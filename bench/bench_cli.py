"""How long a command takes to start (issue 17: `vssorch --help` and `vssorch list`
under 0.3 s): wall time and CPU time (user + system, which a busy machine inflates
less) of the whole process, median of several runs, and the import time of the entry
point's module as `python -X importtime` reports it.
tests/cli/test_lazy_imports.py checks which modules load; this only measures.

    .venv/bin/python -m bench.bench_cli [--quick]
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import print_table, write_json
from tests.support.arrayproc import ROOT


def run_ms(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """-> (wall ms, CPU ms) of each run."""
    wall, cpu = [], []
    for _ in range(runs):
        r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=True, timeout=60)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
    return wall, cpu


def import_ms(module: str) -> float:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60)
    last = [line for line in done.stderr.splitlines() if line.rstrip().endswith(f"| {module}")][-1]
    return int(last.split("|")[1]) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (CI)")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else 15
    vssorch = [sys.executable, "-m", "orchestrator.cli.main"]
    with tempfile.TemporaryDirectory() as d:
        cfg = Path(d) / "config.yaml"
        cfg.write_text(f"cimomHost: 127.0.0.1\nusername: u\npassword: p\nstateDir: {Path(d) / 'state'}\n")
        commands = [("python -c pass (the interpreter alone)", [sys.executable, "-c", "pass"]),
                    ("vssorch --help", [*vssorch, "--help"]),
                    ("vssorch list", [*vssorch, "list", "--config", str(cfg)]),
                    ("inspurvcfg --help", [sys.executable, "-m", "orchestrator.cli.inspurvcfg", "--help"])]
        rows = []
        for name, cmd in commands:
            wall, cpu = run_ms(cmd, runs)
            rows.append({"command": name, "runs": runs, "median ms": statistics.median(wall), "min ms": min(wall),
                         "median CPU ms": statistics.median(cpu)})
    imports = [{"module": m, "import ms": import_ms(m)}
               for m in ("orchestrator.cli.main", "orchestrator.cli.inspurvcfg")]
    print_table("Command start (whole process; target under 300 ms)", rows, list(rows[0]))
    print_table("Import of the entry point (python -X importtime, cumulative)", imports, list(imports[0]))
    path = write_json("cli" + ("-quick" if args.quick else ""), {"commands": rows, "imports": imports})
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
