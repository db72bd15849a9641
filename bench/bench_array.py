"""Embedded array at scale: requests/s and latency of GetInstance, an Associators
call on one host view (20 volumes), ExposePaths/HidePaths and a query for 64
volumes by UID, on a small and a large array.
The point: the cost must not grow with the array's size.

And the array's own capacity on one core (issue 17: at least 1,000 GetInstance/s):
the request handler called in this process on one thread (decode, run, encode), and
over HTTPS as GetInstance requests per CPU second of the array's process.

    .venv/bin/python -m bench.bench_array [--quick]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pywbem
from pywbem import _cim_xml as X
from pywbem._tupleparse import TupleParser
from pywbem._tupletree import xml_to_tupletree_sax

from bench.common import print_table, summary, timed, write_json
from tests.support.arrayproc import ROOT, ArrayProcess

# Same shape as simulator/seeds/scale.yaml (host n sees its ten volumes and its
# neighbour's ten), so both sizes answer the host-view call with 20 volumes and only
# the array's size differs.
SMALL_SEED = """
pools: [{name: Pool0, capacity: 4096TiB}]
hosts:
  - {name: "host{n:04d}", count: %(hosts)d, wwpns: ["21000024FF{n:06X}"]}
volumes:
  - {name: "vol{n:05d}", count: %(volumes)d, size: 1GiB, pool: Pool0}
mappings:
  - {host: "host{n:04d}", count: %(hosts)d, volumes: [%(own)s]}
  - {host: "host{n:04d}", count: %(hosts)d, shift: 1, force: true, volumes: [%(next)s]}
