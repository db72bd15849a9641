"""The service's HTTP layer: every request gets a JSON answer, slow or idle connections
are closed, and at most N connections are served at once (docs/SERVICE.md).

- Malformed requests (no, non-numeric, negative or oversized Content-Length, a body
  shorter than announced, a body nested too deeply for the JSON parser, a bad request
  line or header, an unsupported method) get a one-line 4xx JSON answer and the
  connection is closed; nothing is called and the handler thread ends normally.
- A deadline watches each connection while it waits for a request (head and body):
  past it, the server shuts the socket's read side, answers 408 if a request had begun,
  and closes. A call being processed has no deadline (CommitSnapshots may be slow).
- Past `max_connections` open connections, a new one gets 503 and is closed at once.
"""
from __future__ import annotations

import hmac
import json
import re
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from core.log import get_logger
from orchestrator.service_schema import CALLS, SCHEMA_VERSION, bad_request

if TYPE_CHECKING:       # service.py builds the servers from this module
    from orchestrator.service import Service

log = get_logger("vssorch.service")

MAX_BODY = 1 << 20
_LENGTH = re.compile(r"[0-9]{1,8}")         # ASCII digits only: str.isdigit() also takes '²'


def _error(code: int, text: str) -> dict:
    return {"ok": False, "code": code, "error": f"error {code}: {' '.join(text.split())}"}


