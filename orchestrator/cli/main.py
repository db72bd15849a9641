"""`vssorch`: one entry point, one module per command group.

Exit codes: 0 ok, 1 an operation failed (the manual's code is shown), 2 bad usage
or input. Errors are one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import sys

from . import batch, lifecycle, listing, serve, shadow, sim

COMMANDS = [sim, lifecycle, batch, listing, serve, shadow]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vssorch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("vssorch: interrupted", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
