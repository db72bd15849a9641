"""`vssorch batch` reports the manual's codes: 5 wrong password, 3002 array unreachable,
512 offline source, 201 unknown volume, 2506 a report that cannot be written (checked
before anything runs); `--check --json` prints JSON."""
from __future__ import annotations

import json
import socket

import subprocess

import pytest

from orchestrator.cli.main import main
from tests.support.commands import one_line_error
from tests.support.configfile import write_config
from tests.support.demo import SRC1
from tests.support.view import READS


@pytest.fixture
def run(capsys):
    """`vssorch` in this process (the same parser and guards, no start-up each time);
    returns what a child process would."""
    def call(name: str, *args: str):
        assert name == "vssorch"
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return call

JOB = "jobs:\n  - create: {volumes: [vss_src_vol], verify: true}\n"


def _batch(tmp_path, text: str = JOB):
    path = tmp_path / "b.yaml"
    path.write_text(text)
    return path


def test_codes_for_the_array_and_the_sources_and_nothing_changes(run, array, view, config, tmp_path):
    path = _batch(tmp_path)
    before = view.snapshot()
    array.admin("DELETE", "stats")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(config.read_text().replace("passw0rd", "not-it"))
    err = one_line_error(run("vssorch", "batch", str(path), "--config", str(wrong)), "vssorch", 5, 1)
    assert "not-it" not in err
    # a report that could not be written is found before anything runs: the array is not asked
    done = run("vssorch", "batch", str(path), "--config", str(config), "--report", str(tmp_path / "no" / "r.json"))
    one_line_error(done, "vssorch", 2506, 2)
    done = run("vssorch", "batch", str(path), "--config", str(config), "--report", str(tmp_path))
    assert "is a folder" in one_line_error(done, "vssorch", 2506, 2)
    array.admin("POST", f"volumes/{SRC1}/online", {"online": False})
    done = run("vssorch", "batch", str(path), "--config", str(config), "--report", str(tmp_path / "r.json"))
    assert f"{path}:2: job job1: volume vss_src_vol is offline" in one_line_error(done, "vssorch", 512, 2)
    assert not (tmp_path / "r.json").exists()
    array.admin("POST", f"volumes/{SRC1}/online", {"online": True})
    done = run("vssorch", "batch", str(_batch(tmp_path, JOB.replace("vss_src_vol", "gone_vol"))), "--config",
               str(config), "--check", "--json")
    one_line_error(done, "vssorch", 201, 2)
    assert json.loads(done.stdout)["code"] == 201 and json.loads(done.stdout)["ok"] is False
    assert view.snapshot() == before and set(array.stats()) <= READS, array.stats()


def test_check_json(run, config, tmp_path):
    path = _batch(tmp_path, JOB + "  - delete: {job: job1}\n")
    done = run("vssorch", "batch", str(path), "--config", str(config), "--check", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and [(j["name"], j["action"], j["line"]) for j in result["jobs"]] == [
        ("job1", "create", 2), ("job2", "delete", 3)]
    assert result["jobs"][0]["volumes"] == {"vss_src_vol": SRC1}
    assert list((tmp_path / "state").glob("*.json")) == []


def test_an_array_that_cannot_be_reached_is_3002(run, tmp_path):
    with socket.socket() as s:         # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = write_config(tmp_path / "config.yaml", None, cimomHost="127.0.0.1", cimomPort=port,
                          username="superuser", password="passw0rd", usingSSL="false")
    done = run("vssorch", "batch", str(_batch(tmp_path)), "--config", str(config), "--json")
    one_line_error(done, "vssorch", 3002, 1)
    assert json.loads(done.stdout)["code"] == 3002
