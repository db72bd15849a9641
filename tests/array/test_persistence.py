"""State survives a restart; seeds provision once; bad seeds change nothing; two
client processes working at once leave a consistent array."""
import subprocess
import sys
import textwrap

import pytest

from tests.support.arrayproc import ROOT, ArrayProcess
from tests.support.demo import DEMO
from tests.support.smis import Cim


def _snapshot(conn):
    vols = sorted((v["ElementName"], v["Name"], v["NumberOfBlocks"])
                  for v in conn.EnumerateInstances("IBMTSSVC_StorageVolume"))
    hosts = sorted((h["ElementName"], tuple(h["PortWWN"] or h["iSCSIName"]))
                   for h in conn.EnumerateInstances("IBMTSSVC_StorageHardwareID"))
    maps = sorted((m["Antecedent"].keybindings["DeviceID"], m["UniqueID"], m["DeviceNumber"])
                  for m in conn.EnumerateInstances("IBMTSSVC_SystemVolumeController"))
    return vols, hosts, maps


def test_demo_seed_matches_the_manual(array_factory):
    sim = array_factory(seed=DEMO)
    cim = Cim(sim.conn())
    vols, hosts, _ = _snapshot(cim.conn)
    names = {v[0] for v in vols}
    assert {"vss_src_vol", "vss_target_vol"} <= names
    assert dict(hosts)["vss_free_host"] == ("5000000000000000",)
    assert dict(hosts)["vss_res_host"] == ("5000000000000001",)
    pcs = {p["ElementName"]: p.path for p in cim.conn.EnumerateInstances("IBMTSSVC_ProtocolController")}
    free = cim.mapped_uids(pcs["vss_free_host"])
    assert "60050760008D89C0D000000000000003" in free and len(free) == 8
    assert set(cim.mapped_uids(pcs["vss_iscsi_host"])) == {
        "60050760008D89C0D000000000000001", "60050760008D89C0D000000000000002"}


def test_restart_keeps_every_object(array_factory, tmp_path):
    state = tmp_path / "st"
    first = array_factory(seed=DEMO, state=state)
    cim = Cim(first.conn())
    cim.volume("after_seed")
    _, pc = cim.host("after_seed_host", "iqn.2001-04.com.example:after", id_type=5)
    vol = cim.conn.EnumerateInstances("IBMTSSVC_StorageVolume")[-1]
    cim.conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=[vol["Name"]], ProtocolControllers=[pc])
    before = _snapshot(cim.conn)
    cluster = cim.cluster
    assert first.stop() == 0
    second = array_factory(seed=DEMO, state=state)  # same seed again: not re-applied
    conn = second.conn()
    assert _snapshot(conn) == before
    assert conn.EnumerateInstanceNames("IBMTSSVC_Cluster")[0].keybindings == cluster.keybindings


def test_a_killed_array_never_shows_an_earlier_time(array_factory, tmp_path):
    """The clock persists ahead of what it shows (a reservation, not a write per
    request): after SIGKILL the array resumes at or after every time it had shown,
    including one shown by the admin endpoint with no CIM request after it."""
    sim = array_factory(state=tmp_path / "st")
    conn = sim.conn()
    conn.EnumerateInstanceNames("IBMTSSVC_Cluster")
    sim.admin("POST", "clock", {"advance": 5000})
    shown = sim.admin("GET", "clock")["now"]
    sim.kill_and_restart()
    resumed = sim.admin("GET", "clock")["now"]
    assert shown <= resumed < shown + 1000         # forward by at most the reservation, never back


def _serve(args, timeout=60):
    return subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "sim", "serve", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("body, words", [
    ("volumes: [{name: a, size: 1GiB, pool: NoPool}]", "no pool named 'NoPool'"),
    ("volumes: [{name: a, size: lots}]", "size 'lots'"),
    ("hosts: [{name: h, wwpns: ['50000000000000001']}]", "not a 16-hex-digit WWPN"),
    ("bogus: 1", "unknown key"),
    ("volumes: [{name: a, size: 1GiB}, {name: a, size: 1GiB}]", "exists"),
    ("[unclosed", "not valid YAML"),
])
def test_bad_seed_is_one_line_exit_2_and_changes_nothing(tmp_path, body, words):
    seed = tmp_path / "seed.yaml"
    seed.write_text("pools: [{name: Extra, capacity: 1TiB}]\n" + body if not body.startswith("[") else body)
    state = tmp_path / "st"
    res = _serve(["--state", str(state), "--seed", str(seed), "--port", "0", "--http"])
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in res.stderr
    sim = ArrayProcess(state, http=True).start()
    try:
        conn = sim.conn()
        assert conn.EnumerateInstanceNames("IBMTSSVC_StorageVolume") == []
        assert {p["ElementName"] for p in conn.EnumerateInstances("CIM_StoragePool")} == {"Pool0", "ThinPool0"}
    finally:
        sim.stop()


CLIENT = textwrap.dedent("""
    import sys
    from pywbem import Uint16
    from tests.support.arrayproc import ArrayProcess
    from tests.support.smis import Cim
    from pathlib import Path
    sim = ArrayProcess(Path(sys.argv[1]))
    sim.url = sys.argv[2]
    cim = Cim(sim.conn())
    me = sys.argv[3]
    vols = [v["Name"] for v in cim.conn.EnumerateInstances("IBMTSSVC_StorageVolume") if v["ElementName"].startswith("shared")]
    for i in range(15):
        rc, out = cim.create_host(f"{me}_{i}", f"iqn.2001-04.com.example:{me}-{i}", id_type=5)
        assert rc == 0, rc
        pc = cim.conn.AssociatorNames(out["HardwareID"], ResultClass="IBMTSSVC_ProtocolController")[0]
        rc, _ = cim.conn.InvokeMethod("ExposePaths", cim.ccs, LUNames=vols, ProtocolControllers=[pc], Force=True)
        assert rc == 0, rc
""")


def test_two_client_processes_leave_a_consistent_array(array_factory):
    sim = array_factory()
    cim = Cim(sim.conn())
    for i in range(4):
        cim.volume(f"shared{i}")
    procs = [subprocess.Popen([sys.executable, "-c", CLIENT, str(sim.state), sim.url, who], cwd=ROOT)
             for who in ("alpha", "beta")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    maps = cim.conn.EnumerateInstances("IBMTSSVC_SystemVolumeController")
    per_host = {}
    for m in maps:
        per_host.setdefault(m["Antecedent"].keybindings["DeviceID"], []).append(m["DeviceNumber"])
    assert len(per_host) == 30
    assert all(sorted(v) == ["0", "1", "2", "3"] for v in per_host.values())
    assert len(cim.conn.EnumerateInstanceNames("IBMTSSVC_StorageHardwareID")) == 30
