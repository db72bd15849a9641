"""`inspurvcfg`: the configuration tool the manual describes (3.1-3.4, 5.1).

Each verb is one function registered with `@verb`; it prints its result and raises
VssError when it fails. `main` turns the outcome into the exit code and one line on
stderr: 0 done, 1 the operation failed (with the manual's code), 2 bad usage or input.
Checks that must follow a successful `set` (reconnecting after new credentials,
warning about settings that strand existing shadow copies) register with `@after_set`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config import (PARAMS, Config, Param, config_path, find_param, load_config,
                                 read_value)
from orchestrator.configedit import set_value
from orchestrator.errors import ConfigError, VssError

PROG = "inspurvcfg"


class UsageError(Exception):
    """The command line does not name a verb with the arguments it takes."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:   # type: ignore[override]
        # argparse would print the usage block and exit; we report one line instead.
        raise UsageError(message)


Run = Callable[[argparse.Namespace], None]
Arguments = Callable[[argparse.ArgumentParser], None]
SetCheck = Callable[[Param, Config], None]


@dataclass(frozen=True)
class Verb:
    name: str
    summary: str
    arguments: Arguments
    run: Run


VERBS: dict[str, Verb] = {}
AFTER_SET: list[SetCheck] = []


def verb(name: str, summary: str,
         arguments: Arguments = lambda parser: None) -> Callable[[Run], Run]:
    """Register `run(args)` as the verb `name`; `arguments(parser)` declares what it takes
    (every verb also takes --config)."""
    def register(run: Run) -> Run:
        VERBS[name] = Verb(name, summary, arguments, run)
        return run
    return register


def after_set(check: SetCheck) -> SetCheck:
    """Register `check(param, config)`, run after `set` has written the file."""
    AFTER_SET.append(check)
    return check


def load(args: argparse.Namespace) -> Config:
    """The configuration the command line points at."""
    return load_config(config_path(args.config))


def _show(param: Param, config: Config) -> str:
    value = param.show(config)
    return f"{param.label}: {value}" if value else f"{param.label}:"


@verb("showcfg", "show every parameter and its value (passwords masked)")
def showcfg(args: argparse.Namespace) -> None:
    config = load(args)
    for param in PARAMS:
        print(_show(param, config))


def _set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("param", help="parameter name as the manual writes it (any case)")
    parser.add_argument("value", help="new value; put -- before a value starting with '-'")


@verb("set", "set one parameter", _set_arguments)
def set_(args: argparse.Namespace) -> None:
    param = find_param(args.param)
    # A relative path typed on the command line means one relative to where it was typed.
    value = read_value(param, args.value, Path.cwd())
    config = set_value(config_path(args.config), param.key, param.kind.store(value))
    print(_show(param, config))
    for check in AFTER_SET:
        check(param, config)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, allow_abbrev=False,
                     description="Configure the VSS hardware provider.")
    config_help = "configuration file (default: $VSSORCH_CONFIG, else the system's location)"
    parser.add_argument("--config", metavar="FILE", help=config_help)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for v in VERBS.values():
        sub = verbs.add_parser(v.name, help=v.summary, description=v.summary, allow_abbrev=False)
        # SUPPRESS: a --config before the verb must survive the sub-parser's defaults.
        sub.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=config_help)
        v.arguments(sub)
    return parser


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        VERBS[args.verb].run(args)
    except SystemExit as exc:       # --help
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        return _fail(f"{exc} (see '{PROG} --help')", 2)
    except ConfigError as exc:
        return _fail(exc.detail, 2)
    except VssError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`showcfg | head -1`); there is no one left to tell. Point
        # stdout at the null device so the flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:        # a bug: still one line, never a traceback
        return _fail(str(VssError(4001, f"{type(exc).__name__}: {exc}")), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
