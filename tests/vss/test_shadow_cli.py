"""`vssorch shadow` as a user types it: every command in --help, --json anywhere, one id
scheme with `vssorch list` (braces or not), --exec on every create with its exit status,
--host-name through the service, and what the client says when no service runs."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from orchestrator.cli.main import main

from tests.support.arrayproc import ROOT
from tests.support.demo import SRC1, SRC2

COMMANDS = ("providers", "create", "list", "expose", "unexpose", "import", "delete", "resync")


def vssorch(*args, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", "orchestrator.cli.main", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_help_lists_every_command():
    out = vssorch("shadow", "--help")
    assert out.returncode == 0
    listed = [line.split()[0] for line in out.stdout.split("COMMAND\n", 1)[1].split("\n\n")[0].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert sorted(listed) == sorted(COMMANDS)


def test_one_id_scheme_json_anywhere_and_exec_on_every_create(config_file, view, tmp_path, capsys):
    def cli(*args):     # in this process: the same parser and commands, without a start-up each
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    start = view.snapshot()
    base = ["shadow", "--in-process", "--config", str(config_file), "--host-name", "vss_iscsi_host"]
    marker = tmp_path / "ran"
    code, out, err = cli(*base, "create", SRC1, "--json", "--exec", f"touch {marker}; exit 3")
    assert code == 3, err                                # the command's status, for a persistent set too
    assert marker.exists() and "exited with status 3" in err
    made = json.loads(out)
    shadow_id, set_id = made["shadow_ids"][0], made["set_id"]
    listed = json.loads(cli("list", "--config", str(config_file), "--json")[1])
    assert [(r["set_id"], r["shadow_id"]) for r in listed] == [(set_id, shadow_id)]
    # names, not ids, in what `vssorch list` shows
    assert listed[0]["shown_to"] == ["vss_iscsi_host"] and listed[0]["shown_to_ids"] != ["vss_iscsi_host"]
    assert "vss_iscsi_host" in cli("list", "--config", str(config_file))[1]
    # the id of `vssorch list`, the VSS snapshot id, braces or not, any case
    sets = json.loads(cli(*base, "list", set_id.strip("{}").upper(), "--json")[1])
    assert [sh["shadow_id"] for sh in sets[0]["shadows"]] == [shadow_id]
    code, out, err = cli(*base, "unexpose", "{" + shadow_id.upper() + "}", "--json")
    assert code == 0 and json.loads(out) == [made["targets"][0]["serial"]], err
    code, out, err = cli(*base, "expose", made["snapshot_ids"][0].strip("{}"))
    assert code == 0 and made["targets"][0]["serial"] in out, err
    code, out, err = cli(*base, "delete", "--id", "")   # an empty id names no shadow copy
    assert code == 2 and err.count("\n") == 1 and "error 711" in err, err
    code, out, err = cli(*base, "delete", "--set", set_id.strip("{}"), "--json")
    assert code == 0 and json.loads(out) == [shadow_id], err
    # an auto-release set is gone after its --exec, whose status is the command's
    code, out, err = cli(*base, "create", SRC2, "--auto-release", "--exec", f"test -e {marker}")
    assert code == 0, err
    assert view.snapshot() == start


def test_host_name_through_the_service(service, config_file):
    base = ["shadow", "--service", service.urls[0], "--config", str(config_file)]
    out = vssorch(*base, "--host-name", "vss_iscsi_host", "providers", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["type"] == "VSS_PROV_HARDWARE", out.stderr
    out = vssorch(*base, "--host-name", "backup_host", "list")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "error 205" in out.stderr
    assert "acts for vss_iscsi_host" in out.stderr


def test_no_service_running(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    token = tmp_path / "service.token"
    token.write_text("x" * 43 + "\n")
    for extra in (["--token-file", str(token)], ["--token-file", str(tmp_path / "none")]):
        out = vssorch("shadow", "--service", url, *extra, "list")
        assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
        assert "the provider service is not running (start `vssorch serve` or use --in-process)" in out.stderr
        assert "password" not in out.stderr


def test_service_url_without_a_host(tmp_path, capsys):
    token = tmp_path / "service.token"
    token.write_text("x" * 43 + "\n")
    for url in ("localhost", "http://:5990", "ftp://127.0.0.1:5990"):
        code = main(["shadow", "--service", url, "--token-file", str(token), "list"])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "error 3002" in err, err
        assert "http://HOST[:PORT] or unix:PATH" in err
