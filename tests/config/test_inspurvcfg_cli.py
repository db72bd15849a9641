"""The installed `inspurvcfg` script, run as users run it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.config import PARAMS, load_config

# (name as typed, value as typed, the line `set` and `showcfg` then print, Config field
# and value; None for paths, which depend on the test's folder)
EVERY_PARAMETER = [
    ("cimomHost", "10.0.0.5", "cimomHost: 10.0.0.5", "cimom_host", "10.0.0.5"),
    ("cimomPort", "5988", "cimomPort: 5988", "cimom_port", 5988),
    ("username", "admin", "username <cimom>: admin", "username", "admin"),
    ("password", "p@ss w0rd", "password: ********", "password", "p@ss w0rd"),
    ("usingSSL", "false", "usingSSL: false", "using_ssl", False),
    ("vssFreeInitiator", "500507680b0000aa", "vssFreeInitiator: 500507680B0000AA",
     "vss_free_initiator", "500507680B0000AA"),
    ("vssReservedInitiator", "500507680B0000AB", "vssReservedInitiator: 500507680B0000AB",
     "vss_reserved_initiator", "500507680B0000AB"),
    ("backgroundCopy", "0", "backgroundCopy: 0", "background_copy", 0),
    ("targetMCS", "0000020060C1D9B4", "targetMCS: 0000020060C1D9B4", "target_mcs",
     "0000020060C1D9B4"),
    ("incrementalLC", "Yes", "incrementalLC: true", "incremental_lc", True),
    ("cimomTimeout", "30000", "cimomTimeout: 30000", "cimom_timeout", 30000),
    ("rescanOnceArr", "1", "rescanOnceArr: 1", "rescan_once_arr", True),
    ("rescanOnceRem", "yes", "rescanOnceRem: 1", "rescan_once_rem", True),
    ("rescanRemMin", "5", "rescanRemMin: 5", "rescan_rem_min", 5),
    ("rescanRemMax", "60", "rescanRemMax: 60", "rescan_rem_max", 60),
    ("storageProtocol", "ISCSI", "storageProtocol: iscsi", "storage_protocol", "iscsi"),
    ("storagePool", "pool_name_1", "storagePool: pool_name_1", "storage_pool", "pool_name_1"),
    ("allocateOption", "se", "allocateOption: se", "allocate_option", "se"),
    ("ioGroup", "iogroup_name_1", "ioGroup: iogroup_name_1", "io_group", "iogroup_name_1"),
    ("deduped", "1", "deduped: 1", "deduped", True),
    ("compressed", "1", "compressed: 1", "compressed", True),
    ("vmhost", "https://172.16.3.115/sdk", "vmhost: https://172.16.3.115/sdk", "vm_host",
     "https://172.16.3.115/sdk"),
    ("vmuser", "root", "vmusername: root", "vm_username", "root"),
    ("vmpassword", "vm-secret", "vmpassword: ********", "vm_password", "vm-secret"),
    ("vmcredential", "certs/vmware.keystore", None, "vm_credential", "certs/vmware.keystore"),
    ("vtimeout", "1000", "vmtimeout: 1000", "vm_timeout", 1000),
    ("vmdomain", "CORP", "vmdomain: CORP", "vm_domain", "CORP"),
    ("namespace", "root/inspur", "namespace: root/inspur", "namespace", "root/inspur"),
    ("caFile", "tls/ca.pem", None, "ca_file", "tls/ca.pem"),
    ("stateDir", "state", None, "state_dir", "state"),
    ("freeHostName", "free0", "freeHostName: free0", "free_host_name", "free0"),
    ("resHostName", "res0", "resHostName: res0", "res_host_name", "res0"),
    ("hostAdapter", "SIM", "hostAdapter: sim", "host_adapter", "sim"),
    ("simInitiator", "10000090fa1b2c3d", "simInitiator: 10000090FA1B2C3D", "sim_initiator",
     "10000090FA1B2C3D"),
    ("restoreStallSeconds", "120", "restoreStallSeconds: 120", "restore_stall_seconds", 120),
]


def test_the_table_covers_every_parameter():
    assert {row[3] for row in EVERY_PARAMETER} == {p.attr for p in PARAMS}


@pytest.mark.parametrize("name, value, line, attr, expected", EVERY_PARAMETER,
                         ids=[row[0] for row in EVERY_PARAMETER])
def test_set_every_parameter(run_cli, config_file: Path, name, value, line, attr, expected):
    comments = config_file.read_text(encoding="utf-8").count("#")
    done = run_cli("--config", str(config_file), "set", name, value)
    assert done.returncode == 0
    if "password" in name:     # typed on the command line: said to be visible
        assert "visible to other users" in done.stderr and done.stderr.count("\n") == 1
    elif name == "usingSSL":   # the example holds a password
        assert "password goes over the network in clear text" in done.stderr
        assert done.stderr.count("\n") == 1
    else:
        assert done.stderr == ""
    if line is None:           # a path typed on the command line is taken from where it was typed
        expected = config_file.parent / expected
        line = f"{name}: {expected}"
    assert done.stdout == line + "\n"
    if "password" in name:
        assert value not in done.stdout + done.stderr + config_file.read_text(encoding="utf-8")
    assert getattr(load_config(config_file, env={}), attr) == expected
    assert config_file.read_text(encoding="utf-8").count("#") == comments


@pytest.mark.parametrize("args, message", [
    (["set", "vssFreelInitiator", "5000000000000000"],
     "unknown parameter 'vssFreelInitiator' (did you mean vssFreeInitiator?)"),
    (["set", "vssReservedInitiator", "50000000000000001"],
     "vssReservedInitiator: must be a WWPN of exactly 16 hex digits, not 17"),
    (["set", "backgroundCopy", "101"], "backgroundCopy: must be an integer 0..100"),
    (["set", "incrementalLC", "perhaps"], "incrementalLC: must be one of true, false, yes, no, 1, 0"),
    (["set", "vmhost", "172.16.3.115/sdk"], "vmhost: must be an https URL"),
    (["set", "storageProtocol", "sas"], "storageProtocol: must be one of auto, fc, iscsi"),
    (["set", "cimomPort", "port"], "cimomPort: must be an integer 1..65535"),
    (["set", "colour", "blue"], "unknown parameter 'colour'"),
    (["set", "cimomHost"], "the following arguments are required: value"),
    (["set", "cimomHost", "a", "b"], "unrecognized arguments: b"),
    (["lsvols", "all"], "invalid choice: 'lsvols'"),
    ([], "the following arguments are required: VERB"),
])
def test_refusals_are_one_line_and_exit_2(run_cli, config_file: Path, args, message):
    original = config_file.read_bytes()
    done = run_cli("--config", str(config_file), *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("inspurvcfg: ") and done.stderr.count("\n") == 1
    assert message in done.stderr
    assert config_file.read_bytes() == original


def test_showcfg_prints_every_parameter_in_the_manuals_order_and_masks_passwords(
        run_cli, config_file: Path):
    config_file.chmod(0o600)
    done = run_cli("showcfg", "--config", str(config_file),
                   extra_env={"VSSORCH_VMPASSWORD": "from-env"})
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    # The manual's sample output (3.2.2.6), in its order.
    sample = ["cimomHost", "cimomPort", "username <cimom>", "usingSSL", "vssFreeInitiator",
              "vssReservedInitiator", "backgroundCopy", "targetMCS", "incrementalLC",
              "cimomTimeout", "rescanOnceArr", "rescanOnceRem", "rescanRemMin", "rescanRemMax",
              "storageProtocol", "storagePool", "allocateOption", "ioGroup", "vmhost",
              "vmusername", "vmcredential", "vmtimeout"]
    labels = [line.split(":")[0] for line in lines]
    assert [label for label in labels if label in sample] == sample
    assert len(lines) == len(PARAMS)
    assert "password: ********" in lines and "vmpassword: ********" in lines
    assert "passw0rd" not in done.stdout and "from-env" not in done.stdout
    assert "targetMCS:" in lines                       # unset values: nothing after the colon


def test_the_config_file_comes_from_the_environment_and_must_exist(run_cli, config_file: Path):
    done = run_cli("showcfg", extra_env={"VSSORCH_CONFIG": str(config_file)})
    assert done.returncode == 0 and "cimomHost: 127.0.0.1\n" in done.stdout
    missing = run_cli("showcfg", extra_env={"VSSORCH_CONFIG": str(config_file) + ".missing"})
    assert missing.returncode == 2
    assert "no such configuration file" in missing.stderr and missing.stderr.count("\n") == 1


def test_a_broken_file_is_reported_with_its_line(run_cli, tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("cimomHost: a1\nbackgroundCopy: 150\n", encoding="utf-8")
    done = run_cli("--config", str(path), "showcfg")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"inspurvcfg: error: {path}:2: backgroundCopy: must be an integer 0..100\n"


def test_set_creates_the_file(run_cli, tmp_path: Path):
    path = tmp_path / "fresh" / "config.yaml"
    done = run_cli("--config", str(path), "set", "vssFreeInitiator", "5000000000000000")
    assert (done.returncode, done.stdout) == (0, "vssFreeInitiator: 5000000000000000\n")
    assert load_config(path, env={}).vss_free_initiator == "5000000000000000"


def test_a_value_starting_with_a_dash(run_cli, config_file: Path):
    done = run_cli("--config", str(config_file), "set", "password", "--", "-secret")
    assert done.returncode == 0
    assert load_config(config_file, env={}).password == "-secret"


def test_help_is_not_an_error(run_cli):
    done = run_cli("--help")
    assert done.returncode == 0 and "showcfg" in done.stdout and "set" in done.stdout


@pytest.mark.parametrize("url, host, port, ssl", [
    ("https://array1.example.com:5989", "array1.example.com", 5989, True),
    ("http://10.0.0.5", "10.0.0.5", 5988, False),
    ("https://[fd00::5]/", "fd00::5", 5989, True),
])
def test_set_cimomhost_takes_the_installers_url_form(run_cli, config_file: Path, url, host, port, ssl):
    done = run_cli("--config", str(config_file), "set", "cimomHost", url)
    assert done.returncode == 0
    assert done.stdout == (f"cimomHost: {host}\ncimomPort: {port}\n"
                           f"usingSSL: {'true' if ssl else 'false'}\n")
    # the example holds a password: plain HTTP says it goes in clear
    assert ("in clear text" in done.stderr) == (not ssl)
    config = load_config(config_file, env={})
    assert (config.cimom_host, config.cimom_port, config.using_ssl) == (host, port, ssl)


@pytest.mark.parametrize("url", ["ftp://array1", "https://user@array1:5989", "https://array1/cimom",
                                 "https://array1:0", "https://array1:99999", "https://bad_host:5989"])
def test_a_bad_cimomhost_url_changes_nothing(run_cli, config_file: Path, url):
    before = config_file.read_bytes()
    done = run_cli("--config", str(config_file), "set", "cimomHost", url)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("inspurvcfg: error: cimom")
    assert config_file.read_bytes() == before


@pytest.mark.skipif(os.name == "nt", reason="there, a Windows path is a path")
@pytest.mark.parametrize("path", [r"C:\certs\vmware.keystore", "D:/certs/vmware.keystore",
                                  r"\\fileserver\certs\vmware.keystore"])
def test_a_windows_path_elsewhere_is_not_found(run_cli, config_file: Path, path):
    before = config_file.read_bytes()
    done = run_cli("--config", str(config_file), "set", "vmcredential", path)
    assert done.returncode == 2
    assert done.stderr == (f"inspurvcfg: error: vmcredential: {path} not found: a Windows path, "
                           "and this system is not Windows\n")
    assert config_file.read_bytes() == before


def test_windows_paths_are_told_apart_only_off_windows():
    from orchestrator.config import foreign_path
    assert foreign_path(r"C:\certs\k", windows=False) and foreign_path(r"\\srv\share\k", windows=False)
    assert not foreign_path(r"C:\certs\k", windows=True)
    assert not foreign_path("certs/k", windows=False) and not foreign_path("/etc/k", windows=False)