class Watchdog:
    """Deadlines of connections waiting for a request; one thread per server checks them."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._due: dict[Handler, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vssorch-serve-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def arm(self, handler: Handler) -> None:
        with self._lock:
            self._due[handler] = time.monotonic() + self.timeout

    def disarm(self, handler: Handler) -> None:
        with self._lock:
            self._due.pop(handler, None)

    def _run(self) -> None:
        while not self._stop.wait(min(0.25, self.timeout / 4)):
            now = time.monotonic()
            with self._lock:
                late = [h for h, due in self._due.items() if due <= now]
                for h in late:
                    del self._due[h]
            for h in late:
                h.expire()


class Handler(BaseHTTPRequestHandler):
    server_version = "vssorch-provider"
    protocol_version = "HTTP/1.1"
    # headers and body leave in two writes: without this, Nagle and the client's delayed
    # ACK add ~40 ms to every call, a quarter of a CommitSnapshots
    disable_nagle_algorithm = True
    expired = False
    server: _Limited            # every server of this module is one

    def setup(self):
        # a socket timeout too, as a backstop: it bounds a write to a client that never
        # reads; well after the deadline, so that the watchdog answers a late request first
        self.timeout = self.server.watchdog.timeout + 30
        super().setup()
        self.server.watchdog.arm(self)

    def finish(self):
        self.server.watchdog.disarm(self)
        super().finish()

    def expire(self) -> None:
        """Past the deadline: the blocked read returns end-of-file, the handler answers 408."""
        self.expired = True
        try:
            self.connection.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def log_message(self, format, *args):   # noqa: A002 - the base class's name
        """Requests are logged by dispatch (without the token); no stderr chatter."""

    def _reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"   # a status line even to a request line we could not read
        if status >= 400:
            self.close_connection = True    # the rest of what the client sent is not read
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.server.watchdog.arm(self)      # waiting for the next request on this connection

    def send_error(self, code, message=None, explain=None):
        """The base class's own refusals (bad request line, header too long, unknown
        method, ...) as one-line JSON like every other answer."""
        if self.expired:
            code, message = 408, "the request did not arrive in time"
        self._reply(code, bad_request((message or self.responses.get(code, ("error",))[0])[:200]))

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.expired:            # the head was cut short by the deadline
            self.send_error(408)
            return False
        return True

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                                self.server.service.token.encode())
        if not ok:
            self._reply(401, _error(5, "missing or wrong service token (the running service writes a new one "
                                       "at every start)"))
        return ok

    def _guarded(self, answer) -> None:
        try:
            answer()
        except OSError:
            self.close_connection = True     # the client went away: nobody to answer
        except Exception as exc:            # noqa: BLE001 - a bug still gets an answer
            log.error("request failed", path=self.path, error=f"{type(exc).__name__}: {exc}")
            self._reply(500, _error(4001, f"internal error: {type(exc).__name__}"))

    def do_GET(self):
        self._guarded(self._get)

    def do_POST(self):
        self._guarded(self._post)

    def _get(self):
        if not self._authorised():
            return
        if self.path.rstrip("/") != "/v1":
            self._reply(404, _error(4001, f"no resource {self.path}"))
            return
        svc = self.server.service
        watch = svc.watch
        self._reply(200, {"ok": True, "schema": SCHEMA_VERSION, "host_name": svc.provider.host_name,
                          "reloads": watch.reloads,
                          "reload_failures": watch.failures, "reload_error": watch.last_error,
                          "calls": sorted(CALLS)})

    def _post(self):
        # The body is read before the token is judged: a refusal answered over an unread body
        # makes the close a TCP reset, and the client sees a dropped connection, not the 401.
        length = self.headers.get_all("Content-Length") or []
        if len(length) != 1 or not _LENGTH.fullmatch(length[0].strip()) or int(length[0]) > MAX_BODY:
            if self._authorised():
                self._reply(400, bad_request(f"one Content-Length of 0..{MAX_BODY} bytes is needed"))
            return
        raw = self.rfile.read(int(length[0]))
        if self.expired:
            self.send_error(408)
            return
        if not self._authorised():
            return
        if not self.path.startswith("/v1/"):
            self._reply(404, _error(4001, f"no resource {self.path}"))
            return
        if len(raw) < int(length[0]):
            self._reply(400, bad_request("the body is shorter than its Content-Length"))
            return
        self.server.watchdog.disarm(self)   # the call itself may take its time
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            self._reply(400, bad_request(f"the body is not JSON: {exc}"))
            return
        except RecursionError:
            self._reply(400, bad_request("the JSON body is nested too deeply"))
            return
        status, payload = self.server.service.call(self.path[len("/v1/"):], body)
        self._reply(status, payload)


class UnixHandler(Handler):
    disable_nagle_algorithm = False      # no TCP on a Unix socket


class _Limited(socketserver.BaseServer):
    """At most `max_connections` served at once; the next gets 503 and is closed.
    (BaseServer is last in each server's MRO anyway: naming it here changes no lookup.)"""

    daemon_threads = True
    max_connections = 16
    # set by setup_limits, which Service calls right after binding
    service: Service
    watchdog: Watchdog
    active: int

    def setup_limits(self, service: Service, timeout: float, max_connections: int) -> None:
        self.service, self.max_connections = service, max_connections
        self.watchdog = Watchdog(timeout)
        self.active = 0
        self._count = threading.Lock()

    def process_request(self, request, client_address):
        with self._count:
            busy = self.active >= self.max_connections
            if not busy:
                self.active += 1
        if busy:
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            with self._count:
                self.active -= 1
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._count:
                self.active -= 1

    def _refuse(self, request) -> None:
        body = json.dumps(_error(4001, f"the service is busy: {self.max_connections} connections are open; "
                                       "try again")).encode()
        head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        try:
            request.settimeout(1.0)
            request.sendall(head + body)
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request, client_address):
        """A connection that failed under the handler: one log line, no traceback on stderr."""
        log.warning("connection failed", client=str(client_address))


class TcpServer(_Limited, ThreadingHTTPServer):
    pass


class TcpServer6(TcpServer):
    address_family = socket.AF_INET6


# Windows' CPython has no AF_UNIX, hence no socketserver.UnixStreamServer: defining the
# class there would stop the service's import. The service listens on TCP only there.
UNIX_SOCKETS = hasattr(socket, "AF_UNIX")

if UNIX_SOCKETS:
    class UnixServer(_Limited, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        def get_request(self):
            conn, _ = super().get_request()
            return conn, ("unix", 0)       # the handler expects a (host, port) address
