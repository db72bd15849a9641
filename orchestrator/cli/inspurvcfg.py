"""`inspurvcfg`: the configuration tool the manual describes (3.1-3.4, 5.1).

The command line is built from the verbs registered in orchestrator/cli/vcfg_base.py
(`showcfg`, `set`: vcfg_settings.py; `listvols`, `add`, `rem`, `testsnapshot`:
vcfg_volumes.py). `main` turns the outcome into the exit code and one line on stderr:
0 done, 1 the operation failed (with the manual's code), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from core.errors import BadInput, ConfigError, VssError, as_vss_error
from orchestrator import logs
from orchestrator.cli import vcfg_settings, vcfg_volumes  # noqa: F401 - they register the verbs
from orchestrator.cli.vcfg_base import PROG, VERBS, UsageError
from orchestrator.output import error_line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:   # type: ignore[override]
        # argparse would print the usage block and exit; we report one line instead.
        raise UsageError(message)


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
    error_line(PROG, message)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        logs.check()                # VSSORCH_LOG_FILE / VSSORCH_LOG_LEVEL: 2500, exit 2
        VERBS[args.verb].run(args)
    except SystemExit as exc:       # --help
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        return _fail(f"error: {exc} (see '{PROG} --help')", 2)
    except ConfigError as exc:      # a value to correct; none of the manual's codes says which
        return _fail(f"error: {exc.detail}", 2)
    except BadInput as exc:
        return _fail(str(exc), 2)
    except VssError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`showcfg | head -1`); there is no one left to tell. Point
        # stdout at the null device so the flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:        # an adapter's error, or a bug: still one line, never a traceback
        return _fail(str(as_vss_error(exc)), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
