"""Shadow-copy lifecycles on the embedded array: time and array requests of each phase
of create (prepare / commit / post-commit) and of delete, for sets of 1, 8 and 64
volumes on arrays of 100 and 10,000 volumes, targets from the free pool, and on the
small array with targets created in storagePool; and the time cleanup needs for many
unfinished lifecycles.

The commit phase is the flush-and-hold window's array part: one request whatever the
set's size. Requests must not grow with the array's size.

    .venv/bin/python -m bench.bench_lifecycle [--quick]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import print_table, write_json
from orchestrator.config import load_config
from orchestrator.engine import Orchestrator
from core.records import SetOptions
from tests.support.arrayproc import PREPARE_AT_ONCE, ArrayProcess

SEED = """
pools: [{name: Pool0, capacity: 8192TiB}]
hosts:
  - {name: vss_free_host, wwpns: ["5000000000000000"]}
  - {name: vss_res_host, wwpns: ["5000000000000001"]}
  - {name: app, iqns: ["iqn.2026-11.example:app"]}
volumes:
  - {name: "src{n:04d}", count: %(sources)d, size: 1GiB, pool: Pool0, map: app}
  - {name: "tgt{n:04d}", count: %(targets)d, size: 1GiB, pool: Pool0, map: vss_free_host}
  - {name: "other{n:05d}", count: %(filler)d, size: 2GiB, pool: Pool0}
"""


def start_array(tmp: Path, total: int, sources: int, targets: int, time_scale: float = 1000) -> ArrayProcess:
    seed = tmp / "seed.yaml"
    seed.write_text(SEED % {"sources": sources, "targets": targets,
                            "filler": max(1, total - sources - targets)})
    return ArrayProcess(state=tmp / "array", http=True, seed=seed, time_scale=time_scale).start()


def orchestrator(tmp: Path, sim: ArrayProcess, **params) -> Orchestrator:
    port = sim.url.rsplit(":", 1)[1]
    text = (f"cimomHost: 127.0.0.1\ncimomPort: {port}\nusername: superuser\npassword: passw0rd\n"
            f"usingSSL: false\nstateDir: {tmp / 'state'}\n"
            + "".join(f"{k}: {v}\n" for k, v in params.items()))
    cfg = tmp / "config.yaml"
    cfg.write_text(text)
    return Orchestrator.from_config(load_config(cfg), consumer=None)


def uids(sim: ArrayProcess, prefix: str, n: int) -> list[str]:
    conn = sim.conn(timeout=600)      # every volume of a 10,000-volume array, on a busy machine
    vols = conn.EnumerateInstances("IBMTSSVC_StorageVolume", PropertyList=["ElementName", "Name"])
    names = sorted((str(v["ElementName"]), str(v["Name"])) for v in vols if str(v["ElementName"]).startswith(prefix))
    return [uid for _, uid in names[:n]]


def phase(orch: Orchestrator, fn) -> tuple[float, int]:
    sent = orch.array.requests
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000, orch.array.requests - sent


def measure_sets(total: int, sizes: list[int], pool: str | None = None) -> list[dict]:
    """With `pool` (storagePool) the targets are created and deleted: the free pool is
    one volume that is never used."""
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # requests are counted: prepares end before the next request (PREPARE_AT_ONCE)
        sim = start_array(tmp, total, max(sizes), 1 if pool else max(sizes), time_scale=PREPARE_AT_ONCE)
        try:
            orch = orchestrator(tmp, sim, backgroundCopy=0, **({"storagePool": pool} if pool else {}))
            sources = uids(sim, "src", max(sizes))
            # the first set of a process also pays its one-time lookups (cluster, services,
            # hosts): measured on its own row, then the sizes on a warm process
            for first, n in [(True, 1)] + [(False, n) for n in sizes]:
                set_id = f"bench-{n}-{'first' if first else 'warm'}"
                # the "about to commit" write belongs before the hold, as PreCommitSnapshots does it
                prep_ms, prep_rq = phase(orch, lambda: (orch.prepare(set_id, sources[:n], SetOptions()),
                                                        orch.pre_commit(set_id)))
                hold_ms, hold_rq = phase(orch, lambda: orch.commit(set_id))
                post_ms, post_rq = phase(orch, lambda: orch.post_commit(set_id))
                del_ms, del_rq = phase(orch, lambda: orch.delete(set_id=set_id))
                rows.append({"array volumes": total, "targets": "created" if pool else "free pool",
                             "set size": n, "process": "new" if first else "warm",
                             "prepare ms": prep_ms, "prepare rq": prep_rq,
                             "commit ms (hold)": hold_ms, "commit rq": hold_rq,
                             "post-commit ms": post_ms, "post rq": post_rq,
                             "create ms": prep_ms + hold_ms + post_ms,
                             "create rq": prep_rq + hold_rq + post_rq,
                             "delete ms": del_ms, "delete rq": del_rq,
                             "budget rq (10+2/vol)": 10 + 2 * n,
                             "delete budget rq": 10 + (2 if pool else 1) * n})
        finally:
            sim.stop()
    return rows


def measure_cleanup(count: int) -> dict:
    """`count` lifecycles stopped after attach (as a crash would leave them), then one
    cleanup. Targets are created in the pool (storagePool): a free pool of `count`
    volumes would make every create list all of them."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = start_array(tmp, count + 10, count, 1)
        try:
            orch = orchestrator(tmp, sim, backgroundCopy=50, storagePool="Pool0")
            sources = uids(sim, "src", count)
            for i, uid in enumerate(sources):
                record = orch.prepare(f"c{i}", [uid], SetOptions())
                del record
            orch.close()                    # the process "died": only the files remain, unlocked
            again = orchestrator(tmp, sim, backgroundCopy=50, storagePool="Pool0")
            t0 = time.perf_counter()
            report = again.cleanup()
            seconds = time.perf_counter() - t0
            return {"unfinished lifecycles": count, "cleanup s": seconds,
                    "per lifecycle ms": 1000 * seconds / count,
                    "rolled back": sum(r["action"] == "rolled back" for r in report),
                    "requests": again.array.requests}
        finally:
            sim.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    args = parser.parse_args(argv)
    arrays, sizes, cleanup_n = ([100], [1, 8], 20) if args.quick else ([100, 10_000], [1, 8, 64], 1000)
    rows = [r for total in arrays for r in measure_sets(total, sizes)]
    rows += measure_sets(arrays[0], [1, 16] if args.quick else sizes, pool="Pool0")
    print_table("Shadow-copy sets: time and array requests per phase", rows,
                ["array volumes", "targets", "set size", "process", "prepare ms", "prepare rq", "commit ms (hold)",
                 "commit rq", "post-commit ms", "post rq", "create ms", "create rq", "delete ms", "delete rq",
                 "budget rq (10+2/vol)", "delete budget rq"])
    cleanup = measure_cleanup(cleanup_n)
    print_table("Cleanup of unfinished lifecycles", [cleanup], list(cleanup))
    path = write_json("lifecycle" + ("-quick" if args.quick else ""), {"sets": rows, "cleanup": cleanup})
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
