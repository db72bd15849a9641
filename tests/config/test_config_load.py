from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config import (PARAMS, Config, config_path, default_config_path,
                                 default_state_dir, find_param, load_config, parse_config,
                                 suggest)
from core.errors import ConfigError

BASE = Path("/srv/vss")


def parse(text: str, env: dict[str, str] | None = None) -> Config:
    return parse_config(text, "config.yaml", BASE, env or {})


def refused(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text, env)
    return caught.value.detail


def test_example_file_loads_with_its_values(config_file: Path):
    config = load_config(config_file, env={})
    folder = config_file.parent
    assert config.cimom_host == "127.0.0.1"
    assert config.cimom_port == 5989
    assert (config.username, config.password) == ("superuser", "passw0rd")
    assert config.using_ssl is True
    assert config.ca_file == folder / ".state/array/tls/cert.pem"
    assert config.state_dir == folder / ".state/orchestrator"
    assert config.vss_free_initiator == "5000000000000000"
    assert config.vss_reserved_initiator == "5000000000000001"
    assert config.vm_credential is None


def test_example_file_names_every_parameter(example_text: str):
    keys = {line.split(":")[0] for line in example_text.splitlines()
            if line and not line.startswith(("#", " "))}
    assert keys == {p.key for p in PARAMS}


def test_empty_file_gives_the_manuals_defaults():
    config = parse("# nothing yet\n")
    assert config == Config()
    assert (config.cimom_port, config.background_copy, config.rescan_rem_max,
            config.vm_timeout) == (5989, 50, 45, 600000)
    assert (config.using_ssl, config.incremental_lc, config.deduped) == (True, False, False)
    assert (config.storage_protocol, config.allocate_option) == ("auto", "standard")
    assert (config.namespace, config.free_host_name, config.res_host_name) == (
        "root/ibm", "vss_free_host", "vss_res_host")


def test_values_are_read_from_their_text_not_yamls_guess():
    config = parse("usingSSL: Yes\nincrementalLC: NO\npassword: 0123\n"
                   "vssFreeInitiator: 0500000000000000\nvssReservedInitiator: 500507680b0000ff\n"
                   "deduped: 1\ncompressed: true\nstorageProtocol: FC\n")
    assert config.using_ssl is True and config.incremental_lc is False
    assert config.password == "0123"
    assert config.vss_free_initiator == "0500000000000000"      # leading zero kept
    assert config.vss_reserved_initiator == "500507680B0000FF"  # one spelling
    assert (config.deduped, config.compressed) == (True, True)
    assert config.storage_protocol == "fc"


def test_a_key_with_no_value_keeps_its_default():
    config = parse("targetMCS:\nbackgroundCopy: ~\nstoragePool: ''\n")
    assert (config.target_mcs, config.background_copy, config.storage_pool) == ("", 50, "")


@pytest.mark.parametrize("line, message", [
    ("backgroundCopy: 101", "backgroundCopy: must be an integer 0..100"),
    ("backgroundCopy: -1", "backgroundCopy: must be an integer 0..100"),
    ("backgroundCopy: 5e1", "backgroundCopy: must be an integer 0..100"),
    ("backgroundCopy: ''", "backgroundCopy: must be an integer 0..100"),
    ("cimomPort: 0", "cimomPort: must be an integer 1..65535"),
    ("cimomPort: 65536", "cimomPort: must be an integer 1..65535"),
    ("vmtimeout: 0", "vmtimeout: must be an integer 1..2147483647"),
    ("cimomTimeout: 99999999999", "cimomTimeout: must be an integer 0..2147483647"),
    ("usingSSL: maybe", "usingSSL: must be one of true, false, yes, no, 1, 0"),
    ("deduped: 2", "deduped: must be one of true, false, yes, no, 1, 0"),
    ("storageProtocol: sas", "storageProtocol: must be one of auto, fc, iscsi"),
    ("allocateOption: thin", "allocateOption: must be one of standard, se"),
    ("vssFreeInitiator: 50000000000000001", "must be a WWPN of exactly 16 hex digits, not 17"),
    ("vssFreeInitiator: 5000-0000-0000-0000", "must be a WWPN of exactly 16 hex digits"),
    ("vssFreeInitiator: ''", "vssFreeInitiator: must be a WWPN of exactly 16 hex digits"),
    ("vssReservedInitiator: iqn.1991-05.com.microsoft:host1", "an iSCSI name is not accepted"),
    ("cimomHost: https://10.0.0.1", "cimomHost: must be a host name or IP address"),
    ("cimomHost: 10.0.0.1:5989", "cimomHost: must be a host name or IP address"),
    ("vmhost: http://esx/sdk", "vmhost: must be an https URL"),
    ("vmhost: https://root:pw@esx/sdk", "vmhost: must be an https URL"),
    ("vmhost: https://esx:99999/sdk", "vmhost: must be an https URL"),
    ("vmhost: 172.16.3.115", "vmhost: must be an https URL"),
    ("storagePool: my pool", "storagePool: must be an array object name or id"),
    ("freeHostName: ''", "freeHostName: must be an array object name or id"),
    ("namespace: root//ibm", "namespace: must be a CIM namespace"),
    ("stateDir: ''", "stateDir: must be a path"),
    ('username: "a\\nb"', "username: must be a single line"),
])
def test_bad_values_are_refused_naming_line_and_key(line: str, message: str):
    detail = refused(f"# header\n\n{line}\n")
    assert detail.startswith("config.yaml:3: ")
    assert message in detail


