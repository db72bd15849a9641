"""What a new user meets choosing targets: listvols says why a free target is not usable,
create names a missing pool or I/O group and an incremental mapping in the way, and
`rem --drop-incremental` removes the mapping incrementalLC kept. Checked by reading the
array back over CIM."""
from __future__ import annotations

import json

import pytest

from tests.support.arrayproc import ArrayProcess
from tests.support.cimadapter import adapter
from tests.support.commands import one_line_error
from tests.support.configfile import write_config
from tests.support.view import READS


SEED = """
pools:
  - {name: Pool0, capacity: 1TiB}
  - {name: ThinPool0, capacity: 1TiB, thin: true}
hosts:
  - {name: vss_free_host, wwpns: ["5000000000000000"]}
  - {name: vss_res_host, wwpns: ["5000000000000001"]}
  - {name: app_host, iqns: ["iqn.1991-05.com.microsoft:app"]}
volumes:
  - {name: src, size: 10GiB, map: app_host}
  - {name: src_off, size: 10GiB, map: app_host, online: false}
  - {name: t_ok, size: 10GiB, map: vss_free_host}
  - {name: t_off, size: 10GiB, map: vss_free_host, online: false}
  - {name: t_small, size: 1GiB, map: vss_free_host}
  - {name: t_thin, size: 10GiB, pool: ThinPool0, thin: true, map: vss_free_host}
  - {name: t_two, size: 10GiB, map: vss_free_host}
"""


