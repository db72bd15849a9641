"""Running the embedded array as a process: open (or create) its state, apply a
seed, listen, print where, and stop cleanly on SIGINT/SIGTERM."""
from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

DEFAULT_USER = "superuser"
DEFAULT_PASSWORD = "passw0rd"


@dataclass
class ServeOptions:
    state: Path | None = None
    seed: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5989
    http: bool = False
    cert: Path | None = None
    key: Path | None = None
    namespace: str = "root/ibm"
    time_scale: float = 1.0
    user: str = DEFAULT_USER
    password: str = DEFAULT_PASSWORD


def build_server(opts: ServeOptions):
    # The array's modules (pywbem, cryptography) load here, not on import: `vssorch`
    # registers this command's options on every start.
    from .array import Array
    from .seed import apply_seed
    from .server import ArrayServer
    from .tls import ensure_certificate
    array = Array(opts.state, namespace=opts.namespace, time_scale=opts.time_scale)
    if opts.seed is not None:
        apply_seed(array, opts.seed)
    tls = None
    if not opts.http:
        if opts.cert and opts.key:
            tls = (str(opts.cert), str(opts.key))
        else:
            folder = (opts.state / "tls") if opts.state else Path.cwd() / ".state" / "array" / "tls"
            cert, key = ensure_certificate(folder)
            tls = (str(cert), str(key))
    return ArrayServer(array, opts.host, opts.port, (opts.user, opts.password), tls)


def serve(opts: ServeOptions) -> int:
    # structlog loads here, not on import: `vssorch --help` and `list` log nothing
    import structlog
    log = structlog.get_logger("simulator")
    server = build_server(opts)
    stopping = threading.Event()

    def stop(signum, frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # One line on stdout that scripts and tests wait for.
    print(f"embedded array listening on {server.url} namespace {opts.namespace}", flush=True)
    log.info("array started", url=server.url, state=str(opts.state) if opts.state else "memory")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        array = server.service.array
        with array.store.lock:
            with array.store.transaction():
                array.persist_clock()
            array.store.close()
        log.info("array stopped")
    return 0


class OptionError(ValueError):
    """Options that cannot go together: the caller prints one line and exits 2."""


def _log_to_stderr() -> None:
    """Events go to stderr, warnings and worse unless VSSORCH_LOG_LEVEL says otherwise.
    structlog's default prints every event to stdout: a parent that reads only the
    "listening on" line let that pipe fill, and the array blocked in the middle of a
    request (seen as 30 s timeouts with eight clients)."""
    import logging
    import os

    import structlog
    level = getattr(logging, os.environ.get("VSSORCH_LOG_LEVEL", "warning").upper(), logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))


def main(argv=None) -> int:  # python -m simulator.serve, for tests that want no product code
    import argparse

    from .seed import SeedError
    _log_to_stderr()
    p = argparse.ArgumentParser(prog="python -m simulator.serve")
    add_arguments(p)
    try:
        return serve(options_from(p.parse_args(argv)))
    except (OptionError, SeedError) as exc:
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{p.prog}: error: cannot start the array: {exc.strerror or exc}", file=sys.stderr)
        return 1


def add_arguments(p) -> None:
    p.add_argument("--state", type=Path, help="folder for the array's database and certificate (default: in memory)")
    p.add_argument("--seed", type=Path, help="YAML file provisioning pools, hosts, volumes, mappings")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5989, help="port (default 5989; 0 picks a free one)")
    p.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    p.add_argument("--cert", type=Path, help="PEM certificate (default: self-signed, made on first start)")
    p.add_argument("--key", type=Path, help="PEM private key for --cert")
    p.add_argument("--namespace", default="root/ibm", help="CIM namespace (default root/ibm)")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="simulated seconds per real second for copy progress (default 1)")
    p.add_argument("--user", default=DEFAULT_USER, help="Basic-auth user (default superuser)")
    p.add_argument("--password-env", default="VSSORCH_SIM_PASSWORD",
                   help="environment variable holding the password (default VSSORCH_SIM_PASSWORD; "
                        "unset: the documented default)")


def options_from(args) -> ServeOptions:
    import os
    if (args.cert is None) != (args.key is None):
        raise OptionError("--cert and --key go together")
    if not args.time_scale > 0:  # also refuses nan
        raise OptionError("--time-scale must be positive")
    if not 0 <= args.port <= 65535:
        raise OptionError(f"--port {args.port} is not within 0..65535")
    return ServeOptions(state=args.state, seed=args.seed, host=args.host, port=args.port, http=args.http,
                        cert=args.cert, key=args.key, namespace=args.namespace, time_scale=args.time_scale,
                        user=args.user, password=os.environ.get(args.password_env, DEFAULT_PASSWORD))


if __name__ == "__main__":
    sys.exit(main())
