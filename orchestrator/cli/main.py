"""`vssorch`: one entry point, one module per command group.

Exit codes: 0 ok, 1 an operation failed (the manual's code is shown), 2 bad usage
or input. Errors are one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from orchestrator import logs
from orchestrator.output import error_line, guarded

from . import batch, lifecycle, listing, serve, shadow, sim

COMMANDS = [sim, lifecycle, batch, listing, serve, shadow]


class OneLineParser(argparse.ArgumentParser):
    """argparse prints its usage block before the error; one line is what we promise."""

    def error(self, message: str) -> NoReturn:
        error_line(self.prog, f"error: {message} (see '{self.prog} --help')")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="vssorch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    def run(args) -> int:
        logs.check()
        return args.func(args)
    try:
        # guarded here too: a command module that does not guard its own run (cleanup,
        # states) still fails in one line
        return int(guarded(run)(args) or 0)
    except KeyboardInterrupt:
        print("vssorch: interrupted", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
