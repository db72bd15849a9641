"""Running a PowerShell script here or on another Windows machine, with JSON back.

Every script the adapters send starts with a `param(...)` block and receives its values
as named parameters; no value is ever pasted into script text, so a volume name or a VM
name cannot turn into code. Scripts end with `ConvertTo-Json -Compress -Depth N`, and
`run` returns the parsed JSON (None when the script printed nothing).

Two runners: `LocalRunner` starts pwsh / powershell.exe on this machine; `PsrpRunner`
speaks PowerShell Remoting (pypsrp) to another one, e.g. the Hyper-V parent.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from core.log import get_logger
from adapters.host.base import HostError

log = get_logger(__name__)


class PowerShellError(HostError):
    """The script failed or could not be run; the message is PowerShell's own."""


class PowerShellRunner(Protocol):
    def run(self, script: str, params: Mapping[str, Any]) -> Any: ...


def parse_json_output(chunks: list[str], script_head: str) -> Any:
    text = "".join(chunks).strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise PowerShellError(f"{script_head}: output is not JSON ({exc}): {text[:200]!r}") from None


def _head(script: str) -> str:
    """A short name for the script in messages: its first line of work."""
    for line in script.splitlines():
        line = line.strip()
        if line and not line.startswith(("param(", "$ErrorActionPreference")):
            return line[:60]
    return "script"


# Fixed text run by the local shell: it reads {"script", "params"} as base64 JSON from
# stdin and splats the parameters into the script, so that values travel as data exactly
# as they do over PowerShell Remoting. Base64 keeps the pipe ASCII whatever the console
# code page; progress records are silenced because powershell.exe would print them to
# stderr as CLIXML.
_BOOTSTRAP = r"""
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$job = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadToEnd())) | ConvertFrom-Json
$params = @{}
foreach ($p in $job.params.PSObject.Properties) { $params[$p.Name] = $p.Value }
try { & ([scriptblock]::Create($job.script)) @params }
catch { [Console]::Error.WriteLine($_.Exception.Message); exit 1 }
"""


class LocalRunner:
    """pwsh or powershell.exe on this machine, one process per script."""

    def __init__(self, executable: str | None = None, timeout_s: float = 300.0) -> None:
        found = executable or shutil.which("pwsh") or shutil.which("powershell.exe") \
            or shutil.which("powershell")
        if not found:
            raise PowerShellError("neither pwsh nor powershell.exe is on PATH")
        self.executable = found
        self.timeout_s = timeout_s

    def argv(self) -> list[str]:
        encoded = base64.b64encode(_BOOTSTRAP.encode("utf-16-le")).decode("ascii")
        return [self.executable, "-NoLogo", "-NoProfile", "-NonInteractive",
                "-EncodedCommand", encoded]

    def run(self, script: str, params: Mapping[str, Any]) -> Any:
        job = json.dumps({"script": script, "params": dict(params)}).encode("utf-8")
        head = _head(script)
        log.debug("powershell local", script=head, params=sorted(params))
        try:
            done = subprocess.run(self.argv(), input=base64.b64encode(job), capture_output=True,
                                  timeout=self.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise PowerShellError(f"{head}: no answer within {self.timeout_s:g} s") from None
        except OSError as exc:
            raise PowerShellError(f"{head}: cannot start {self.executable}: {exc}") from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
            raise PowerShellError(f"{head}: {message}")
        return parse_json_output([done.stdout.decode("utf-8", "replace")], head)


@dataclass
class PsrpRunner:
    """PowerShell Remoting (WinRM) to `server` as DOMAIN\\username.

    auth: negotiate (Kerberos, else NTLM), ntlm or kerberos; over plain HTTP (5985) the
    message is encrypted by that authentication, `ssl` moves to HTTPS (5986). Without a
    domain (a workgroup machine) the manual's advice is to give the machine's name.
    One runspace pool per script: the parent may restart between two calls.
    """

    server: str
    username: str
    password: str = field(repr=False)
    domain: str = ""
    auth: str = "negotiate"
    ssl: bool = False

    def run(self, script: str, params: Mapping[str, Any]) -> Any:
        head = _head(script)
        user = f"{self.domain}\\{self.username}" if self.domain else self.username
        log.debug("powershell remote", server=self.server, user=user, script=head,
                  params=sorted(params))
        try:
            wsman = WSMan(self.server, username=user, password=self.password, ssl=self.ssl,
                          auth=self.auth)
            with wsman, RunspacePool(wsman) as pool:
                ps = PowerShell(pool)
                ps.add_script(script)
                ps.add_parameters(dict(params))
                output = ps.invoke()
                errors = [str(record) for record in ps.streams.error]
                failed = ps.had_errors
        except Exception as exc:  # transport, authentication, WS-Man faults: all one kind here
            raise PowerShellError(f"{head} on {self.server}: {self._scrub(str(exc))}") from None
        if failed or errors:
            message = "; ".join(e for e in errors if e) or "the script failed"
            raise PowerShellError(f"{head} on {self.server}: {self._scrub(message)}")
        return parse_json_output([str(chunk) for chunk in output], head)

    def _scrub(self, text: str) -> str:
        return text.replace(self.password, "***") if self.password else text