@pytest.fixture
def small(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    proc = ArrayProcess(state=tmp_path / "small", http=True, seed=seed, time_scale=1000).start()
    yield proc
    proc.stop()


@pytest.fixture
def cfg(tmp_path, small):
    # this host is app_host (the sources' host) through the simulated host adapter
    return write_config(tmp_path / "config.yaml", small, hostAdapter="sim",
                        simInitiator="iqn.1991-05.com.microsoft:app")


def inspurvcfg(run, cfg, *args, **kw):
    return run("inspurvcfg", "--config", str(cfg), *args, **kw)


def fcmaps(proc) -> dict[str, tuple[str, str]]:
    """Mapping name -> (source name, target name), read over CIM."""
    cim = adapter(proc)
    names = {v.id: v.name for v in cim.volumes_named("")}
    return {m.name: (names[m.source_id], names[m.target_id]) for m in cim.fcmaps_named("")}


def free_hosted(proc) -> set[str]:
    cim = adapter(proc)
    return {v.name for v in cim.host_volumes(cim.host_named("vss_free_host").id)}


def batch(run, cfg, tmp_path, text: str):
    path = tmp_path / "jobs.yaml"
    path.write_text(text)
    return run("vssorch", "batch", str(path), "--config", str(cfg))


CREATE = "jobs:\n  - name: c\n    create: {volumes: [src], transportable: true}\n"


def test_listvols_without_a_list_is_308_without_a_request(run, cfg, small):
    before = small.stats()
    one_line_error(inspurvcfg(run, cfg, "listvols"), "inspurvcfg", 308, 2)
    assert small.stats() == before


def test_listvols_shows_status_and_why_a_free_target_is_not_usable(run, cfg):
    done = inspurvcfg(run, cfg, "listvols", "free", "--json")
    assert (done.returncode, done.stderr) == (0, "")
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert {n: r["status"] for n, r in rows.items()} == {
        "t_ok": "online", "t_off": "offline", "t_small": "online", "t_thin": "online", "t_two": "online"}
    assert {n: r["unusable"] for n, r in rows.items()} == {
        "t_ok": [], "t_two": [], "t_off": ["offline"],
        "t_small": ["wrong size: no volume outside the pools has 1 GiB"],
        "t_thin": ["thin: needs backgroundCopy 0"]}
    table = inspurvcfg(run, cfg, "listvols", "all").stdout.splitlines()
    assert table[0].split() == ["ID", "NAME", "UID", "SIZE", "STATUS", "POOL", "HOSTS", "LOCALCOPY",
                                "NOT", "USABLE"]
    src_off = next(line for line in table if " src_off " in line)
    assert "offline" in src_off
    # with backgroundCopy 0 the thin target is usable
    assert inspurvcfg(run, cfg, "set", "backgroundCopy", "0").returncode == 0
    rows = {r["name"]: r for r in json.loads(inspurvcfg(run, cfg, "listvols", "free", "--json").stdout)}
    assert rows["t_thin"]["unusable"] == []


@pytest.mark.parametrize("param, value", [("storagePool", "NoSuchPool"), ("ioGroup", "no_grp")])
def test_no_suitable_target_names_the_missing_pool_or_io_group(run, cfg, small, tmp_path, param, value):
    if param == "ioGroup":
        assert inspurvcfg(run, cfg, "set", "storagePool", "Pool0").returncode == 0
    assert inspurvcfg(run, cfg, "set", param, value).returncode == 0
    before = (fcmaps(small), sorted(v.name for v in adapter(small).volumes_named("")))
    done = batch(run, cfg, tmp_path, CREATE)
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert last.startswith("vssorch: error 3007: no suitable target volume found") and repr(value) in last
    assert (fcmaps(small), sorted(v.name for v in adapter(small).volumes_named(""))) == before


def test_an_incremental_mapping_in_the_way_is_said_in_words(run, cfg, small, tmp_path):
    assert inspurvcfg(run, cfg, "set", "incrementalLC", "Yes").returncode == 0
    assert batch(run, cfg, tmp_path, CREATE).returncode == 0      # its target stays reserved
    before = fcmaps(small)
    done = batch(run, cfg, tmp_path, CREATE)
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert last.startswith("vssorch: error 402: ")
    assert "src already has an incremental mapping (vss-" in last
    assert "a source has one incremental mapping at a time" in last
    assert fcmaps(small) == before


def test_drop_incremental_removes_the_kept_mapping(run, cfg, small, tmp_path):
    assert inspurvcfg(run, cfg, "set", "incrementalLC", "Yes").returncode == 0
    text = CREATE + "  - delete: {job: c}\n"
    assert batch(run, cfg, tmp_path, text).returncode == 0
    (kept, (source, target)), = fcmaps(small).items()               # incrementalLC kept it
    assert kept.startswith("vss-") and source == "src" and target in free_hosted(small)
    rows = {r["name"]: r for r in json.loads(inspurvcfg(run, cfg, "listvols", "free", "--json").stdout)}
    assert rows[target]["unusable"] == [f"target of {kept} (incremental)"]
    assert inspurvcfg(run, cfg, "set", "incrementalLC", "No").returncode == 0
    done = inspurvcfg(run, cfg, "rem", "--drop-incremental", "src")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"src: removed incremental mapping {kept} (target {target})\n"
    assert fcmaps(small) == {}
    assert target in free_hosted(small)                              # still a free target
    # nothing left to drop: one line, nothing changes
    one_line_error(inspurvcfg(run, cfg, "rem", "--drop-incremental", "src"), "inspurvcfg", 711, 1)


def test_drop_incremental_refuses_mappings_it_does_not_own(run, cfg, small, tmp_path):
    cim = adapter(small)
    ids = {v.name: v.id for v in cim.volumes_named("")}
    cim.attach([(ids["src"], ids["t_two"], "nightly_inc")], copy_rate=50, incremental=True, group_id=None)
    before = fcmaps(small)
    done = inspurvcfg(run, cfg, "rem", "--drop-incremental", "t_two")
    assert "nightly_inc" in one_line_error(done, "inspurvcfg", 711, 1)
    assert fcmaps(small) == before
    # a mapping a shadow copy of this host still uses is not touched either
    cim.delete_fcmap(cim.fcmaps_named("nightly_inc")[0].id, force=True)
    assert inspurvcfg(run, cfg, "set", "incrementalLC", "Yes").returncode == 0
    assert batch(run, cfg, tmp_path, CREATE).returncode == 0
    before = fcmaps(small)
    done = inspurvcfg(run, cfg, "rem", "--drop-incremental", "src")
    assert "delete that shadow copy first" in one_line_error(done, "inspurvcfg", 32816, 1)
    assert fcmaps(small) == before


def test_every_verb_reads_only_until_asked_to_change(run, cfg, small):
    """listvols and a refused drop send no method call (every change is one)."""
    small.admin("DELETE", "stats")
    inspurvcfg(run, cfg, "listvols", "all")
    inspurvcfg(run, cfg, "rem", "--drop-incremental", "src")
    assert set(small.stats()) <= READS
