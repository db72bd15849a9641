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
falls back to stderr and `check()` (called by the commands) reports it as one line.

The settings are read (and the file opened) on import; structlog is imported and
configured at the process's first event (core.log), so a command that logs nothing
never loads it."""
from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

from core import log

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
        import structlog
        raise structlog.DropEvent
    return event


def _read(env) -> tuple[TextIO, str, bool]:
    """-> (where events go, the level's name, JSON lines or not); sets `problem`."""
    global problem
    problem = None
    path = env.get("VSSORCH_LOG_FILE") or None
    stream: TextIO = sys.stderr
    if path:
        try:
            stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        except OSError as exc:
            problem, path = f"VSSORCH_LOG_FILE={path}: {exc.strerror or exc}", None
    word = env.get("VSSORCH_LOG_LEVEL", "").strip().lower() or ("info" if path else "error")
    if word not in LEVELS:
        problem = f"VSSORCH_LOG_LEVEL={word[:40]!r}: use one of {', '.join(LEVELS)}"
        word = "error"
    return stream, word, bool(path)


def _apply(stream: TextIO, level: str, as_json: bool) -> None:
    import logging

    import structlog
    renderer = [structlog.processors.JSONRenderer()] if as_json else [
        _not_the_commands_error, structlog.dev.ConsoleRenderer(colors=False)]
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso"),
                    _mask, *renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False)


def check() -> None:
    """BadInput (2500, exit 2) when VSSORCH_LOG_FILE or VSSORCH_LOG_LEVEL is unusable."""
    if problem:
        from core.errors import BadInput
        raise BadInput(2500, problem)


_from_environ = _read(os.environ)
# structlog is configured with them once, at the first event or at core.log.ready()
log.on_first_use(lambda: _apply(*_from_environ))
