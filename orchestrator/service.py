"""`vssorch serve`: the provider callbacks as a local JSON-over-HTTP service.

The native COM shim that VSS loads forwards each callback here (on Windows through a
named pipe or loopback TCP; here loopback TCP and/or a Unix socket). Schema and reply
envelope: docs/SERVICE.md and orchestrator/service_schema.py.

- Only loopback: the service is the provider of this machine, nobody else's.
- A random token, written 0600 to <stateDir>/service.token at every start, must come in
  `Authorization: Bearer <token>`; it is compared in constant time and never logged.
- One request at a time per snapshot set (the provider's per-set locks), sets in
  parallel (a thread per connection).
- The configuration file is checked before every call (stat, then a hash when the stat
  changed); a good new file replaces the engine, a broken one is logged once and the old
  configuration stays. The manual's provider needs a service restart for that.
- At start the engine's cleanup finishes or rolls back what a crash left (OnLoad).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import structlog

from orchestrator.config import Config, load_config
from orchestrator.engine import Orchestrator
from orchestrator.errors import VssError
from orchestrator.service_schema import CALLS, SCHEMA_VERSION, bad_request, dispatch
from orchestrator.vss import VssProvider

log = structlog.get_logger("vssorch.service")

MAX_BODY = 1 << 20
TOKEN_FILE = "service.token"


def default_engine(host_name: str | None) -> Callable[[Config], Orchestrator]:
    # With a named array host, targets are mapped to it and no host adapter is needed.
    return lambda config: Orchestrator.from_config(config, consumer=None if host_name else "auto")


def write_token(path: Path) -> str:
    """A fresh token in a file only its owner can read (created 0600, then renamed)."""
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    os.replace(tmp, path)
    return token


class ConfigWatch:
    """The current engine, rebuilt when the configuration file's content changes."""

    def __init__(self, path: Path, make: Callable[[Config], Orchestrator]):
        self.path, self.make = Path(path), make
        self._lock = threading.Lock()
        self.config = load_config(self.path)
        self.engine = make(self.config)
        self._stat = self._stat_now()
        self._digest = self._hash()
        self._bad: str | None = None
        self.reloads = 0

    def _stat_now(self):
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _hash(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def current(self) -> Orchestrator:
        with self._lock:
            stat = self._stat_now()
            if stat != self._stat:
                self._stat = stat
                digest = self._hash()
                if digest not in (self._digest, self._bad):
                    self._reload(digest)
            return self.engine

    def _reload(self, digest: str | None) -> None:
        try:
            config = load_config(self.path)
            engine = self.make(config)
        except VssError as exc:
            self._bad = digest
            log.error("configuration change ignored, keeping the previous one", file=str(self.path),
                      code=exc.code, error=exc.detail)
            return
        self.config, self.engine, self._digest, self._bad = config, engine, digest, None
        self.reloads += 1
        log.warning("configuration reloaded", file=str(self.path))


class _Handler(BaseHTTPRequestHandler):
    server_version = "vssorch-provider"
    protocol_version = "HTTP/1.1"
    # headers and body leave in two writes: without this, Nagle and the client's delayed
    # ACK add ~40 ms to every call, a quarter of a CommitSnapshots
    disable_nagle_algorithm = True

    def log_message(self, format, *args):   # noqa: A002 - the base class's name
        """Requests are logged by dispatch (without the token); no stderr chatter."""

    def _reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.server.service.token.encode())
        if not ok:
            self._reply(401, {"ok": False, "code": 5, "error": "error 5: missing or wrong service token"})
        return ok

    def do_GET(self):
        if not self._authorised():
            return
        if self.path.rstrip("/") == "/v1":
            svc = self.server.service
            self._reply(200, {"ok": True, "schema": SCHEMA_VERSION, "reloads": svc.watch.reloads,
                              "calls": sorted(CALLS)})
        else:
            self._reply(404, {"ok": False, "code": 4001, "error": f"error 4001: no resource {self.path}"})

    def do_POST(self):
        length = self.headers.get("Content-Length")
        if not self._authorised():
            return
        if not self.path.startswith("/v1/"):
            self._reply(404, {"ok": False, "code": 4001, "error": f"error 4001: no resource {self.path}"})
            return
        if length is None or not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            self._reply(400, bad_request(f"a Content-Length of at most {MAX_BODY} bytes is needed"))
            return
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            self._reply(400, bad_request(f"the body is not JSON: {exc}"))
            return
        status, payload = self.server.service.call(self.path[len("/v1/"):], body)
        self._reply(status, payload)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _TcpServer(ThreadingHTTPServer):
    daemon_threads = True


class _UnixHandler(_Handler):
    disable_nagle_algorithm = False      # no TCP on a Unix socket


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("unix", 0)       # the handler expects a (host, port) address


class Service:
    def __init__(self, config_path: Path, *, host_name: str | None = None, listen: str | None = "127.0.0.1:0",
                 unix_socket: Path | None = None, make_engine: Callable[[Config], Orchestrator] | None = None,
                 cleanup: bool = True):
        self.watch = ConfigWatch(config_path, make_engine or default_engine(host_name))
        self.state_dir = Path(self.watch.config.state_dir)
        self.provider = VssProvider(self.watch.current, self.state_dir, host_name)
        self.token_path = self.state_dir / TOKEN_FILE
        self.token = write_token(self.token_path)
        self._listen, self._unix = listen, unix_socket
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self.urls: list[str] = []
        self.cleanup_report = self.provider.OnLoad()["cleanup"] if cleanup else []

    def call(self, name: str, body) -> tuple[int, dict]:
        status, reply = dispatch(self.provider, name, body)
        log.info("service call", call=name, status=status, hresult=reply.get("hresult"),
                 array_requests=reply.get("array_requests"))
        return status, reply

    def start(self) -> "Service":
        if self._listen:
            host, _, port = self._listen.rpartition(":")
            host = host.strip("[]") or "127.0.0.1"
            if host == "localhost":
                host = "127.0.0.1"
            if not _loopback(host):
                raise VssError(4000, f"{host} is not a loopback address; the service is local only")
            srv = _TcpServer((host, int(port)), _Handler)
            self.urls.append(f"http://{host}:{srv.server_address[1]}")
            self._servers.append(srv)
        if self._unix:
            path = Path(self._unix)
            path.unlink(missing_ok=True)
            srv = _UnixServer(str(path), _UnixHandler)
            os.chmod(path, 0o600)
            self.urls.append(f"unix:{path}")
            self._servers.append(srv)
        for srv in self._servers:
            srv.service = self
            t = threading.Thread(target=srv.serve_forever, name="vssorch-serve", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("service started", urls=self.urls, host_name=self.provider.host_name)
        return self

    def stop(self) -> None:
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        if self._unix:
            Path(self._unix).unlink(missing_ok=True)
        for t in self._threads:
            t.join(timeout=5)
        self.watch.engine.close()       # as if the process had exited: its unfinished sets are cleanup's
