"""`vssorch serve`: the provider callbacks as a local JSON-over-HTTP service.

The native COM shim that VSS loads forwards each callback here (on Windows through a
named pipe or loopback TCP; here loopback TCP and/or a Unix socket). Schema and reply
envelope: docs/SERVICE.md and orchestrator/service_schema.py; the HTTP layer (answers
to malformed requests, timeouts, connection limit): orchestrator/service_http.py.

- Only loopback: the service is the provider of this machine, nobody else's.
- One service per state folder: an OS lock on <stateDir>/service.lock is taken after
  the address, port, socket path and host name are checked and before anything is
  written, so a second or refused start changes nothing (token, files, array).
- A random token, written 0600 to <stateDir>/service.token at every start, must come in
  `Authorization: Bearer <token>`; it is compared in constant time and never logged.
- One request at a time per snapshot set (the provider's per-set locks), sets in
  parallel (a thread per connection, at most `max_connections`).
- The configuration file is checked before every call (stat, then a hash when the stat
  changed); a good new file replaces the engine, a broken one is logged once, counted
  in `GET /v1`, and the old configuration stays. The manual's provider needs a service
  restart for that.
- At start the engine's cleanup finishes or rolls back what a crash left (OnLoad).
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
import socket
import stat
import threading
from pathlib import Path
from typing import Callable

from core.log import get_logger
from core.files import atomic_write
from orchestrator import ownership
from core.errors import BadInput, VssError
from orchestrator.config import Config, load_config
from orchestrator.engine import Orchestrator
from orchestrator import service_http
from orchestrator.service_http import UNIX_SOCKETS, Handler, TcpServer, TcpServer6, UnixHandler
from orchestrator.service_schema import dispatch
from orchestrator.vss import VssProvider

log = get_logger("vssorch.service")

TOKEN_FILE = "service.token"
LOCK_FILE = "service.lock"
# an array host name as the array accepts it (no spaces, no control characters)
_HOST_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")


def default_engine(host_name: str | None) -> Callable[[Config], Orchestrator]:
    # With a named array host, targets are mapped to it and no host adapter is needed.
    return lambda config: Orchestrator.from_config(config, consumer=None if host_name else "auto")


def write_token(path: Path) -> str:
    """A fresh token in a file only its owner can read (created 0600, then renamed)."""
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, token + "\n", mode=0o600)
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
        self.failures = 0                  # changed files that could not be used
        self.last_error: str | None = None

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
            seen = self._stat_now()
            if seen != self._stat:
                self._stat = seen
                digest = self._hash()
                if digest not in (self._digest, self._bad):
                    self._reload(digest)
            return self.engine

    def _reload(self, digest: str | None) -> None:
        try:
            config = load_config(self.path)
            engine = self.make(config)
        except Exception as exc:    # noqa: BLE001 - whatever the cause, the old one serves on
            why = exc if isinstance(exc, VssError) else VssError(1007, f"{type(exc).__name__}: {exc}")
            self._bad, self.last_error = digest, str(why)
            self.failures += 1
            log.error("configuration change ignored, keeping the previous one", file=str(self.path),
                      code=why.code, error=why.detail)
            return
        self.config, self.engine, self._digest, self._bad = config, engine, digest, None
        self.last_error = None
        self.reloads += 1
        log.warning("configuration reloaded", file=str(self.path))


class InstanceLock:
    """An OS lock on a file in the state folder, held while the service runs: a second
    service on the same folder is refused. The OS lets it go when the process dies."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> "InstanceLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise VssError(4000, f"{self.path}: {exc.strerror or exc}") from None
        if not ownership.lock_fd(fd):
            try:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            except OSError:         # Windows: the locked byte cannot be read by others
                holder = "?"
            os.close(fd)
            raise VssError(4000, f"another vssorch serve (process {holder}) uses the state folder "
                                 f"{self.path.parent}; stop it first") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)          # closing the descriptor releases the lock
            self._fd = None


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 in brackets) on loopback; BadInput for anything else."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") if host.startswith("[") and host.endswith("]") else host
    if not sep or not re.fullmatch(r"[0-9]{1,5}", port) or int(port) > 65535:
        raise BadInput(4000, f"--listen {text!r}: give HOST:PORT with a port 0..65535 (0: any free port)")
    host = {"": "127.0.0.1", "localhost": "127.0.0.1"}.get(host, host)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise BadInput(4000, f"--listen {text!r}: {host} is not a loopback address; the service is local only")
    return host, int(port)


def _check_socket_path(path: Path) -> None:
    """A path that exists must be a socket: a regular file given by mistake is never removed."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise BadInput(4000, f"--unix {path}: {exc.strerror or exc}") from None
    if not stat.S_ISSOCK(mode):
        raise BadInput(4000, f"--unix {path}: exists and is not a socket; give another path")


def _stale_socket(path: Path) -> bool:
    """A socket file nobody listens on (left by a service that died)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
        return False
    except OSError:
        return True
    finally:
        probe.close()


