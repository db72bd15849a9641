"""The embedded array's network face: CIM-XML over HTTP(S) with Basic auth, plus two
small JSON/bytes endpoints that a real array does not have but tests need:
/data (a host's block I/O to the LUNs mapped to it) and /admin (fault injection,
clock, request counts, volume state, test reads and writes).

CIM queries (ExecQuery, e.g. volumes by UID in one request): the supported WQL /
DMTF:CQL subset is described in query.py."""
from __future__ import annotations

import base64
import gc
import hmac
import json
import ssl
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import structlog

from . import cimxml
from .array import Array, normalise_port
from .cimxml import BadRequest
from .dispatch import ArrayService
from .returncodes import ArrayError

log = structlog.get_logger("simulator")

MAX_CIM_BODY = 16 << 20
MAX_DATA_BODY = 64 << 20


class _Headers:
    """A request's header fields: get() by name in any case (the first of a repeated
    field, as email.message.Message), items() as sent."""

    __slots__ = ("_items", "_first")

    def __init__(self, items: list[tuple[str, str]]):
        self._items = items
        self._first: dict[str, str] = {}
        for name, value in items:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default=None):
        return self._first.get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)


_MAX_HEADER_LINE, _MAX_HEADERS = 65536, 100      # http.client's limits
_date = (0, "")


