"""Every inspurvcfg verb that talks to the array, run as a user runs it, checked by
reading the array back over CIM."""
from __future__ import annotations

import json

import pytest

from tests.support.commands import one_line_error
from tests.support.configfile import write_config
from tests.support.demo import SRC1
from tests.support.view import READS


FREE = {"vss_target_vol", *(f"vss_target_{n}" for n in range(1, 8))}


@pytest.mark.parametrize("kind, expected", [
    ("all", {"vss_src_vol", "vss_src_vol2", *FREE}),
    ("free", FREE),
    ("reserved", set()),
    ("assigned", {"vss_src_vol", "vss_src_vol2", *FREE}),
    ("unassigned", set()),
    ("inlc", set()),
    ("FREE", FREE),
])
def test_listvols_json(run, config, kind, expected):
    done = run("inspurvcfg", "--config", str(config), "listvols", kind, "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {r["name"] for r in rows} == expected
    if kind == "free":
        assert all(r["hosts"] == ["vss_free_host"] and r["size"] == 10 << 30 for r in rows)


def test_listvols_table(run, config, view):
    done = run("inspurvcfg", "--config", str(config), "listvols", "all")
    header, *lines = done.stdout.splitlines()
    assert header.split()[:4] == ["ID", "NAME", "UID", "SIZE"]
    assert len(lines) == len(view.volumes())
    assert any(SRC1 in line and "vss_iscsi_host" in line for line in lines)


def test_listvols_other_words_are_308_without_a_request(run, config, array):
    before = array.stats()
    done = run("inspurvcfg", "--config", str(config), "listvols", "spare")
    one_line_error(done, "inspurvcfg", 308, 2)
    assert array.stats() == before


def test_rem_then_add_round_trip(run, config, view):
    done = run("inspurvcfg", "--config", str(config), "rem", "vss_target_1", "vss_target_2")
    assert done.returncode == 0, done.stderr
    assert "vss_target_1" in done.stdout and "removed from the free pool" in done.stdout
    free = view.host_volumes()["vss_free_host"]
    assert not {"vss_target_1", "vss_target_2"} & free
    unassigned = json.loads(run("inspurvcfg", "--config", str(config), "listvols", "unassigned",
                                "--json").stdout)
    assert {r["name"] for r in unassigned} == {"vss_target_1", "vss_target_2"}
    uid = view.volumes()["vss_target_2"]["uid"]
    done = run("inspurvcfg", "--config", str(config), "add", "vss_target_1", uid.lower())
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("added to the free pool") == 2
    assert {"vss_target_1", "vss_target_2"} <= view.host_volumes()["vss_free_host"]
    # adding again changes nothing and says so
    again = run("inspurvcfg", "--config", str(config), "add", "vss_target_1")
    assert again.returncode == 0 and "already in the free pool" in again.stdout


@pytest.mark.parametrize("verb, volumes, code, exit_code", [
    ("add", ["vss_src_vol"], 37883, 1),                  # mapped to the application host
    ("add", ["vss_target_3", "vss_src_vol"], 37883, 1),  # one refusal: nothing changes
    ("rem", ["vss_src_vol"], 38163, 1),                  # not in the free pool
    ("add", ["no_such_volume"], 201, 2),
    ("rem", ["60050760008D89C0D0000000000000FF"], 201, 2),
])
def test_pool_refusals_change_nothing(run, config, view, verb, volumes, code, exit_code):
    if verb == "add" and "vss_target_3" in volumes:
        assert run("inspurvcfg", "--config", str(config), "rem", "vss_target_3").returncode == 0
    before = view.snapshot()
    done = run("inspurvcfg", "--config", str(config), verb, *volumes)
    one_line_error(done, "inspurvcfg", code, exit_code)
    assert view.snapshot() == before


def test_pool_refuses_volumes_in_a_localcopy(run, config, view, tmp_path):
    batch = tmp_path / "b.yaml"
    batch.write_text("jobs:\n  - create: {volumes: [vss_src_vol], transportable: true}\n")
    assert run("vssorch", "batch", str(batch), "--config", str(config)).returncode == 0
    target = next(n for n in view.volumes() if n in FREE and n not in view.host_volumes()["vss_free_host"])
    before = view.snapshot()
    one_line_error(run("inspurvcfg", "--config", str(config), "add", target), "inspurvcfg", 32816, 1)
    inlc = json.loads(run("inspurvcfg", "--config", str(config), "listvols", "inlc", "--json").stdout)
    assert {r["name"] for r in inlc} == {"vss_src_vol", target}
    assert view.snapshot() == before


def test_set_connection_parameters_tests_the_connection(run, array, tmp_path):
    config = write_config(tmp_path / "c.yaml", array)
    done = run("inspurvcfg", "--config", str(config), "set", "username", "superuser")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("username <cimom>: superuser\nconnected: ")
    wrong = run("inspurvcfg", "--config", str(config), "set", "password", input="Not-The-Pw-7Q\n")
    assert wrong.returncode == 0            # saved; the failed test is a warning
    assert wrong.stdout == "password: ********\n"
    clear, failed = wrong.stderr.splitlines()
    assert clear.startswith("inspurvcfg: warning: usingSSL is false: the CIMOM password goes over")
    assert failed.startswith("inspurvcfg: warning: connection test failed: error 5:")
    assert "Not-The-Pw-7Q" not in wrong.stderr
    # the sealed password is what the connection uses: the right one connects
    right = run("inspurvcfg", "--config", str(config), "set", "password", input="passw0rd\n")
    assert right.stdout.startswith("password: ********\nconnected: "), right.stderr
    assert "passw0rd" not in config.read_text() and "fernet:" in config.read_text()
    # other parameters do not reach for the array
    before = array.stats()
    other = run("inspurvcfg", "--config", str(config), "set", "backgroundCopy", "0")
    assert (other.returncode, other.stderr) == (0, "") and array.stats() == before


def test_set_warns_about_host_side_settings_while_shadow_copies_exist(run, config, tmp_path):
    # iscsi: the simulated host's own protocol (the create must find this host by it)
    quiet = run("inspurvcfg", "--config", str(config), "set", "storageProtocol", "iscsi")
    assert (quiet.returncode, quiet.stderr) == (0, "")
    batch = tmp_path / "b.yaml"
    batch.write_text("jobs:\n  - create: {volumes: [vss_src_vol], transportable: true}\n")
    assert run("vssorch", "batch", str(batch), "--config", str(config)).returncode == 0
    for param, value in (("storageProtocol", "fc"), ("vmhost", "https://vc.example.com/sdk"),
                         ("vmuser", "root")):
        done = run("inspurvcfg", "--config", str(config), "set", param, value)
        assert done.returncode == 0
        assert done.stderr.startswith("inspurvcfg: warning: 1 shadow copies exist"), done.stderr


def test_testsnapshot_creates_checks_and_removes(run, config, view):
    before = view.snapshot()
    done = run("inspurvcfg", "--config", str(config), "testsnapshot", "vss_src_vol", "vss_src_vol2")
    assert done.returncode == 0, done.stderr
    assert "equals its source at commit" in done.stdout
    assert done.stdout.rstrip().endswith("testsnapshot: the configuration works")
    assert view.snapshot() == before
    assert "no shadow copies" in run("vssorch", "list", "--config", str(config)).stdout


def test_testsnapshot_takes_this_hosts_drive_letters(run, config, view):
    """The manual's `testsnapshot E:`: the simulated host's D: and E: are its two array
    disks (the sources, in SCSI id order)."""
    before = view.snapshot()
    done = run("inspurvcfg", "--config", str(config), "testsnapshot", "E:")
    assert done.returncode == 0, done.stderr
    assert "creating a shadow copy of vss_src_vol2\n" in done.stdout
    assert "equals its source at commit" in done.stdout
    assert view.snapshot() == before


def test_testsnapshot_says_what_is_wrong(run, config, view):
    names = sorted(FREE)
    assert run("inspurvcfg", "--config", str(config), "rem", *names).returncode == 0
    before = view.snapshot()
    done = run("inspurvcfg", "--config", str(config), "testsnapshot", "vss_src_vol")
    err = one_line_error(done, "inspurvcfg", 3007, 1)
    assert "inspurvcfg add <volume>" in err
    assert view.snapshot() == before


def test_testsnapshot_unknown_volume(run, config, array):
    one_line_error(run("inspurvcfg", "--config", str(config), "testsnapshot", "X:"), "inspurvcfg", 201, 2)
    assert set(array.stats()) <= READS
