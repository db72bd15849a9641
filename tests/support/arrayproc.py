"""Run the embedded array as a real process on a free loopback port, and talk to its
admin/data endpoints. Tests use this; nothing here reaches into the array's state."""
from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pywbem

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "superuser", "passw0rd"
NAMESPACE = "root/ibm"
# An array clock this many times real time for whatever counts requests across a prepare:
# a mapping's 2 s prepare has ended by the client's next request, so how often a create
# reads it still preparing never depends on timing (at 1000x it is 2 ms, which a fast
# request sometimes beats: one read more).
PREPARE_AT_ONCE = 1e6


@dataclass
class ArrayProcess:
    state: Path
    http: bool = False
    seed: Path | None = None
    time_scale: float = 1.0
    extra: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    url: str = ""

    def start(self) -> "ArrayProcess":
        cmd = [sys.executable, "-m", "simulator.serve", "--state", str(self.state), "--port", "0",
               "--time-scale", str(self.time_scale), *self.extra]
        if self.http:
            cmd.append("--http")
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        # stderr to a file and stdout drained: a pipe nobody reads fills up and blocks the array
        self.state.mkdir(parents=True, exist_ok=True)
        self.log_path = self.state / "array.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=log,
                                         text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"array did not start: {line!r} {self.log_path.read_text()[-2000:]}")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.url = line.split("listening on ")[1].split()[0]
        return self

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else 0

    @classmethod
    def running_at(cls, url: str) -> "ArrayProcess":
        """A handle on a plain-HTTP array another process started: data and admin calls."""
        return cls(state=Path(), http=True, url=url)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def kill_and_restart(self) -> None:
        """The array dies (SIGKILL: nothing flushed, no clean stop) and comes back on the
        same port with its state folder, as after a power loss."""
        port = str(self.port)
        self.proc.kill()
        self.proc.wait()
        self.seed = None                        # the state folder is provisioned already
        if "--port" not in self.extra:
            self.extra = [*self.extra, "--port", port]
        self.start()

    @property
    def cafile(self) -> str | None:
        return None if self.http else str(self.state / "tls" / "cert.pem")

    def conn(self, user: str = USER, password: str = PASSWORD, timeout: float = 30) -> pywbem.WBEMConnection:
        conn = pywbem.WBEMConnection(self.url, (user, password), default_namespace=NAMESPACE,
                                     ca_certs=self.cafile, timeout=timeout)
        # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override the CA file we
        # pass; the array's own certificate must be the one that counts.
        conn.session.trust_env = False
        return conn

    # ------------------------------------------------------------ admin/data
    def _request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.url + path, data=body, method=method)
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        ctx = None
        if not self.http:
            ctx = ssl.create_default_context(cafile=self.cafile)
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return resp.read()

    def admin(self, method: str, path: str, obj=None):
        body = None if obj is None else json.dumps(obj).encode()
        return json.loads(self._request(method, "/admin/" + path, body) or b"null")

    def read(self, uid: str, offset: int = 0, length: int | None = None) -> bytes:
        q = f"?offset={offset}" + (f"&length={length}" if length is not None else "")
        return self._request("GET", f"/admin/data/{uid}{q}")

    def write(self, uid: str, offset: int, data: bytes) -> None:
        self._request("PUT", f"/admin/data/{uid}?offset={offset}", data)

    def host_read(self, initiator: str, uid: str, offset: int, length: int) -> bytes:
        return self._request("GET", f"/data/{uid}?offset={offset}&length={length}", headers={"X-Initiator": initiator})

    def host_luns(self, initiator: str) -> list[dict]:
        return json.loads(self._request("GET", "/data", headers={"X-Initiator": initiator}))

    def faults(self, faults: list[dict], latency: float = 0.0):
        return self.admin("PUT", "faults", {"faults": faults, "latency": latency})

    def clear_faults(self):
        return self.admin("DELETE", "faults")

    def stats(self) -> dict:
        return self.admin("GET", "stats")["requests"]


HTTPError = urllib.error.HTTPError