def test_unknown_keys_are_refused_with_did_you_mean():
    assert refused("cimomHost: a\nvssFreelInitiator: 5000000000000000\n") == (
        "config.yaml:2: unknown parameter 'vssFreelInitiator' (did you mean vssFreeInitiator?)")
    assert "did you mean vmusername?" in refused("vmuser: root\n")
    assert "did you mean cimomHost?" in refused("cimomhost: a\n")
    assert refused("colour: blue\n") == "config.yaml:1: unknown parameter 'colour'"


def test_structure_problems_are_refused_with_their_line():
    assert refused("cimomPort: 1\ncimomPort: 2\n") == (
        "config.yaml:2: cimomPort: given twice (first on line 1)")
    assert refused("a\n") == "config.yaml:1: the file must be a mapping of 'parameter: value' lines"
    assert refused("- cimomHost: a\n").startswith("config.yaml:1: the file must be a mapping")
    assert refused("\nstoragePool: [a, b]\n") == "config.yaml:2: storagePool: must be a single value"
    assert refused("cimomHost: a\n  bad: indent: here\n").startswith("config.yaml:2: ")
    assert refused("cimomHost: a\n---\ncimomHost: b\n").startswith("config.yaml:")
    assert refused("[" * 5000) == "config.yaml:1: exceeded maximum nesting depth"


def test_rules_between_parameters():
    assert refused("vssFreeInitiator: 5000000000000001\n") == (
        "config.yaml:1: vssFreeInitiator and vssReservedInitiator must differ "
        "(both 5000000000000001)")
    assert refused("rescanRemMin: 9\nrescanRemMax: 3\n") == (
        "config.yaml:2: rescanRemMin and rescanRemMax must be in order (9 is more than 3)")
    assert "freeHostName and resHostName must differ" in refused("resHostName: vss_free_host\n")


def test_environment_overrides_the_passwords_only():
    text = "password: infile\nvmpassword: vminfile\n"
    config = parse(text, {"VSSORCH_PASSWORD": "fromenv", "VSSORCH_VMPASSWORD": "vmenv",
                          "VSSORCH_USERNAME": "ignored"})
    assert (config.password, config.vm_password, config.username) == ("fromenv", "vmenv", "")
    assert parse(text, {"VSSORCH_PASSWORD": ""}).password == "infile"


def test_relative_paths_are_taken_from_the_files_folder(tmp_path: Path):
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "config.yaml"
    path.write_text(f"caFile: tls/ca.pem\nvmcredential: {tmp_path / 'abs.keystore'}\n"
                    "stateDir: ../state\n", encoding="utf-8")
    config = load_config(path, env={})
    assert config.ca_file == tmp_path / "etc" / "tls" / "ca.pem"
    assert config.vm_credential == tmp_path / "abs.keystore"
    assert config.state_dir == tmp_path / "etc" / ".." / "state"


def test_file_problems_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "latin1.yaml").write_bytes(b"username: J\xf6rg\n")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(tmp_path / "latin1.yaml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)


def test_a_notepad_byte_order_mark_is_accepted(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_bytes("\ufeffcimomHost: array1\r\nbackgroundCopy: 0\r\n".encode("utf-8"))
    config = load_config(path, env={})
    assert (config.cimom_host, config.background_copy) == ("array1", 0)


def test_locating_the_file():
    env = {"VSSORCH_CONFIG": "/opt/env.yaml", "ProgramData": r"D:\PD"}
    assert config_path("given.yaml", env) == Path("given.yaml")
    assert config_path(None, env) == Path("/opt/env.yaml")
    assert config_path(None, {"VSSORCH_CONFIG": ""}) == default_config_path({})
    assert default_config_path({}, windows=False) == Path("/etc/vssorch/config.yaml")
    assert default_config_path(env, windows=True) == Path(r"D:\PD") / "vssorch" / "config.yaml"
    assert default_state_dir({}, windows=True) == Path(r"C:\ProgramData") / "vssorch" / "state"
    assert default_state_dir({}, windows=False) == Path("/var/lib/vssorch")


def test_names_for_set_any_case_and_aliases():
    assert find_param("VSSFREEINITIATOR").key == "vssFreeInitiator"
    assert find_param("vmuser").key == "vmusername"
    assert find_param("vtimeout").key == "vmtimeout"
    assert suggest("vssFreelInitiator") == "vssFreeInitiator"
    assert suggest("backgroundcopi") == "backgroundCopy"
    assert suggest("zzz") is None
    with pytest.raises(ConfigError, match=r"unknown parameter 'vssFreelInitiator' "
                                          r"\(did you mean vssFreeInitiator\?\)"):
        find_param("vssFreelInitiator")
