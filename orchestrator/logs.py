"""Where structlog events go: stderr (stdout belongs to command output and JSON), or a
file when VSSORCH_LOG_FILE names one (JSON lines). VSSORCH_LOG_LEVEL filters: default
info for a file (one event per state transition is info), error on the terminal, where
a failed operation is already the command's one-line error.

On the terminal, a warning that reports a failure with its manual code (a lifecycle or
job that failed) is left out at any level: the command prints that failure as its own
error line and would otherwise say it twice. A log file keeps every event.

Events never carry secrets: adapters keep passwords out of their reprs and messages,
and this processor blanks any field whose name says it is one, as a second fence.

A log file that cannot be opened or an unknown level never stops an import: logging
falls back to stderr and `check()` (called by the commands) reports it as one line."""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_WORDS = ("password", "secret", "token", "credential")
LEVELS = ("debug", "info", "warning", "error", "critical")
problem: str | None = None      # what is wrong with the log settings, for check()


def _mask(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(w in key.lower() for w in _SECRET_WORDS):
            event[key] = "***"
    return event


def _not_the_commands_error(_logger: Any, name: str,
                            event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if name in ("warning", "info", "debug") and "code" in event and "error" in event:
        raise structlog.DropEvent
    return event


def configure(env=os.environ) -> None:
    global problem
    problem = None
    path = env.get("VSSORCH_LOG_FILE") or None
    stream = sys.stderr
    if path:
        try:
            stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        except OSError as exc:
            problem, path = f"VSSORCH_LOG_FILE={path}: {exc.strerror or exc}", None
    word = env.get("VSSORCH_LOG_LEVEL", "").strip().lower() or ("info" if path else "error")
    if word not in LEVELS:
        problem = f"VSSORCH_LOG_LEVEL={word[:40]!r}: use one of {', '.join(LEVELS)}"
        word = "error"
    renderer = [structlog.processors.JSONRenderer()] if path else [
        _not_the_commands_error, structlog.dev.ConsoleRenderer(colors=False)]
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso"),
                    _mask, *renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, word.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False)


def check() -> None:
    """BadInput (2500, exit 2) when VSSORCH_LOG_FILE or VSSORCH_LOG_LEVEL is unusable."""
    if problem:
        from core.errors import BadInput
        raise BadInput(2500, problem)


configure()