class Service:
    def __init__(self, config_path: Path, *, host_name: str | None = None, listen: str | None = "127.0.0.1:0",
                 unix_socket: Path | None = None, make_engine: Callable[[Config], Orchestrator] | None = None,
                 cleanup: bool = True, header_timeout: float = 5.0, max_connections: int = 16):
        # Everything is checked, and the TCP port bound, before anything is written: a
        # refused or second start leaves the token, the state files and the array as they were.
        self.watch = ConfigWatch(config_path, make_engine or default_engine(host_name))
        address = parse_listen(listen) if listen else None
        self._unix = Path(unix_socket) if unix_socket else None
        if self._unix is not None and not UNIX_SOCKETS:
            raise BadInput(4000, f"--unix {self._unix}: this system has no Unix sockets; use --listen")
        if self._unix is not None:
            _check_socket_path(self._unix)
        if host_name is not None and not _HOST_NAME.fullmatch(host_name):
            raise BadInput(205, f"--host-name {host_name[:64]!r} is not an array host name")
        if not header_timeout > 0 or max_connections < 1:
            raise BadInput(4000, "the request timeout must be above 0 and at least one connection allowed")
        self._check_host(host_name)
        self.state_dir = Path(self.watch.config.state_dir)
        self._servers: list = []
        self._threads: list[threading.Thread] = []
        self.urls: list[str] = []
        self._lock: InstanceLock | None = None
        try:
            if address is not None:
                ipv6 = ":" in address[0]
                srv = self._bind(TcpServer6 if ipv6 else TcpServer, address, Handler, header_timeout, max_connections)
                host = f"[{address[0]}]" if ipv6 else address[0]
                self.urls.append(f"http://{host}:{srv.server_address[1]}")
            self._lock = InstanceLock(self.state_dir / LOCK_FILE).acquire()
            if self._unix is not None:
                self._bind_unix(self._unix, header_timeout, max_connections)
            self.provider = VssProvider(self.watch.current, self.state_dir, host_name)
            self.token_path = self.state_dir / TOKEN_FILE
            self.token = write_token(self.token_path)
            self.cleanup_report = self.provider.OnLoad()["cleanup"] if cleanup else []
        except BaseException:
            self._close()
            raise

    def _check_host(self, host_name: str | None) -> None:
        """The named host must exist on the array; when the array cannot be asked now,
        the service starts anyway (the calls will say what is wrong)."""
        if host_name is None:
            return
        try:
            found = self.watch.engine.array.host_named(host_name)
        except Exception as exc:    # noqa: BLE001 - ArrayCallError or VssError: reported, not fatal
            log.warning("host name not checked: the array did not answer", host_name=host_name,
                        error=getattr(exc, "detail", None) or str(exc))
            return
        if found is None:
            raise BadInput(205, f"--host-name {host_name}: the array has no host of that name")

    def _bind(self, cls, address, handler, timeout: float, limit: int):
        try:
            srv = cls(address, handler)
        except OSError as exc:
            where = address if isinstance(address, str) else "{}:{}".format(*address)
            raise VssError(4000, f"cannot listen on {where}: {exc.strerror or exc} "
                                 "(is another vssorch serve running?)") from None
        srv.setup_limits(self, timeout, limit)
        self._servers.append(srv)
        return srv

    def _bind_unix(self, path: Path, timeout: float, limit: int) -> None:
        if path.exists() or path.is_symlink():
            _check_socket_path(path)     # again: it may have changed since the check
            if not _stale_socket(path):
                raise VssError(4000, f"--unix {path}: another service listens there")
            path.unlink()
        self._bind(service_http.UnixServer, str(path), UnixHandler, timeout, limit)
        os.chmod(path, 0o600)
        self.urls.append(f"unix:{path}")

    def call(self, name: str, body) -> tuple[int, dict]:
        status, reply = dispatch(self.provider, name, body)
        log.info("service call", call=name, status=status, hresult=reply.get("hresult"),
                 array_requests=reply.get("array_requests"))
        return status, reply

    def start(self) -> "Service":
        for srv in self._servers:
            srv.watchdog.start()
            t = threading.Thread(target=srv.serve_forever, name="vssorch-serve", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("service started", urls=self.urls, host_name=self.provider.host_name)
        return self

    def stop(self) -> None:
        for srv in self._servers if self._threads else []:     # shutdown() waits for a running loop
            srv.shutdown()
        for t in self._threads:
            t.join(timeout=5)
        self._close()
        self.watch.engine.close()       # as if the process had exited: its unfinished sets are cleanup's

    def _close(self) -> None:
        for srv in self._servers:
            srv.watchdog.stop()
            srv.server_close()
        if self._unix is not None and any(isinstance(s, service_http.UnixServer) for s in self._servers):
            self._unix.unlink(missing_ok=True)
        self._servers = []
        if self._lock is not None:
            self._lock.release()
            self._lock = None
