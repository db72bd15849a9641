"""The service's HTTP layer on its own (no array needed: the calls used here never reach
it): malformed requests, idle and slow connections, the connection limit, failed
reloads, the Unix socket path, one service per state folder."""
from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from core.errors import BadInput, VssError
from orchestrator.engine import Orchestrator
from orchestrator.service import Service
from orchestrator.service_client import HttpClient

CALL = "/v1/GetProviderCapabilities"


def _engine(config):
    return Orchestrator.from_config(config, consumer=None)


@pytest.fixture
def config_file(tmp_path) -> Path:
    # port 9 (discard): nothing listens there; none of these calls reaches the array
    path = tmp_path / "config.yaml"
    path.write_text(f"stateDir: {tmp_path / 'state'}\ncimomHost: 127.0.0.1\ncimomPort: 9\n"
                    "username: superuser\npassword: passw0rd\nusingSSL: false\n")
    return path


@pytest.fixture
def serve(config_file):
    started = []

    def start(**kw) -> Service:
        kw.setdefault("listen", "127.0.0.1:0")
        svc = Service(kw.pop("config", config_file), make_engine=_engine, cleanup=False, **kw).start()
        started.append(svc)
        return svc
    yield start
    for svc in started:
        svc.stop()


def _address(svc: Service) -> tuple[str, int]:
    host, port = svc.urls[0][len("http://"):].split(":")
    return host, int(port)


def _connect(svc: Service) -> socket.socket:
    sock = socket.create_connection(_address(svc), timeout=30)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (the 30 s socket timeout is
    only a guard against a hang: reaching it fails the test)."""
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def _answer(data: bytes) -> tuple[int, dict]:
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def exchange(svc: Service, data: bytes, half_close: bool = False) -> tuple[int, dict]:
    sock = _connect(svc)
    try:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return _answer(_read_all(sock))
    finally:
        sock.close()


def request(svc: Service, body: bytes, headers: str = "", auth: bool = True) -> bytes:
    token = f"Authorization: Bearer {svc.token}\r\n" if auth else ""
    return (f"POST {CALL} HTTP/1.1\r\nHost: x\r\n{token}{headers}\r\n").encode() + body


def _handler_threads() -> int:
    return sum("process_request_thread" in t.name for t in threading.enumerate())


def _settle(svc: Service) -> None:
    """Wait until the server's handler threads are done (a bounded poll, no time asserted)."""
    for _ in range(400):
        if all(s.active == 0 for s in svc._servers) and _handler_threads() == 0:
            return
        time.sleep(0.025)


def _works(svc: Service) -> None:
    client = HttpClient.from_token_file(svc.urls[0], svc.token_path)
    try:
        assert client.call("GetProviderCapabilities")["result"]["max_volumes"] == 64
    finally:
        client.close()


def _length(n) -> str:
    return f"Content-Length: {n}\r\n"