"""


def small_seed(volumes: int, hosts: int) -> str:
    own = ", ".join(f'"vol{{n:04d}}{i}"' for i in range(10))
    return SMALL_SEED % {"hosts": hosts, "volumes": volumes, "own": own, "next": own.replace("{n:", "{v:")}


def measure(sim: ArrayProcess, reps: int) -> list[dict]:
    conn = sim.conn()
    vol = conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")[7]
    pcs = {p["ElementName"]: p.path for p in conn.EnumerateInstances("IBMTSSVC_ProtocolController")}
    pc = pcs["host0003"]
    spare = conn.GetInstance(conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")[-1])["Name"]
    ccs = conn.EnumerateInstanceNames("IBMTSSVC_ControllerConfigurationService")[0]

    names = ", ".join(f"'vol{n:05d}'" for n in range(64))
    uids = ", ".join(f"'{v['Name']}'" for v in conn.ExecQuery(
        "WQL", f"SELECT Name FROM CIM_StorageVolume WHERE ElementName IN ({names})"))
    by_uid = f"SELECT * FROM CIM_StorageVolume WHERE Name IN ({uids})"

    def expose_hide():
        assert conn.InvokeMethod("ExposePaths", ccs, LUNames=[spare], ProtocolControllers=[pc], Force=True)[0] == 0
        assert conn.InvokeMethod("HidePaths", ccs, LUNames=[spare], ProtocolControllers=[pc])[0] == 0

    rows = []
    for name, fn, calls in (
            ("GetInstance(volume)", lambda: conn.GetInstance(vol), 1),
            ("Associators(host view -> volumes)",
             lambda: conn.Associators(pc, AssocClass="CIM_ProtocolControllerForUnit",
                                      ResultClass="CIM_StorageVolume"), 1),
            ("ExposePaths + HidePaths", expose_hide, 2),
            ("ExecQuery(64 volumes by UID)", lambda: conn.ExecQuery("WQL", by_uid), 1)):
        fn()  # warm the connection
        s = summary(timed(fn, reps))
        rows.append({"operation": name, "requests/s": s["per_s"] * calls, "mean ms": s["mean_ms"] / calls,
                     "p95 ms": s["p95_ms"] / calls})
    return rows


def request_body(method: str, namespace: str, **params) -> bytes:
    """An intrinsic request as pywbem's client writes it (paths without their namespace)."""
    ns = X.LOCALNAMESPACEPATH([X.NAMESPACE(n) for n in namespace.split("/")])
    params = {k: v.copy() for k, v in params.items()}
    for v in params.values():
        v.namespace = v.host = None
    call = X.IMETHODCALL(method, ns, [X.IPARAMVALUE(k, v.tocimxml()) for k, v in params.items()])
    return X.CIM(X.MESSAGE(X.SIMPLEREQ(call), "1001", "1.0"), "2.0", "2.0").toxml().encode()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (every thread), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (2 cores: above 2 means waiting for one)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def one_core(seed: Path, reps: int) -> list[dict]:
    """GetInstance of the seed's volumes in turn (a different volume each request, so
    the array's shared-property cache sees every volume's own values): the handler in
    this process, then per CPU second of the array's process over HTTPS and over plain
    HTTP, a pywbem client in this process sending one request after the other on one
    kept-alive connection. The array's CPU time is the fair measure on a shared machine
    (wall time is mostly waiting for a core); the wall rate and the load averages are
    reported with it."""
    from simulator.array import Array
    from simulator.seed import apply_seed
    from simulator.cimxml import decode
    from simulator.dispatch import ArrayService
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        array = Array(Path(tmp) / "state")
        apply_seed(array, seed)
        service = ArrayService(array)
        names = service.handle_cim(decode(request_body("EnumerateInstanceNames", array.namespace,
                                                       ClassName=pywbem.CIMClassName("IBMTSSVC_StorageVolume"))))[0]
        reply = TupleParser().parse_cim(xml_to_tupletree_sax(names, "reply"))
        _, _, (_, _, (_, _, (_, _, [(_, _, paths)]))) = reply
        bodies = [request_body("GetInstance", array.namespace, InstanceName=p) for p in paths]
        assert b"<INSTANCE " in service.handle_cim(decode(bodies[0]))[0]
        n = reps * 10
        t0 = time.process_time()
        for i in range(n):         # decode, run, encode: what the server does per request
            service.handle_cim(decode(bodies[i % len(bodies)]))
        cpu = time.process_time() - t0
        rows.append({"where": "handler, in process", "requests": n, "requests per CPU s": n / cpu})
        array.store.close()
        for http in (False, True):
            sim = ArrayProcess(Path(tmp) / ("http" if http else "https"), seed=seed, http=http).start()
            try:
                conn = sim.conn()        # one kept-alive connection, as pywbem's session keeps it
                volumes = conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume")
                conn.GetInstance(volumes[0])
                n = reps * 10
                load0, c0, t0 = load_average(), cpu_seconds(sim.proc.pid), time.perf_counter()
                for i in range(n):
                    conn.GetInstance(volumes[i % len(volumes)])
                cpu, wall = cpu_seconds(sim.proc.pid) - c0, time.perf_counter() - t0
                rows.append({"where": f"{'HTTP' if http else 'HTTPS'}, array process", "requests": n,
                             "server CPU s": cpu, "requests per CPU s": n / cpu if cpu else float("inf"),
                             "requests/s (one client)": n / wall, "load before": load0, "load after": load_average()})
            finally:
                sim.stop()
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="small sizes and few repetitions (CI)")
    args = p.parse_args(argv)
    sizes = [(100, 10), (1000, 100)] if args.quick else [(100, 10), (10000, 1000)]
    reps = 20 if args.quick else 200
    results = []
    for volumes, hosts in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            seed = Path(tmp) / "seed.yaml"
            if volumes == 10000:
                seed = ROOT / "simulator" / "seeds" / "scale.yaml"
            else:
                seed.write_text(small_seed(volumes, hosts))
            sim = ArrayProcess(Path(tmp) / "state", seed=seed).start()
            try:
                for row in measure(sim, reps):
                    results.append({"volumes": volumes, "hosts": hosts, **row})
            finally:
                sim.stop()
    print_table("embedded array, HTTPS, one client", results,
                ["volumes", "hosts", "operation", "requests/s", "mean ms", "p95 ms"])
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.yaml"
        seed.write_text(small_seed(100, 10))
        core = one_core(seed, reps)
    print_table("GetInstance(volume) on one core (target: 1,000 requests per CPU second)", core,
                ["where", "requests", "server CPU s", "requests per CPU s", "requests/s (one client)",
                 "load before", "load after"])
    name = "array" + ("-quick" if args.quick else "")
    print(f"\nwritten to {write_json(name, {'operations': results, 'one_core': core})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
