"""`vssorch batch` end to end: real shadow copies on the embedded array, checked by
reading the array and the volumes' bytes back."""
from __future__ import annotations

import json
import subprocess

from tests.support.arrayproc import ROOT
from tests.support.data import MiB, fill
from tests.support.demo import BACKUP_IQN, HOST_IQN, SRC1, SRC2


def test_the_demo_batch(run, array, view, config, tmp_path):
    one, two = fill(array, SRC1, b"first volume ", MiB), fill(array, SRC2, b"second volume ", MiB)
    before = view.snapshot()
    report = tmp_path / "report.json"
    done = run("vssorch", "batch", str(ROOT / "examples" / "demo-batch.yaml"), "--config", str(config),
               "--report", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(report.read_text())
    assert result["ok"] and [j["result"] for j in result["jobs"]] == ["ok"] * 5
    backup, point, _, restored, released = result["jobs"]
    assert backup["verified"] and point["verified"] and restored["verified"]
    # the restore brought the point in time back over what the application wrote
    assert array.read(SRC1, 0, MiB) == one and array.read(SRC2, 0, MiB) == two
    # the backup is gone; the restore point was consumed by its restore
    assert len(released["deleted"]) == 2
    assert view.fcmaps() == {} and view.snapshot()["volumes"] == before["volumes"]
    assert view.host_volumes()["backup_host"] == set()
    assert "no shadow copies" in run("vssorch", "list", "--config", str(config)).stdout
    table = done.stdout.splitlines()
    assert any(line.split()[:3] == ["backup", "create", "ok"] for line in table)


def test_an_imported_copy_holds_the_point_in_time(run, array, view, config, tmp_path):
    before = fill(array, SRC1, b"before ", MiB)
    path = tmp_path / "b.yaml"
    path.write_text("jobs:\n  - name: b\n    create:\n      volumes: [vss_src_vol]\n"
                    "      transportable: true\n      import_to: backup_host\n      verify: true\n"
                    "  - write: {volumes: [vss_src_vol], text: after}\n")
    done = run("vssorch", "batch", str(path), "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)["jobs"][0]
    target = job["shadows"][0]["target_uid"]
    assert array.host_read(BACKUP_IQN, target, 0, MiB) == before
    assert array.host_read(HOST_IQN, SRC1, 0, 5) == b"after"
    listed = json.loads(run("vssorch", "list", "--config", str(config), "--json").stdout)
    assert [(r["set_id"], r["target_uid"]) for r in listed] == [(job["set_id"], target)]


def test_keep_deletes_older_copies(run, config, view, tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("jobs:\n" + "".join(
        f"  - name: n{i}\n    create: {{volumes: [vss_src_vol], transportable: true, copy_rate: 0, keep: 2}}\n"
        for i in range(3)))
    done = run("vssorch", "batch", str(path), "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    jobs = json.loads(done.stdout)["jobs"]
    assert [len(j["deleted"]) for j in jobs] == [0, 0, 1]
    assert jobs[2]["deleted"] == [jobs[0]["shadows"][0]["shadow_id"]]
    listed = json.loads(run("vssorch", "list", "--config", str(config), "--json").stdout)
    assert {r["set_id"] for r in listed} == {jobs[1]["set_id"], jobs[2]["set_id"]}
    assert len(view.fcmaps()) == 2


def test_a_failed_job_is_undone_and_the_rest_skipped(run, view, config, tmp_path):
    # Two free targets: the first job takes one, the second needs two (3007 when it
    # looks for targets), so it fails and the delete after it must not run.
    spare = sorted(n for n in view.host_volumes()["vss_free_host"])[2:]
    assert run("inspurvcfg", "--config", str(config), "rem", *spare).returncode == 0
    path = tmp_path / "b.yaml"
    path.write_text("jobs:\n  - name: fine\n    create: {volumes: [vss_src_vol], transportable: true}\n"
                    "  - name: bad\n    create: {volumes: [vss_src_vol, vss_src_vol2], transportable: true}\n"
                    "  - delete: {job: fine}\n")
    done = run("vssorch", "batch", str(path), "--config", str(config), "--report", str(tmp_path / "r.json"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "error 3007" in done.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert [j["result"] for j in result["jobs"]] == ["ok", "failed", "skipped"]
    assert result["jobs"][1]["code"] == 3007 and not result["ok"]
    # the failed job left nothing: only the first job's mapping, one target still free
    assert len(view.fcmaps()) == 1 and len(view.host_volumes()["vss_free_host"]) == 1
    listed = json.loads(run("vssorch", "list", "--config", str(config), "--json").stdout)
    assert {r["set_id"] for r in listed} == {result["jobs"][0]["set_id"]}
    assert list((tmp_path / "state").glob("*.json")) == [tmp_path / "state" / f"set-{result['jobs'][0]['set_id']}.json"]


def test_demo_script(tmp_path):
    done = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "VSSORCH_NO_APT": "1",
                                                       "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "embedded array: http" in done.stdout or "embedded array: https" in done.stdout
    assert "release-backup" in done.stdout and "no shadow copies" in done.stdout


def test_a_cascade_restore_reports_300_and_the_newer_copies_it_deleted(run, array, view, config, tmp_path):
    before = fill(array, SRC1, b"at the old copy ", MiB)
    path = tmp_path / "b.yaml"
    # copy rate 0: the newer copy reads through the older one (a cascade, manual 5.1)
    path.write_text("jobs:\n  - name: old\n    create: {volumes: [vss_src_vol], copy_rate: 0}\n"
                    "  - write: {volumes: [vss_src_vol], text: between}\n"
                    "  - name: new\n    create: {volumes: [vss_src_vol], copy_rate: 0}\n"
                    "  - restore: {job: old}\n")
    done = run("vssorch", "batch", str(path), "--config", str(config), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    old, _, new, restored = json.loads(done.stdout)["jobs"]
    assert restored["result"] == "ok" and restored["code"] == 300
    newer = [s["shadow_id"] for s in new["shadows"]]
    assert newer and set(newer) <= set(restored["deleted"]) and newer[0] in restored["detail"]
    assert array.read(SRC1, 0, MiB) == before
    assert view.fcmaps() == {} and "no shadow copies" in run("vssorch", "list", "--config", str(config)).stdout
