"""What the cost of a command must not depend on (issue 17), each measured side by side
in one run and shown as a ratio with its target:

- array size: `vssorch batch` (one-volume create and delete), `inspurvcfg add / rem /
  testsnapshot` and the first create of a process, on a 100-volume array and on one
  with 10,000 more volumes and 1,000 more hosts (target 1.5x); `inspurvcfg listvols
  all` prints every volume, so its time may grow with them: its target is the same
  request count on both;
- free pool: an 8-volume create with 64 and with 2,000 free targets (target 1.3x);
- live copies: GetInstance with none and with 1,000 copying mappings, real time scale
  (target 1.5x);
- service hold: CommitSnapshots as the requestor sees it against the one array request
  it sends, at 64 volumes (target 1.3x);
- rate: GetInstance requests per CPU second of the array's process over HTTPS and HTTP
  (target 1,000; bench_array.one_core);
- cli: `vssorch --help` and `vssorch list` start (target 0.3 s; bench_cli).

Array requests are counted for every row; `--quick` runs small versions of each,
`--only` some dimensions (the issue's six in one invocation: the default).

    .venv/bin/python -m bench.bench_scale [--quick] [--only array pool hold copies rate cli]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import bench_array, bench_cli
from bench.common import print_table, summary, timed, write_json
from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from core.records import SetOptions
from tests.support.arrayproc import PREPARE_AT_ONCE, ROOT, ArrayProcess

APP_IQN = "iqn.2026-11.example:app"
SEED = """
pools: [{name: Pool0, capacity: 16384TiB}]
hosts:
  - {name: vss_free_host, wwpns: ["5000000000000000"]}
  - {name: vss_res_host, wwpns: ["5000000000000001"]}
  - {name: app, iqns: ["%(iqn)s"]}
%(hosts)svolumes:
  - {name: "src{n:04d}", count: %(sources)d, size: %(size)s, pool: Pool0, map: app}
  - {name: "tgt{n:04d}", count: %(targets)d, size: %(size)s, pool: Pool0, map: vss_free_host}
  - {name: spare, size: 1GiB, pool: Pool0}
  - {name: "other{n:05d}", count: %(other)d, size: 2GiB, pool: Pool0}
%(mappings)s"""


def seed_text(sources: int, targets: int, other: int, hosts: int = 0, size: str = "1GiB") -> str:
    """Extra hosts see ten of the `other` volumes each, as the scale seed's hosts do."""
    extra = f'  - {{name: "fill{{n:04d}}", count: {hosts}, wwpns: ["21000024FF{{n:06X}}"]}}\n' if hosts else ""
    own = ", ".join(f'"other{{n:04d}}{i}"' for i in range(10))
    maps = f'mappings:\n  - {{host: "fill{{n:04d}}", count: {hosts}, volumes: [{own}]}}\n' if hosts else ""
    return SEED % {"iqn": APP_IQN, "hosts": extra, "sources": sources, "targets": targets, "size": size,
                   "other": max(1, other), "mappings": maps}


def start(tmp: Path, text: str, time_scale: float = PREPARE_AT_ONCE) -> ArrayProcess:
    seed = tmp / "seed.yaml"
    seed.write_text(text)
    return ArrayProcess(state=tmp / "array", http=True, seed=seed, time_scale=time_scale).start()


def write_config(tmp: Path, sim: ArrayProcess, **params) -> Path:
    port = sim.url.rsplit(":", 1)[1]
    cfg = tmp / "config.yaml"
    cfg.write_text(f"cimomHost: 127.0.0.1\ncimomPort: {port}\nusername: superuser\npassword: passw0rd\n"
                   f"usingSSL: false\nstateDir: {tmp / 'state'}\ncimomTimeout: 1800000\n"
                   + "".join(f"{k}: {v}\n" for k, v in params.items()))
    return cfg


def requests(sim: ArrayProcess) -> int:
    return int(sim.admin("GET", "stats")["total"])


def counted(sim: ArrayProcess, fn) -> tuple[float, int]:
    """(ms, array requests) of fn()."""
    sim.admin("DELETE", "stats")
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000, requests(sim)


