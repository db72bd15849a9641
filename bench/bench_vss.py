"""The VSS provider through its service: flush-and-hold window (CommitSnapshots), the
writers-frozen window (PreCommit..PostCommit), whole create time, and array requests of
each callback, for sets of 1, 8 and 64 volumes on an array of 10,000 volumes; and the
service's throughput with 8 requestors creating and deleting at once on one array.

The requestor is `vssorch shadow`'s (orchestrator/cli/shadow.py); the service runs in
this process on a loopback port, the array in its own process.

    .venv/bin/python -m bench.bench_vss [--quick] [--reps N]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.bench_lifecycle import start_array, uids
from bench.common import print_table, write_json
from orchestrator.cli.shadow import Requestor
from orchestrator.service import Service
from orchestrator.service_client import HttpClient

CALLS = ["AreLunsSupported", "BeginPrepareSnapshot", "EndPrepareSnapshots", "PreCommitSnapshots",
         "CommitSnapshots", "PostCommitSnapshots", "GetTargetLuns", "LocateLuns", "FillInLunInfo"]


def measure(total: int, sizes: list[int], reps: int) -> tuple[list[dict], list[dict]]:
    rows, requests = [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = start_array(tmp, total, max(sizes), max(sizes))
        port = sim.url.rsplit(":", 1)[1]
        cfg = tmp / "config.yaml"
        cfg.write_text(f"cimomHost: 127.0.0.1\ncimomPort: {port}\nusername: superuser\npassword: passw0rd\n"
                       f"usingSSL: false\nstateDir: {tmp / 'state'}\nbackgroundCopy: 0\n")
        svc = Service(cfg, host_name="app", listen="127.0.0.1:0").start()
        client = HttpClient.from_token_file(svc.urls[0], svc.token_path)
        try:
            sources = uids(sim, "src", max(sizes))
            for n in sizes:
                runs = []
                for _ in range(reps):
                    req = Requestor(client)
                    res = req.create(sources[:n])
                    runs.append(res)
                    req.delete(set_id=res["set_id"])
                med = {k: statistics.median(r[k] for r in runs) for k in ("hold_ms", "frozen_ms", "create_ms")}
                rows.append({"array volumes": total, "set size": n, "reps": reps,
                             "hold ms (commit)": med["hold_ms"], "max hold ms": max(r["hold_ms"] for r in runs),
                             "frozen ms": med["frozen_ms"], "create ms": med["create_ms"]})
                rq = runs[-1]["array_requests"]
                requests.append({"array volumes": total, "set size": n, **{c: rq.get(c, 0) for c in CALLS},
                                 "total": sum(rq.values())})
        finally:
            client.close()
            svc.stop()
            sim.stop()
    return rows, requests


def throughput(total: int, requestors: int, rounds: int) -> dict:
    """`requestors` threads, each its own client and source volume, each creating and
    deleting a one-volume set `rounds` times against one service and one array."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = start_array(tmp, total, requestors, requestors)
        port = sim.url.rsplit(":", 1)[1]
        cfg = tmp / "config.yaml"
        cfg.write_text(f"cimomHost: 127.0.0.1\ncimomPort: {port}\nusername: superuser\npassword: passw0rd\n"
                       f"usingSSL: false\nstateDir: {tmp / 'state'}\nbackgroundCopy: 0\n")
        svc = Service(cfg, host_name="app", listen="127.0.0.1:0").start()
        holds: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def requestor(source: str) -> None:
            client = HttpClient.from_token_file(svc.urls[0], svc.token_path)
            try:
                req = Requestor(client)
                for _ in range(rounds):
                    try:
                        res = req.create([source])
                        req.delete(set_id=res["set_id"])
                        with lock:
                            holds.append(res["hold_ms"])
                    except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                        with lock:
                            failures.append(f"{type(exc).__name__}: {exc}")
            finally:
                client.close()

        try:
            sources = uids(sim, "src", requestors)
            threads = [threading.Thread(target=requestor, args=(s,)) for s in sources]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
        finally:
            svc.stop()
            sim.stop()
    done = len(holds)
    return {"requestors": requestors, "array volumes": total, "cycles": done, "failed": len(failures),
            "cycles/min": 60 * done / elapsed if elapsed else 0.0,
            "median hold ms": statistics.median(holds) if holds else 0.0,
            "max hold ms": max(holds, default=0.0), "first failure": failures[0][:80] if failures else ""}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    parser.add_argument("--reps", type=int, default=None, help="creates per set size")
    args = parser.parse_args(argv)
    total, sizes, reps = (100, [1, 8], 2) if args.quick else (10_000, [1, 8, 64], 5)
    reps = args.reps or reps
    rows, requests = measure(total, sizes, reps)
    print_table("VSS create through the service: windows (median of reps), VSS allows 10 s of hold", rows,
                list(rows[0]))
    print_table("Array requests per callback (one create)", requests, list(requests[0]))
    load = throughput(total, 8, 2 if args.quick else 10)
    print_table("Throughput: 8 requestors creating and deleting one-volume sets at once", [load], list(load))
    path = write_json("vss" + ("-quick" if args.quick else ""),
                      {"windows": rows, "requests": requests, "throughput": load})
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