DEEP_LIST = b"[" * 200_000 + b"]" * 200_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
MALFORMED = [
    ("non-numeric length", lambda s: request(s, b"{}", _length("abc")), 400),
    ("negative length", lambda s: request(s, b"{}", _length(-1)), 400),
    ("huge length", lambda s: request(s, b"{}", _length(10**20)), 400),
    ("length over 1 MiB", lambda s: request(s, b"{}", _length((1 << 20) + 1)), 400),
    ("superscript digit", lambda s: request(s, b"{}", "Content-Length: \u00b2\r\n"), 400),
    ("two lengths", lambda s: request(s, b"{}", _length(2) + _length(3)), 400),
    ("no length", lambda s: request(s, b"{}"), 400),
    ("chunked", lambda s: request(s, b"2\r\n{}\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n"), 400),
    ("too deep list", lambda s: request(s, DEEP_LIST, _length(len(DEEP_LIST))), 400),
    ("too deep object", lambda s: request(s, DEEP_OBJECT, _length(len(DEEP_OBJECT))), 400),
    ("list body", lambda s: request(s, b"[1]", _length(3)), 400),
    ("string body", lambda s: request(s, b'"x"', _length(3)), 400),
    ("number body", lambda s: request(s, b"12", _length(2)), 400),
    ("null body", lambda s: request(s, b"null", _length(4)), 400),
    ("not UTF-8", lambda s: request(s, b"\xff\xfe\xfd", _length(3)), 400),
    ("huge number", lambda s: request(s, b"9" * 5000, _length(5000)), 400),
    ("garbage line", lambda s: b"GARBAGE\r\n\r\n", 400),
    ("bad version", lambda s: b"POST /v1/X HTTP/9.9\r\n\r\n", 505),
    ("unknown method", lambda s: b"BREW /v1 HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    ("header too long", lambda s: request(s, b"{}", "X: " + "a" * 70_000 + "\r\n" + _length(2)), 431),
    ("too many headers", lambda s: request(s, b"{}", "".join(f"X{i}: y\r\n" for i in range(120))), 431),
    ("no token", lambda s: request(s, b"{}", _length(2), auth=False), 401),
    ("no such resource", lambda s: request(s, b"{}", _length(2)).replace(CALL.encode(), b"/v2/x"), 404),
]


def test_every_malformed_request_gets_a_one_line_answer(serve):
    svc = serve()
    for name, build, status in MALFORMED:
        got, reply = exchange(svc, build(svc))
        assert got == status, name
        assert reply["ok"] is False and reply["error"].startswith(f"error {reply['code']}:"), name
        assert "\n" not in reply["error"] and len(reply["error"]) < 300, name
    # a body shorter than its Content-Length, the client done sending
    got, reply = exchange(svc, request(svc, b"{}", _length(10)), half_close=True)
    assert got == 400 and "shorter" in reply["error"]
    _settle(svc)
    assert _handler_threads() == 0 and svc._servers[0].active == 0
    _works(svc)


def test_idle_and_slow_connections_are_closed_by_the_server(serve):
    svc = serve(header_timeout=0.3)
    idle = [_connect(svc) for _ in range(8)]
    slow = _connect(svc)
    slow.sendall(b"POST " + CALL.encode() + b" HTTP/1.1\r\nContent-")       # a head that never ends
    body_late = _connect(svc)
    body_late.sendall(request(svc, b"{", _length(2)))                        # a body that never ends
    # each read returns when the server acts: an idle one is closed without a word, a
    # begun request gets 408
    assert [_read_all(s) for s in idle] == [b""] * 8
    assert _answer(_read_all(slow))[0] == 408
    status, reply = _answer(_read_all(body_late))
    assert status == 408 and "\n" not in reply["error"]
    for s in (*idle, slow, body_late):
        s.close()
    _settle(svc)
    assert _handler_threads() == 0
    _works(svc)


def test_a_kept_alive_connection_times_out_after_its_requests(serve):
    svc = serve(header_timeout=0.3)
    sock = _connect(svc)
    sock.sendall(request(svc, b"{}", _length(2)))
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        data += sock.recv(65536)
    assert _answer(data)[0] == 200
    assert _read_all(sock) == b""          # then idle: closed by the server
    sock.close()


def test_connections_beyond_the_limit_get_503(serve):
    svc = serve(header_timeout=60, max_connections=3)
    held = [_connect(svc) for _ in range(3)]
    for _ in range(400):                    # wait until the server has accepted all three
        if svc._servers[0].active == 3:
            break
        time.sleep(0.025)
    assert svc._servers[0].active == 3
    refused = []
    for _ in range(10):
        sock = _connect(svc)
        refused.append(_answer(_read_all(sock)))
        sock.close()
    assert {status for status, _ in refused} == {503}
    assert all("busy" in reply["error"] for _, reply in refused)
    for s in held:
        s.close()
    _settle(svc)
    assert svc._servers[0].active == 0
    _works(svc)


def test_a_failed_reload_is_logged_once_counted_and_the_old_configuration_stays(serve, config_file, tmp_path):
    svc = serve()
    client = HttpClient.from_token_file(svc.urls[0], svc.token_path)
    good = config_file.read_text()
    with capture_logs() as logs:
        config_file.write_text(good + "backgroundCopy: lots\n")
        for _ in range(3):
            assert client.call("GetProviderCapabilities")["ok"]
        config_file.write_text(good + f"caFile: {tmp_path / 'missing.pem'}\n")
        for _ in range(3):
            assert client.call("GetProviderCapabilities")["ok"]
    status, info = client.request("GET", "/v1")
    assert status == 200 and info["reloads"] == 0 and info["reload_failures"] == 2
    assert "missing.pem" in info["reload_error"]
    ignored = [e for e in logs if e["event"] == "configuration change ignored, keeping the previous one"]
    assert len(ignored) == 2 and "backgroundCopy" in ignored[0]["error"] and "missing.pem" in ignored[1]["error"]
    assert svc.provider.orch.config.background_copy == 50
    config_file.write_text(good + "backgroundCopy: 7\n")
    assert client.call("GetProviderCapabilities")["ok"]
    status, info = client.request("GET", "/v1")
    assert info["reloads"] == 1 and info["reload_error"] is None
    assert svc.provider.orch.config.background_copy == 7
    client.close()


def _state(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_unix_path_that_is_not_a_socket_is_refused_and_kept(serve, tmp_path, config_file):
    regular = tmp_path / "precious.txt"
    regular.write_text("keep me\n")
    with pytest.raises(BadInput, match="not a socket"):
        serve(listen=None, unix_socket=regular)
    assert regular.read_text() == "keep me\n"
    assert _state(tmp_path / "state") == {}            # nothing written: no lock, no token
    (tmp_path / "folder").mkdir()
    with pytest.raises(BadInput, match="not a socket"):
        serve(listen=None, unix_socket=tmp_path / "folder")
    # a socket file nobody listens on (a service that died) is replaced
    stale = tmp_path / "stale.sock"
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(stale))
    left.close()
    svc = serve(listen=None, unix_socket=stale)
    assert HttpClient.from_token_file(svc.urls[0], svc.token_path).call("GetProviderCapabilities")["ok"]


@pytest.mark.parametrize("listen", ["abc", "127.0.0.1:99999", "127.0.0.1:-1", "10.1.2.3:0", "example.com:80",
                                    "127.0.0.1:", ":x"])
def test_bad_listen_values_are_refused_before_anything_is_written(serve, tmp_path, listen):
    with pytest.raises(BadInput) as caught:
        serve(listen=listen)
    assert "--listen" in str(caught.value) and "\n" not in str(caught.value)
    assert _state(tmp_path / "state") == {}


def test_a_second_service_on_the_same_state_folder_is_refused_and_changes_nothing(serve, tmp_path):
    first = serve()
    before = _state(tmp_path / "state")
    assert "service.token" in before and "service.lock" in before
    with pytest.raises(VssError) as caught:
        serve()
    assert caught.value.code == 4000 and f"process {os.getpid()}" in str(caught.value)
    # the same port: refused at bind, before the lock
    with pytest.raises(VssError, match="cannot listen"):
        serve(listen=first.urls[0][len("http://"):])
    assert _state(tmp_path / "state") == before
    _works(first)
    first.stop()
    second = serve()                 # the lock went with the first service
    assert second.token != first.token
    _works(second)


def test_the_client_carries_on_after_the_service_closed_its_idle_connection(serve):
    svc = serve(header_timeout=0.3)
    client = HttpClient.from_token_file(svc.urls[0], svc.token_path)
    assert client.call("GetProviderCapabilities")["ok"]
    _settle(svc)                      # the kept-alive connection was closed by the server
    assert svc._servers[0].active == 0
    assert client.call("GetProviderCapabilities")["ok"]
    client.close()


def test_ipv6_loopback(serve):
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    svc = serve(listen="[::1]:0")
    assert svc.urls[0].startswith("http://[::1]:")
    _works(svc)


def test_a_wrong_token_is_answered_only_after_the_body_is_read(serve):
    # Closing over unread bytes makes the close a TCP reset: a client still sending its
    # body (the native provider's WinHTTP) then sees error 10054 instead of the 401.
    svc = serve()
    body = json.dumps({"pad": "x" * 200_000}).encode()
    head = (f"POST {CALL} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-the-token\r\n"
            f"{_length(len(body))}\r\n").encode()
    sock = _connect(svc)
    try:
        sock.sendall(head + body[:1000])
        # nothing may come back while the body is incomplete (waiting longer only makes
        # the check stricter; an answer here would be the refusal over an unread body)
        assert select.select([sock], [], [], 0.5)[0] == []
        sock.sendall(body[1000:])
        status, reply = _answer(_read_all(sock))
    finally:
        sock.close()
    assert status == 401 and reply["code"] == 5
    _works(svc)