class RequestTime:
    """Time spent inside an in-process adapter's array requests (sent and answered):
    the array's and the wire's share, without the client's own work, whose record
    writes (fsync on a disk shared with other jobs) vary far more than the answers."""

    def __init__(self, array):
        self.ms = 0.0
        wire = array._wire
        for name in ("read", "invoke"):
            setattr(wire, name, self._timed(getattr(wire, name)))

    def _timed(self, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.ms += (time.perf_counter() - t0) * 1000
        return timed

    def of(self, fn) -> float:
        before = self.ms
        fn()
        return self.ms - before


def command(module: str, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)}: {done.stderr.strip()[-500:]}")


def uids(sim: ArrayProcess, names: list[str]) -> list[str]:
    conn = sim.conn(timeout=1800)
    quoted = ", ".join(f"'{n}'" for n in names)
    found = {str(v["ElementName"]): str(v["Name"]) for v in conn.ExecQuery(
        "WQL", f"SELECT ElementName, Name FROM CIM_StorageVolume WHERE ElementName IN ({quoted})")}
    return [found[n] for n in names]


def create(orch: Orchestrator, set_id: str, sources: list[str]) -> None:
    orch.prepare(set_id, sources, SetOptions())
    orch.commit(set_id)
    orch.post_commit(set_id)


SAME_REQUESTS = "same rq"      # a target saying the time may grow, the request count not


def ratio_row(dimension: str, operation: str, small: dict, big: dict, target: float | str, key: str = "ms") -> dict:
    r = big[key] / small[key] if small[key] else float("inf")
    within = big["rq"] == small["rq"] if target == SAME_REQUESTS else r <= target
    if "req ms" in small:      # in process: the time inside the array requests too
        extra = {"small req ms": small["req ms"], "large req ms": big["req ms"],
                 "req ratio": big["req ms"] / small["req ms"] if small["req ms"] else float("inf")}
    else:
        extra = {}
    return {"dimension": dimension, "operation": operation, "small ms": small[key], "large ms": big[key],
            "ratio": r, "target": target, "within": within, **extra,
            "small rq": small.get("rq"), "large rq": big.get("rq")}


# ------------------------------------------------------------------ array size
ARRAY_OPS = ["batch create+delete (1 volume)", "inspurvcfg listvols all", "inspurvcfg add", "inspurvcfg rem",
             "inspurvcfg testsnapshot", "first create of a process"]


def array_size(extra_volumes: int, extra_hosts: int, reps: int) -> dict[str, dict]:
    """Each operation `reps` times (add and rem undo each other): the median time, the
    most requests."""
    samples: dict[str, list[tuple[float, int]]] = {}
    first_req_ms: list[float] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = start(tmp, seed_text(8, 64, 26 + extra_volumes, extra_hosts))
        try:
            cfg = write_config(tmp, sim, hostAdapter="sim", simInitiator=APP_IQN, backgroundCopy=0)
            batch = tmp / "batch.yaml"
            batch.write_text("jobs:\n  - name: one\n    create: {volumes: [src0001]}\n  - delete: {job: one}\n")
            runs = [("batch create+delete (1 volume)", "orchestrator.cli.main", ["batch", str(batch)]),
                    ("inspurvcfg listvols all", "orchestrator.cli.inspurvcfg", ["listvols", "all"]),
                    ("inspurvcfg add", "orchestrator.cli.inspurvcfg", ["add", "spare"]),
                    ("inspurvcfg rem", "orchestrator.cli.inspurvcfg", ["rem", "spare"]),
                    ("inspurvcfg testsnapshot", "orchestrator.cli.inspurvcfg", ["testsnapshot", "src0002"])]
            source = uids(sim, ["src0003"])
            for i in range(reps):
                for name, module, args in runs:
                    cli = ["--config", str(cfg)]
                    argv = [*args[:1], *cli, *args[1:]] if module.endswith("main") else [*cli, *args]
                    samples.setdefault(name, []).append(counted(sim, lambda: command(module, *argv)))
                orch = Orchestrator.from_config(load_config(cfg), consumer=None)    # a new process's first
                inside = RequestTime(orch.array)
                req_ms = []
                samples.setdefault("first create of a process", []).append(
                    counted(sim, lambda: req_ms.append(inside.of(lambda: create(orch, f"first-{i}", source)))))
                first_req_ms += req_ms
                orch.delete(set_id=f"first-{i}")
        finally:
            sim.stop()
    out = {name: {"ms": statistics.median(ms for ms, _ in got), "rq": max(rq for _, rq in got)}
           for name, got in samples.items()}
    out["first create of a process"]["req ms"] = statistics.median(first_req_ms)
    return out


