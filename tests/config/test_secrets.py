"""Passwords: typed without echo or piped in (never on the command line), sealed in the
file with a key only its owner can read, opened for every consumer through the Config."""

from __future__ import annotations

import base64
import os
import pty
import select
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from orchestrator import passwords
from orchestrator.config import load_config
from orchestrator.configedit import set_value
from tests.support.commands import clean_env, script

pytestmark = pytest.mark.skipif(os.name == "nt", reason="file modes and pty are POSIX")

SECRET = "Pw-typed 7Q#x"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fresh(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"stateDir: {tmp_path / 'state'}\nusingSSL: true\n{text}", encoding="utf-8")
    path.chmod(0o600)
    return path


def unchecked_env() -> dict[str, str]:
    return {**clean_env(), "VSSORCH_SET_CHECK": "0"}


def shown_by_ps(pid: int) -> str:
    """What other users see of a running process: its arguments (ps reads /proc)."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


class Terminal:
    """inspurvcfg on a pseudo-terminal, as a person at a console runs it."""

    def __init__(self, *args: str):
        pid, self.fd = pty.fork()
        if pid == 0:                                            # the child: becomes inspurvcfg
            command = [*script("inspurvcfg"), *args]
            os.execve(command[0], command, unchecked_env())
        self.pid, self.seen = pid, b""

    def expect(self, text: str) -> None:
        while text.encode() not in self.seen:
            ready, _, _ = select.select([self.fd], [], [], 60)
            assert ready, f"no {text!r} on the terminal; saw {self.seen!r}"
            self.seen += os.read(self.fd, 1024)

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def finish(self) -> int:
        while True:
            try:
                chunk = os.read(self.fd, 1024)
            except OSError:                                     # EIO: the child closed the pty
                break
            if not chunk:
                break
            self.seen += chunk
        os.close(self.fd)
        return os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])


def test_a_terminal_is_asked_twice_without_echo_and_ps_never_shows_it(tmp_path: Path):
    path = fresh(tmp_path)
    term = Terminal("--config", str(path), "set", "password")
    term.expect("password: ")
    term.type(SECRET)
    term.expect("password again: ")
    assert SECRET not in shown_by_ps(term.pid)                  # the tool holds it now
    term.type(SECRET)
    assert term.finish() == 0
    assert SECRET.encode() not in term.seen                     # no echo, never printed
    assert b"password: ********" in term.seen
    assert b"warning" not in term.seen
    assert load_config(path, env={}).password == SECRET
    assert SECRET not in path.read_text(encoding="utf-8")


def test_two_different_entries_change_nothing(tmp_path: Path):
    path = fresh(tmp_path)
    before = path.read_bytes()
    term = Terminal("--config", str(path), "set", "vmpassword")
    term.expect("vmpassword: ")
    term.type(SECRET)
    term.expect("vmpassword again: ")
    term.type(SECRET + "x")
    assert term.finish() == 2
    assert b"the two entries differ; nothing was changed" in term.seen
    assert path.read_bytes() == before


def test_standard_input_gives_one_line_and_ps_never_shows_it(tmp_path: Path):
    path = fresh(tmp_path)
    child = subprocess.Popen([*script("inspurvcfg"), "--config", str(path), "set", "vmpassword"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=unchecked_env(), cwd=tmp_path)
    assert SECRET not in shown_by_ps(child.pid)
    out, err = child.communicate(f"{SECRET}\nsecond line is not read\n".encode(), timeout=60)
    assert (child.returncode, err) == (0, b"")
    assert out == b"vmpassword: ********\n"
    assert load_config(path, env={}).vm_password == SECRET


def test_empty_standard_input_is_refused(run_cli, tmp_path: Path):
    path = fresh(tmp_path)
    before = path.read_bytes()
    done = run_cli("--config", str(path), "set", "password")    # stdin: nothing (run_cli's)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "password:" in done.stderr and "nothing was changed" in done.stderr
    assert path.read_bytes() == before


def test_a_command_line_password_works_and_warns(run_cli, tmp_path: Path):
    path = fresh(tmp_path)
    done = run_cli("--config", str(path), "set", "password", SECRET)
    assert done.returncode == 0 and done.stdout == "password: ********\n"
    assert done.stderr == ("inspurvcfg: warning: a password given on the command line is visible "
                           "to other users (ps, shell history); 'inspurvcfg set password' without a "
                           "value asks for it instead\n")
    assert load_config(path, env={}).password == SECRET


def test_the_file_holds_it_sealed_with_an_owner_only_key_beside_the_state_folder(tmp_path: Path):
    path = tmp_path / "new" / "config.yaml"
    state = tmp_path / "state"
    set_value(path, "stateDir", str(state), env={})
    set_value(path, "password", SECRET, env={})
    stored = yaml.safe_load(path.read_text(encoding="utf-8"))["password"]
    key = tmp_path / "state.key"
    assert stored.startswith("fernet:") and SECRET not in path.read_text(encoding="utf-8")
    assert mode(path) == 0o600 and mode(key) == 0o600
    assert key.read_bytes().strip().decode() not in path.read_text(encoding="utf-8")
    assert load_config(path, env={}).password == SECRET
    # the same password again is sealed afresh; other edits keep the sealed text as it is
    set_value(path, "cimomPort", 5988, env={})
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["password"] == stored


def test_an_older_plain_text_file_still_works_and_set_seals_it(run_cli, tmp_path: Path):
    path = fresh(tmp_path, "password: 0x1F\nvmpassword: 'yes'   # kept comment\n")
    assert load_config(path, env={}).password == "0x1F"
    done = run_cli("--config", str(path), "set", "cimomHost", "array1")
    assert (done.returncode, done.stderr) == (0, "")
    text = path.read_text(encoding="utf-8")
    assert "0x1F" not in text and "'yes'" not in text and "# kept comment" in text
    stored = yaml.safe_load(text)
    assert stored["password"].startswith("fernet:") and stored["vmpassword"].startswith("fernet:")
    config = load_config(path, env={})
    assert (config.password, config.vm_password, config.cimom_host) == ("0x1F", "yes", "array1")


def test_moving_the_state_folder_moves_the_key(tmp_path: Path):
    path = fresh(tmp_path)
    set_value(path, "password", SECRET, env={})
    set_value(path, "stateDir", str(tmp_path / "elsewhere" / "state"), env={})
    assert (tmp_path / "elsewhere" / "state.key").exists()
    assert load_config(path, env={}).password == SECRET


def test_a_wrong_or_missing_key_is_one_line_naming_the_key_file(run_cli, tmp_path: Path):
    path = fresh(tmp_path)
    set_value(path, "password", SECRET, env={})
    key = tmp_path / "state.key"
    old_key = key.read_bytes().strip().decode()
    key.write_bytes(base64.urlsafe_b64encode(b"k" * 32))
    done = run_cli("--config", str(path), "showcfg")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"password: cannot be opened with the key file {key}" in done.stderr
    assert old_key not in done.stderr and "kkkk" not in done.stderr
    key.unlink()
    done = run_cli("--config", str(path), "showcfg")
    assert done.returncode == 2 and "which is missing" in done.stderr
    # setting it again mends the file
    assert run_cli("--config", str(path), "set", "password", SECRET).returncode == 0
    assert load_config(path, env={}).password == SECRET


def test_the_environment_still_overrides(tmp_path: Path):
    path = fresh(tmp_path)
    set_value(path, "password", SECRET, env={})
    config = load_config(path, env={"VSSORCH_PASSWORD": "from-env", "VSSORCH_VMPASSWORD": "vm-env"})
    assert (config.password, config.vm_password) == ("from-env", "vm-env")


def test_the_config_never_shows_its_passwords(tmp_path: Path):
    path = fresh(tmp_path)
    set_value(path, "password", SECRET, env={})
    config = load_config(path, env={})
    assert SECRET not in repr(config) and SECRET not in str(config)


def test_warnings_for_files_others_can_read_and_a_clear_text_connection(run_cli, tmp_path: Path):
    path = fresh(tmp_path)
    set_value(path, "password", SECRET, env={})
    path.chmod(0o644)
    (tmp_path / "state.key").chmod(0o640)
    set_value(path, "usingSSL", False, env={})    # a secret: set makes the file 0600 again
    assert mode(path) == 0o600
    path.chmod(0o644)
    done = run_cli("--config", str(path), "showcfg")
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        f"inspurvcfg: warning: {path} holds a password and other users can read or change it "
        f"(mode 0644): chmod 600 {path}",
        f"inspurvcfg: warning: {tmp_path / 'state.key'} is the key to the passwords and other "
        f"users can read or change it (mode 0640): chmod 600 {tmp_path / 'state.key'}",
        "inspurvcfg: warning: usingSSL is false: the CIMOM password goes over the network in "
        "clear text (set usingSSL true, port 5989)"]
    # without a password in the file a readable file is fine
    (tmp_path / "other").mkdir()
    plain = fresh(tmp_path / "other")
    plain.chmod(0o644)
    assert run_cli("--config", str(plain), "showcfg").stderr == ""


@pytest.mark.parametrize("value", ["!abc", "yes", "No", "ON", "1e3", "null", "~", "12:30",
                                   "2001-01-01", "0x1F", "&anchor", "*alias"])
def test_a_value_yaml_would_read_as_another_type_or_a_tag_is_stored_quoted(tmp_path: Path, value):
    path = fresh(tmp_path)
    set_value(path, "vmdomain", value, env={})
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["vmdomain"] == value
    assert load_config(path, env={}).vm_domain == value


def test_a_tag_written_by_hand_is_refused(run_cli, tmp_path: Path):
    path = fresh(tmp_path, "vmdomain: !abc\n")
    done = run_cli("--config", str(path), "showcfg")
    assert done.returncode == 2
    assert done.stderr == (f"inspurvcfg: error: {path}:3: vmdomain: YAML reads this value as a "
                           "tag (!abc); put it in quotes\n")


def test_windows_seals_with_dpapi_and_no_key_file(tmp_path: Path, monkeypatch):
    """The choice of scheme and the stored form; DPAPI itself runs only on Windows."""
    calls = []

    def fake_dpapi(data: bytes, protect: bool) -> bytes:
        calls.append(protect)
        return data[::-1]
    monkeypatch.setattr(passwords, "_dpapi", fake_dpapi)
    assert (passwords.scheme(windows=True), passwords.scheme(windows=False)) == ("dpapi", "fernet")
    stored = passwords.seal(SECRET, tmp_path / "state", windows=True)
    assert stored == "dpapi:" + base64.b64encode(SECRET.encode()[::-1]).decode()
    assert calls == [True] and not (tmp_path / "state.key").exists()
    assert passwords.is_sealed(stored)
    assert passwords.reveal(stored, tmp_path / "state", windows=True) == SECRET
    assert calls == [True, False]


def test_a_dpapi_value_elsewhere_says_so(tmp_path: Path):
    path = fresh(tmp_path, "password: dpapi:AQAAANCMnd8BFdERjHoAwE/Cl+s=\n")
    with pytest.raises(Exception, match="sealed with Windows DPAPI"):
        load_config(path, env={})
