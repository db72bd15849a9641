"""`vssorch sim ...`: the embedded array (the only place product code starts it)."""
from __future__ import annotations

import sys

from core import log
from simulator import serve as sim_serve


def register(sub) -> None:
    sim = sub.add_parser("sim", help="the embedded SVC-style array")
    sim_sub = sim.add_subparsers(dest="sim_command", metavar="SUBCOMMAND")
    sim_sub.required = True
    p = sim_sub.add_parser("serve", help="run the embedded array (CIM-XML over HTTPS) until SIGINT/SIGTERM")
    sim_serve.add_arguments(p)
    p.set_defaults(func=run_serve)


def run_serve(args) -> int:
    from simulator.seed import SeedError
    try:
        opts = sim_serve.options_from(args)
        log.ready()             # the array's events follow VSSORCH_LOG_FILE / VSSORCH_LOG_LEVEL
        return sim_serve.serve(opts)
    except (SeedError, sim_serve.OptionError) as exc:
        print(f"vssorch: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"vssorch: error: cannot start the array: {exc.strerror or exc}", file=sys.stderr)
        return 1
