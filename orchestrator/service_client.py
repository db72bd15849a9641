"""Talking to the provider: over the service (HTTP on loopback or a Unix socket) or in
this process. Both return the service's reply envelope (docs/SERVICE.md)."""
from __future__ import annotations

import http.client
import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import BadInput, VssError
from orchestrator.service_http import UNIX_SOCKETS
from orchestrator.service_schema import dispatch
from orchestrator.vss import VssProvider


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


NOT_RUNNING = "the provider service is not running (start `vssorch serve` or use --in-process)"


class HttpClient:
    def __init__(self, url: str, token: str, timeout: float = 600.0):
        self.url, self._token, self.timeout = url, token, timeout
        self._conn: http.client.HTTPConnection | None = None

    @classmethod
    def from_token_file(cls, url: str, token_file: Path) -> "HttpClient":
        # The service writes its token at every start: without one it has not started here.
        try:
            token = Path(token_file).read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise VssError(3002, f"{NOT_RUNNING}: {token_file}: {getattr(exc, 'strerror', None) or exc}") from None
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", token):
            # never echo it: the file may hold a secret of another kind
            raise VssError(3002, f"{NOT_RUNNING}: {token_file} does not hold a service token")
        return cls(url, token)

    def __repr__(self) -> str:
        return f"HttpClient({self.url!r})"      # the token stays out of reprs

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.url.startswith("unix:"):
                if not UNIX_SOCKETS:
                    raise BadInput(3002, f"the provider service at {self.url}: this system has no "
                                         f"Unix sockets; use http://HOST[:PORT]")
                self._conn = _UnixConnection(self.url[len("unix:"):], self.timeout)
            else:
                parts = urlsplit(self.url)
                if parts.scheme != "http" or not parts.hostname:
                    # the service speaks plain HTTP; without a host http.client fails inside
                    raise BadInput(3002, f"the provider service at {self.url}: "
                                         f"not http://HOST[:PORT] or unix:PATH")
                self._conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        return self._conn

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status == 408 and attempt == 1:
                    # a kept-alive connection reached the service's idle deadline as this
                    # request arrived: nothing was called, so one fresh try
                    conn.close()
                    self._conn = None
                    continue
                break
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                conn.close()
                self._conn = None
                # a kept-alive connection the service closed meanwhile: one fresh try
                if attempt == 2 or not isinstance(exc, (ConnectionResetError, http.client.RemoteDisconnected,
                                                        BrokenPipeError)):
                    raise self._unreachable(exc) from None
        try:
            return resp.status, json.loads(data)
        except ValueError:
            raise VssError(911, f"provider service at {self.url}: a reply that is not JSON") from None

    def _unreachable(self, exc: Exception) -> VssError:
        if isinstance(exc, (ConnectionRefusedError, FileNotFoundError)):   # nobody listens there
            return VssError(3002, f"{NOT_RUNNING}: nothing listens at {self.url}")
        return VssError(3002, f"the provider service at {self.url}: {getattr(exc, 'strerror', None) or exc}")

    def call(self, name: str, **args) -> dict:
        status, reply = self.request("POST", f"/v1/{name}", json.dumps(args).encode())
        if status >= 400 and "error" in reply:
            reply.setdefault("ok", False)
        return reply

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class InProcessClient:
    """The same calls without a service (for tests and a one-machine CLI run)."""

    def __init__(self, provider: VssProvider):
        self.provider = provider

    def call(self, name: str, **args) -> dict:
        # the JSON round trip keeps in-process calls to exactly what the service accepts
        return dispatch(self.provider, name, json.loads(json.dumps(args)))[1]

    def close(self) -> None:
        pass