def _http_date() -> str:
    """The Date header's value, formatted once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]


class _Handler(BaseHTTPRequestHandler):
    server_version = "vssorch-array/1"
    protocol_version = "HTTP/1.1"  # keep-alive: pywbem's session reuses one connection
    # Status line, headers and body leave in one segment (buffered until the handler
    # returns), and without Nagle: otherwise a small reply waits for the client's
    # delayed ACK, about 40 ms per request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: structlog carries what matters
        pass

    def parse_request(self) -> bool:
        """As BaseHTTPRequestHandler.parse_request for an HTTP/1.0 or 1.1 request line,
        with the header fields split here instead of by the email package (a third of
        the HTTP layer's CPU per request). Any other request line gets the stdlib's
        answer."""
        words = self.raw_requestline.split()
        if len(words) != 3 or words[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            return super().parse_request()
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.command, self.path, self.request_version = (str(w, "iso-8859-1") for w in words)
        self.close_connection = self.request_version != "HTTP/1.1"
        if self.path.startswith("//"):  # as the stdlib: no open redirect through //host
            self.path = "/" + self.path.lstrip("/")
        items: list[tuple[str, str]] = []
        while True:
            line = self.rfile.readline(_MAX_HEADER_LINE + 1)
            if len(line) > _MAX_HEADER_LINE or len(items) > _MAX_HEADERS:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Header line too long or too many headers")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            text = str(line, "iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and items:      # obsolete line folding
                items[-1] = (items[-1][0], f"{items[-1][1]} {text.strip()}")
                continue
            name, colon, value = text.partition(":")
            if not colon or not name or name != name.strip():
                self.send_error(HTTPStatus.BAD_REQUEST, "Malformed header line")
                return False
            items.append((name, value.strip()))
        self.headers = _Headers(items)
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if self.headers.get("Expect", "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    @property
    def svc(self) -> ArrayService:
        return self.server.service

    # ------------------------------------------------------------ plumbing
    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        want_user, want_password = self.server.credentials
        return hmac.compare_digest(user, want_user) & hmac.compare_digest(password, want_password)

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        """The reply in one write: what send_response, send_header and end_headers
        write, without their per-header calls."""
        phrase = self.responses[status][0] if status in self.responses else ""
        head = [f"{self.protocol_version} {status} {phrase}", f"Server: {self.version_string()}",
                f"Date: {_http_date()}", f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
        for k, v in (extra or {}).items():
            head.append(f"{k}: {v}")
            if k.lower() == "connection" and v.lower() == "close":
                self.close_connection = True
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "strict") + body)

    def _json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _body(self, limit: int) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked_body(limit)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > limit:
            return self._too_large()
        return self.rfile.read(length)

    def _chunked_body(self, limit: int) -> bytes | None:
        """An HTTP/1.1 chunked request body (chunk extensions and trailers ignored)."""
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                size = -1
            if size < 0:
                self._send(400, b"malformed chunked body", "text/plain", {"Connection": "close"})
                self.close_connection = True
                return None
            if len(body) + size > limit:
                return self._too_large()
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline(1024)  # the CRLF closing the chunk

    def _too_large(self) -> None:
        self._send(413, b"request too large", "text/plain", {"Connection": "close"})
        self.close_connection = True
        return None

    def _gate(self) -> bool:
        if self._authorised():
            return True
        # The body is read first (when its length is sane): closing over unread bytes would
        # make the close a TCP reset that can cost the client the 401. The connection still
        # closes: a chunked or oversized body is left unread.
        length = self.headers.get("Content-Length", "")
        if length.isascii() and length.isdigit() and int(length) <= MAX_CIM_BODY:
            self.rfile.read(int(length))
        self.close_connection = True
        self._send(401, b"authentication required", "text/plain",
                   {"WWW-Authenticate": 'Basic realm="vssorch-array"', "Connection": "close"})
        return False

    # ------------------------------------------------------------ verbs
    def do_POST(self):
        if not self._gate():
            return
        path = urlparse(self.path).path
        if path.startswith("/admin/"):
            return self._admin("POST", path)
        body = self._body(MAX_CIM_BODY)
        if body is None:
            return
        try:
            response, after, delay = self.svc.handle_cim(self._request(body))
        except BadRequest as bad:
            # DSP0200: refused before any operation ran, the reason in the CIMError header
            return self._send(bad.status, bad.detail.encode(), "text/plain", {"CIMError": bad.cimerror})
        if delay:
            threading.Event().wait(delay)
        headers = {"CIMOperation": "MethodResponse"}
        if after == "drop":
            # The operation has run; the client sees a cut reply and must read the
            # array to learn the outcome.
            self.send_response(200)
            self.send_header("Content-Type", 'application/xml; charset="utf-8"')
            self.send_header("Content-Length", str(len(response)))
            self.end_headers()
            self.wfile.write(response[: len(response) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self._send(200, response, 'application/xml; charset="utf-8"', headers)

    do_M_POST = do_POST

    def _request(self, body: bytes) -> cimxml.Request:
        """The decoded request, once DSP0200's CIMOperation and CIMMethod headers agree
        with it (M-POST sends them with a numeric prefix, "NN-CIMOperation")."""
        headers = {k.split("-", 1)[1].lower() if k[:2].isdigit() else k.lower(): v
                   for k, v in self.headers.items()}
        if headers.get("cimoperation", "").strip().lower() != "methodcall":
            raise BadRequest(400, "unsupported-operation", "CIMOperation: MethodCall is required")
        method = headers.get("cimmethod")
        req = cimxml.decode(body)
        if method is None or method.strip().lower() != req.method.lower():
            raise BadRequest(400, "header-mismatch", f"CIMMethod {method!r} does not name {req.method}")
        return req

    def do_GET(self):
        if not self._gate():
            return
        path = urlparse(self.path).path
        if path.startswith("/admin/"):
            return self._admin("GET", path)
        if path.startswith("/data"):
            return self._data("GET", path)
        self._send(404, b"not found", "text/plain")

    def do_PUT(self):
        if not self._gate():
            return
        path = urlparse(self.path).path
        if path.startswith("/admin/"):
            return self._admin("PUT", path)
        if path.startswith("/data/"):
            return self._data("PUT", path)
        self._send(404, b"not found", "text/plain")

    def do_DELETE(self):
        if not self._gate():
            return
        self._admin("DELETE", urlparse(self.path).path)

    # ------------------------------------------------------------ /data
    def _data(self, verb: str, path: str, initiator: str | None = "header") -> None:
        query = parse_qs(urlparse(self.path).query)
        if initiator == "header":
            initiator = self.headers.get("X-Initiator")
            if not initiator:
                return self._send(400, b"X-Initiator header (the host's WWPN or IQN) is required", "text/plain")
            try:
                initiator = normalise_port(initiator)[0]
            except ArrayError as exc:
                return self._send(400, exc.message.encode(), "text/plain")
        if path.rstrip("/") in ("/data", "/admin/data"):
            return self._json(200, self.svc.visible_luns(initiator) if initiator else [])
        uid = path.rsplit("/", 1)[-1]
        try:
            offset = int(query.get("offset", ["0"])[0])
            length = int(query["length"][0]) if "length" in query else None
            data = None
            if verb == "PUT":
                data = self._body(MAX_DATA_BODY)
                if data is None:
                    return
            out = self.svc.io(uid, offset, length, data, initiator)
        except (ValueError, KeyError) as exc:
            return self._send(400, str(exc).encode(), "text/plain")
        except PermissionError as exc:
            return self._send(403, str(exc).encode(), "text/plain")
        except LookupError as exc:
            return self._send(404, str(exc).encode(), "text/plain")
        except ArrayError as exc:
            return self._send(409, exc.message.encode(), "text/plain")
        if verb == "PUT":
            return self._send(204, b"", "text/plain")
        self._send(200, out, "application/octet-stream")

    # ------------------------------------------------------------ /admin
    def _admin(self, verb: str, path: str) -> None:
        svc = self.svc
        try:
            if path.startswith("/admin/data"):
                return self._data(verb, path, initiator=None)
            body = {}
            if verb in ("POST", "PUT"):
                raw = self._body(1 << 20)
                if raw is None:
                    return
                body = json.loads(raw or b"{}")
            if path == "/admin/stats" and verb == "GET":
                with svc.array.store.lock:
                    built = dict(svc.array.built)
                return self._json(200, {"requests": dict(svc.counts), "total": sum(svc.counts.values()),
                                        "built": built, "connections": svc.connections})
            if path == "/admin/stats" and verb == "DELETE":
                with svc._count_lock:
                    svc.counts.clear()
                    svc.connections = 0
                with svc.array.store.lock:
                    svc.array.built.clear()
                return self._json(200, {})
            if path == "/admin/faults":
                if verb == "GET":
                    return self._json(200, svc.faults.describe())
                if verb == "DELETE":
                    svc.faults.clear()
                    return self._json(200, {})
                svc.faults.set(body.get("faults", []), body.get("latency", 0.0))
                return self._json(200, svc.faults.describe())
            if path == "/admin/clock":
                clock = svc.array.clock
                if verb != "GET":
                    if "scale" in body:
                        clock.set_scale(float(body["scale"]))
                    if "advance" in body:
                        clock.advance(float(body["advance"]))
                svc.array.reserve_clock()         # the time shown below survives a kill
                return self._json(200, {"now": clock(), "scale": clock.scale})
            if path.startswith("/admin/volumes/") and path.endswith("/online") and verb in ("POST", "PUT"):
                uid = path.split("/")[3]
                with svc.array.store.transaction():
                    row = svc.array.volume_by_uid(uid)
                    if row is None:
                        return self._json(404, {"error": f"no volume {uid}"})
                    svc.array.set_online(row["id"], bool(body.get("online", True)))
                return self._json(200, {"uid": uid, "online": bool(body.get("online", True))})
            if path == "/admin/identity":
                ident = svc.array.identity
                return self._json(200, {"cluster_id": ident.cluster_id, "cluster_name": ident.cluster_name,
                                        "namespace": svc.array.namespace})
        except (ValueError, TypeError, KeyError) as exc:
            return self._json(400, {"error": str(exc)})
        self._json(404, {"error": f"no admin resource {verb} {path}"})


class ArrayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, array: Array, host: str, port: int, credentials: tuple[str, str],
                 tls: tuple[str, str] | None):
        super().__init__((host, port), _Handler)
        self.service = ArrayService(array)
        # The schema and everything loaded so far live as long as the process: the
        # cyclic collector need not walk them again after each request's garbage.
        gc.freeze()
        # A request allocates a few thousand short-lived objects and makes almost no cycles:
        # at the default threshold (700) the young generation was collected several times
        # per request, about 7% of the array's CPU.
        gc.set_threshold(20_000, 20, 20)
        self.credentials = credentials
        self.scheme = "http"
        self._tls = None
        if tls is not None:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(tls[0], tls[1])
            self.scheme = "https"

    def finish_request(self, request, client_address):
        with self.service._count_lock:
            self.service.connections += 1
        # The TLS handshake runs here, in the connection's own thread, so a slow or
        # broken client cannot stall the accept loop.
        if self._tls is not None:
            try:
                request = self._tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            try:
                super().finish_request(request, client_address)
            finally:
                request.close()
            return
        super().finish_request(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{self.scheme}://{host}:{port}"
