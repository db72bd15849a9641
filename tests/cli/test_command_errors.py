"""Wrong input to `vssorch` is one line and exit 2, never a traceback: `cleanup` with a
bad configuration, unusable VSSORCH_LOG_FILE / VSSORCH_LOG_LEVEL, bad `serve --listen`;
and log lines on the terminal do not repeat the command's own error line."""
from __future__ import annotations

import subprocess
import sys

import pytest

from orchestrator.cli.main import main
from tests.support.arrayproc import ROOT
from tests.support.commands import one_line_error
from tests.support.configfile import write_config


@pytest.fixture
def config(tmp_path):
    # no array: every command here stops before it would talk to one
    return write_config(tmp_path / "config.yaml", None, cimomHost="127.0.0.1", cimomPort=9,
                        username="superuser", password="passw0rd", usingSSL="false")


def _main(capsys, *args) -> tuple[int, str]:
    """The command in this process (the same parser and guards, no start-up each time)."""
    code = main(list(args))
    return code, capsys.readouterr().err


def _one_line(code: int, err: str, manual_code: int) -> str:
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"vssorch: error {manual_code}:"), err
    return err


def test_cleanup_with_a_bad_configuration(capsys, tmp_path):
    _one_line(*_main(capsys, "cleanup", "--config", str(tmp_path / "missing.yaml")), 1004)
    (tmp_path / "bad.yaml").write_text("cimomPort: lots\n")
    assert "bad.yaml:1" in _one_line(*_main(capsys, "cleanup", "--config", str(tmp_path / "bad.yaml")), 1004)
    with pytest.raises(SystemExit) as caught:
        main(["cleanup", "--no-such-option"])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and err.count("\n") == 1 and "--no-such-option" in err


@pytest.mark.parametrize("env, words", [
    ({"VSSORCH_LOG_LEVEL": "loud"}, "VSSORCH_LOG_LEVEL='loud'"),
    ({"VSSORCH_LOG_FILE": "/nonexistent/folder/vssorch.log"}, "VSSORCH_LOG_FILE=/nonexistent/folder"),
    ({"VSSORCH_LOG_FILE": "."}, "VSSORCH_LOG_FILE=."),
])
def test_unusable_log_settings(run, config, env, words):
    done = run("vssorch", "list", "--config", str(config), extra_env=env)
    assert words in one_line_error(done, "vssorch", 2500, 2)
    assert done.stdout == ""


@pytest.mark.parametrize("listen", ["abc", "127.0.0.1:70000", "192.0.2.1:5990"])
def test_bad_listen_values(capsys, config, listen, tmp_path):
    assert "--listen" in _one_line(*_main(capsys, "serve", "--config", str(config), "--listen", listen), 4000)
    assert not (tmp_path / "state").exists()


def test_terminal_log_lines_leave_the_commands_error_to_the_command():
    # a failure event with its code is the command's error line; other events still show
    code = ("import orchestrator; from core.log import get_logger; log = get_logger('t'); "
            "log.warning('lifecycle failed', code=3007, error='no free target'); "
            "log.warning('something else', detail=1); log.error('rollback failed', error='array down')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"VSSORCH_LOG_LEVEL": "warning", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "lifecycle failed" not in done.stderr and "no free target" not in done.stderr
    assert "something else" in done.stderr and "rollback failed" in done.stderr


def test_a_log_file_keeps_every_event(tmp_path):
    code = ("import orchestrator; from core.log import get_logger; "
            "get_logger('t').warning('lifecycle failed', code=3007, error='no free target')")
    log = tmp_path / "v.log"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"VSSORCH_LOG_FILE": str(log), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stderr == ""
    assert '"code": 3007' in log.read_text()


def test_inspurvcfg_checks_the_log_settings_too(run, config):
    done = run("inspurvcfg", "--config", str(config), "showcfg", extra_env={"VSSORCH_LOG_LEVEL": "chatty"})
    assert "VSSORCH_LOG_LEVEL='chatty'" in one_line_error(done, "inspurvcfg", 2500, 2)
