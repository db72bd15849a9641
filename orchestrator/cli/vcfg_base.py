"""What every `inspurvcfg` verb stands on: the verb registry (`@verb`, `@after_set`), the
configuration the command line names, and the array it connects to.

Each verb is one function registered with `@verb` (orchestrator/cli/vcfg_settings.py,
vcfg_volumes.py); it prints its result and raises VssError when it fails.
orchestrator/cli/inspurvcfg.py builds the command line from the registry and turns the
outcome into the exit code. Checks that must follow a successful `set` register with
`@after_set`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import VssError, as_vss_error
from orchestrator import passwords
from orchestrator.config import PARAMS, Config, Param, config_path, load_config
from orchestrator.output import warn

PROG = "inspurvcfg"


class UsageError(Exception):
    """The command line does not name a verb with the arguments it takes."""


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
    """The configuration the command line points at; a warning when others may read
    the passwords in it."""
    path = config_path(args.config)
    config = load_config(path)
    in_file = any(getattr(config, p.attr) and not os.environ.get(p.env or "") for p in PARAMS if p.secret)
    for problem in passwords.access_warnings(path, in_file, config.state_dir):
        warn(PROG, problem)
    return config


def array_error(exc: Exception) -> VssError:
    """An adapter failure as the manual's error; one without a code is taken for the
    array not being reachable (3002)."""
    return as_vss_error(exc, default=3002)


def connect(config: Config, timeout_ms: int | None = None):
    """The array the configuration names (the CIM adapter)."""
    from orchestrator.engine import connect_array
    if not config.cimom_host:
        raise VssError(1004, "cimomHost is not set")
    if timeout_ms is not None:
        config = dataclasses.replace(config, cimom_timeout=timeout_ms)
    try:
        return connect_array(config)
    except Exception as exc:
        raise array_error(exc) from None

