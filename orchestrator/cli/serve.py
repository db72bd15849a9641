"""`vssorch serve`: run the provider service until SIGINT/SIGTERM (orchestrator/service.py).

Prints one line `listening on URL [URL] token TOKENFILE` when ready (tools wait for it).
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from orchestrator.config import config_path
from orchestrator.output import guarded


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the VSS provider service (JSON over HTTP on loopback / a Unix socket)")
    p.add_argument("--config", metavar="FILE", help="configuration file (reloaded when it changes)")
    p.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:5990",
                   help="loopback address and port (port 0: any free one; default %(default)s)")
    p.add_argument("--unix", metavar="PATH", help="also listen on this Unix socket")
    p.add_argument("--no-tcp", action="store_true", help="only the Unix socket")
    p.add_argument("--host-name", metavar="NAME",
                   help="the array host that is this machine (LocateLuns maps targets to it); "
                        "default: found from this machine's initiators")
    p.add_argument("--request-timeout", metavar="SECONDS", type=_positive(float), default=5.0,
                   help="a connection waiting longer for a request's head and body is closed (default %(default)s)")
    p.add_argument("--max-connections", metavar="N", type=_positive(int), default=16,
                   help="connections served at once; more get 503 (default %(default)s)")
    p.set_defaults(func=guarded(run))


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not 0 < value < 1e6:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
        return value
    parse.__name__ = kind.__name__      # argparse names the type in its message
    return parse


def run(args) -> int:
    from core.errors import BadInput
    from orchestrator.service import Service

    if args.no_tcp and not args.unix:
        raise BadInput(1002, "--no-tcp needs --unix PATH")
    service = Service(config_path(args.config), host_name=args.host_name,
                      listen=None if args.no_tcp else args.listen,
                      unix_socket=Path(args.unix) if args.unix else None,
                      header_timeout=args.request_timeout, max_connections=args.max_connections).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"listening on {' '.join(service.urls)} token {service.token_path}", flush=True)
    for row in service.cleanup_report:
        print(f"cleanup: {row.get('action')} {row.get('kind', '?')} {row.get('lifecycle', '')}", file=sys.stderr)
    stop.wait()
    service.stop()
    return 0
