"""The two runners, without Windows: a stand-in pwsh executable and a stand-in pypsrp."""

import base64
import sys
import textwrap

import pytest

from adapters.host import powershell as ps
from adapters.host.powershell import LocalRunner, PowerShellError, PsrpRunner
from tests.support.powershell import HOSTILE

SCRIPT = "param([string]$Name)\n$ErrorActionPreference = 'Stop'\nGet-Thing -Name $Name\n" \
         "ConvertTo-Json -InputObject $x -Compress -Depth 2\n"

# Plays pwsh: prints back its arguments and the job it read from stdin, or fails on request.
FAKE_PWSH = textwrap.dedent("""\
    import base64, json, sys
    job = json.loads(base64.b64decode(sys.stdin.buffer.read()).decode("utf-8"))
    mode = job["params"].get("Mode")
    if mode == "fail":
        sys.stderr.write("Get-Thing : No thing matches the name.\\r\\n")
        sys.exit(1)
    if mode == "garbage":
        print("WARNING: not JSON")
    elif mode != "silent":
        print(json.dumps({"argv": sys.argv[1:], "job": job}))
    """)


@pytest.fixture
def pwsh(tmp_path):
    exe = tmp_path / "pwsh"
    exe.write_text(f"#!{sys.executable}\n{FAKE_PWSH}")
    exe.chmod(0o755)
    return str(exe)


def test_local_runner_passes_values_as_data(pwsh):
    out = LocalRunner(pwsh).run(SCRIPT, {"Name": HOSTILE, "Ids": ["a", "b"], "Offline": True})
    assert out["job"] == {"script": SCRIPT, "params": {"Name": HOSTILE, "Ids": ["a", "b"],
                                                       "Offline": True}}
    flags, encoded = out["argv"][:-1], out["argv"][-1]
    assert flags == ["-NoLogo", "-NoProfile", "-NonInteractive", "-EncodedCommand"]
    bootstrap = base64.b64decode(encoded).decode("utf-16-le")
    assert bootstrap == ps._BOOTSTRAP  # fixed text: no value is ever part of it
    assert "@params" in bootstrap and HOSTILE not in " ".join(out["argv"])


def test_local_runner_error_is_powershells_message(pwsh):
    with pytest.raises(PowerShellError, match="Get-Thing -Name.*No thing matches the name"):
        LocalRunner(pwsh).run(SCRIPT, {"Mode": "fail"})


def test_local_runner_refuses_output_that_is_not_json(pwsh):
    with pytest.raises(PowerShellError, match="not JSON"):
        LocalRunner(pwsh).run(SCRIPT, {"Mode": "garbage"})


def test_local_runner_no_output_is_none(pwsh):
    assert LocalRunner(pwsh).run(SCRIPT, {"Mode": "silent"}) is None


def test_local_runner_timeout(tmp_path):
    exe = tmp_path / "pwsh"
    exe.write_text(f"#!{sys.executable}\nimport time; time.sleep(5)\n")
    exe.chmod(0o755)
    with pytest.raises(PowerShellError, match="no answer within 0.2 s"):
        LocalRunner(str(exe), timeout_s=0.2).run(SCRIPT, {})


def test_local_runner_without_powershell(monkeypatch):
    monkeypatch.setattr(ps.shutil, "which", lambda name: None)
    with pytest.raises(PowerShellError, match="pwsh"):
        LocalRunner()


class FakeWSMan:
    instances = []
    fail_with = None

    def __init__(self, server, **kwargs):
        self.server, self.kwargs = server, kwargs
        FakeWSMan.instances.append(self)
        if FakeWSMan.fail_with:
            raise FakeWSMan.fail_with

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class FakePool:
    def __init__(self, wsman):
        self.wsman = wsman

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class Record:
    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


class FakePowerShell:
    last = None
    output = ['{"Number":1,', '"UniqueId":"60050760008D89C0D000000000000001"}']
    errors = []

    def __init__(self, pool):
        FakePowerShell.last = self
        self.scripts, self.params = [], {}
        self.had_errors = bool(FakePowerShell.errors)
        self.streams = type("Streams", (), {"error": [Record(e) for e in FakePowerShell.errors]})

    def add_script(self, script):
        self.scripts.append(script)

    def add_parameters(self, params):
        self.params.update(params)

    def invoke(self):
        return list(FakePowerShell.output)


@pytest.fixture
def psrp(monkeypatch):
    FakeWSMan.instances, FakeWSMan.fail_with, FakePowerShell.errors = [], None, []
    monkeypatch.setattr(ps, "WSMan", FakeWSMan)
    monkeypatch.setattr(ps, "RunspacePool", FakePool)
    monkeypatch.setattr(ps, "PowerShell", FakePowerShell)
    return PsrpRunner("hv01.example.local", "vssadmin", "S3cret!pw", domain="EXAMPLE")


def test_psrp_runner_sends_script_and_parameters_apart(psrp):
    out = psrp.run(SCRIPT, {"Name": HOSTILE})
    assert out == {"Number": 1, "UniqueId": "60050760008D89C0D000000000000001"}
    sent = FakePowerShell.last
    assert sent.scripts == [SCRIPT] and sent.params == {"Name": HOSTILE}
    wsman = FakeWSMan.instances[0]
    assert wsman.server == "hv01.example.local"
    assert wsman.kwargs == {"username": "EXAMPLE\\vssadmin", "password": "S3cret!pw",
                            "ssl": False, "auth": "negotiate"}


def test_psrp_runner_error_records(psrp):
    FakePowerShell.errors = ["Get-VM : Hyper-V was unable to find a virtual machine with id x."]
    with pytest.raises(PowerShellError, match="on hv01.example.local: Get-VM : Hyper-V was unable"):
        psrp.run(SCRIPT, {"Name": "x"})


def test_psrp_runner_never_shows_the_password(psrp, capsys):
    FakeWSMan.fail_with = RuntimeError("401 for EXAMPLE\\vssadmin with S3cret!pw")
    with pytest.raises(PowerShellError) as caught:
        psrp.run(SCRIPT, {"Name": "x"})
    assert "S3cret!pw" not in str(caught.value) and "***" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "S3cret!pw" not in repr(psrp)
    captured = capsys.readouterr()
    assert "S3cret!pw" not in captured.out + captured.err


def test_psrp_runner_without_domain(psrp):
    PsrpRunner("hv01", "Administrator", "pw").run(SCRIPT, {})
    assert FakeWSMan.instances[-1].kwargs["username"] == "Administrator"