# ------------------------------------------------------------------ free pool
def free_pool(free: int, reps: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = start(tmp, seed_text(8, free, 1))
        try:
            orch = Orchestrator.from_config(load_config(write_config(tmp, sim, backgroundCopy=0)), consumer=None)
            sources = uids(sim, [f"src{n:04d}" for n in range(8)])
            create(orch, "warm", sources[:1])          # the process's one-time lookups
            orch.delete(set_id="warm")
            inside = RequestTime(orch.array)
            times, counts, in_requests = [], [], []
            for i in range(reps):
                req_ms = []
                eight = lambda i=i: create(orch, f"eight-{i}", sources)    # noqa: E731
                ms, rq = counted(sim, lambda: req_ms.append(inside.of(eight)))
                times.append(ms)
                counts.append(rq)
                in_requests += req_ms
                orch.delete(set_id=f"eight-{i}")
        finally:
            sim.stop()
    return {"ms": statistics.median(times), "rq": max(counts), "req ms": statistics.median(in_requests)}


# ------------------------------------------------------------------ live copies
def live_copies(mappings: int, reps: int) -> tuple[dict, dict]:
    """GetInstance of an unrelated volume with no mapping, then with `mappings` copying
    (background copy at rate 50 of 10 GiB volumes: over an hour at real time scale).
    All sets are prepared before any starts, so that building them does not itself pay
    for the copies (what is measured here)."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = start(tmp, seed_text(mappings, mappings, 1, size="10GiB"), time_scale=1)
        try:
            conn = sim.conn(timeout=1800)
            vol = [v.path for v in conn.ExecQuery(
                "WQL", "SELECT * FROM CIM_StorageVolume WHERE ElementName = 'other00000'")][0]
            conn.GetInstance(vol)
            before = timed(lambda: conn.GetInstance(vol), reps)
            orch = Orchestrator.from_config(load_config(write_config(tmp, sim, backgroundCopy=50)), consumer=None)
            sources = uids(sim, [f"src{n:04d}" for n in range(mappings)])
            sets = [(f"copy-{i}", sources[i:i + 64]) for i in range(0, mappings, 64)]
            for set_id, chunk in sets:
                orch.prepare(set_id, chunk, SetOptions())
            for step in (orch.commit, orch.post_commit):
                for set_id, _ in sets:
                    step(set_id)
            after = timed(lambda: conn.GetInstance(vol), reps)
            copying = sum(m["SyncState"] == 5 for m in conn.EnumerateInstances(    # 5: copying
                "IBMTSSVC_LocalStorageSynchronized", PropertyList=["SyncState"]))
        finally:
            sim.stop()
    # medians: a few milliseconds a request, so the other users of a shared machine
    # move a mean more than the mappings do
    return ({"ms": 1000 * statistics.median(before), "mean ms": summary(before)["mean_ms"], "rq": 1,
             "mappings": 0},
            {"ms": 1000 * statistics.median(after), "mean ms": summary(after)["mean_ms"], "rq": 1,
             "mappings": copying})


# ------------------------------------------------------------------ service hold
def service_hold(volumes: int, reps: int) -> tuple[dict, dict]:
    """CommitSnapshots as the requestor sees it, against the array request it sends
    (the consistency group's start, timed around the adapter's call)."""
    from adapters.cim.array import CimArray
    from orchestrator.cli.shadow import Requestor
    from orchestrator.service import Service
    from orchestrator.service_client import HttpClient
    starts: list[float] = []
    original = CimArray.start_group

    def timed_start(self, group_id):
        t0 = time.perf_counter()
        try:
            return original(self, group_id)
        finally:
            starts.append((time.perf_counter() - t0) * 1000)

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = start(tmp, seed_text(volumes, volumes, 1))
        svc = Service(write_config(tmp, sim, backgroundCopy=0), host_name="app", listen="127.0.0.1:0").start()
        client = HttpClient.from_token_file(svc.urls[0], svc.token_path)
        CimArray.start_group = timed_start
        try:
            sources = uids(sim, [f"src{n:04d}" for n in range(volumes)])
            holds, rqs = [], []
            for _ in range(reps):
                req = Requestor(client)
                res = req.create(sources)
                holds.append(res["hold_ms"])
                rqs.append(res["array_requests"].get("CommitSnapshots", 0))
                req.delete(set_id=res["set_id"])
        finally:
            CimArray.start_group = original
            client.close()
            svc.stop()
            sim.stop()
    return ({"ms": statistics.median(starts), "rq": 1},
            {"ms": statistics.median(holds), "rq": max(rqs)})


DIMENSIONS = ["array", "pool", "hold", "copies", "rate", "cli"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    parser.add_argument("--only", nargs="+", choices=DIMENSIONS, default=DIMENSIONS, help="these dimensions")
    args = parser.parse_args(argv)
    q = args.quick
    extra_volumes, extra_hosts = (400, 40) if q else (10_000, 1_000)
    free_sizes = (16, 200) if q else (64, 2_000)
    copying, hold_volumes, reps = (32, 8, 2) if q else (1_000, 64, 5)

    name = "scale" + ("-quick" if q else "") + ("" if args.only == DIMENSIONS else "-" + "-".join(args.only))
    rows: list[dict] = []
    extra: dict[str, list[dict]] = {}

    def add(*new: dict) -> None:             # written as each dimension ends: a long run keeps its parts
        rows.extend(new)
        write_json(name, {"ratios": rows, **extra})

    if "array" in args.only:
        small, big = array_size(0, 0, 1 if q else 3), array_size(extra_volumes, extra_hosts, 1 if q else 3)
        add(*[ratio_row(f"array size (+{extra_volumes} volumes, +{extra_hosts} hosts)", op, small[op], big[op],
                        SAME_REQUESTS if op == "inspurvcfg listvols all" else 1.5) for op in ARRAY_OPS])
    if "pool" in args.only:
        add(ratio_row(f"free pool ({free_sizes[0]} vs {free_sizes[1]} targets)", "8-volume create",
                      free_pool(free_sizes[0], 2 * reps - 1), free_pool(free_sizes[1], 2 * reps - 1), 1.3))
    if "hold" in args.only:
        single, hold = service_hold(hold_volumes, reps)
        add(ratio_row(f"service hold ({hold_volumes} volumes)", "CommitSnapshots vs its array request",
                      single, hold, 1.3))
    if "copies" in args.only:
        none, many = live_copies(copying, 50 if q else 100)
        add(ratio_row(f"live copies (0 vs {many['mappings']} copying)", "GetInstance(volume)", none, many, 1.5))
    if "rate" in args.only:
        with tempfile.TemporaryDirectory() as d:
            seed = Path(d) / "seed.yaml"
            seed.write_text(bench_array.small_seed(100, 10))
            extra["one_core"] = bench_array.one_core(seed, 20 if q else 200)
        add()
        print_table("GetInstance(volume) on one core (target: 1,000 requests per CPU second)", extra["one_core"],
                    ["where", "requests", "server CPU s", "requests per CPU s", "requests/s (one client)",
                     "load before", "load after"])
    if "cli" in args.only:
        bench_cli.main(["--quick"] if q else [])
    if rows:
        print_table("Cost ratios measured side by side (large / small; ms; rq = array requests)", rows,
                    ["dimension", "operation", "small ms", "large ms", "ratio", "target", "within", "small rq",
                     "large rq", "req ratio"])
    print(f"\nwritten: {write_json(name, {'ratios': rows, **extra})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
