"""Where structlog events go: stderr (stdout belongs to command output and JSON), or a
file when VSSORCH_LOG_FILE names one (JSON lines). VSSORCH_LOG_LEVEL filters: default
info for a file (one event per state transition is info), error on the terminal, where
a failed operation is already the command's one-line error.

Events never carry secrets: adapters keep passwords out of their reprs and messages,
and this processor blanks any field whose name says it is one, as a second fence."""
from __future__ import annotations

import logging
import os
import sys

import structlog

_SECRET_WORDS = ("password", "secret", "token", "credential")


def _mask(_logger, _name, event: dict) -> dict:
    for key in list(event):
        if any(w in key.lower() for w in _SECRET_WORDS):
            event[key] = "***"
    return event


def configure(env=os.environ) -> None:
    path = env.get("VSSORCH_LOG_FILE")
    level = getattr(logging, env.get("VSSORCH_LOG_LEVEL", "info" if path else "error").upper(), logging.INFO)
    stream = open(path, "a", encoding="utf-8") if path else sys.stderr  # noqa: SIM115 - lives as long as the process
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso"),
                    _mask, structlog.processors.JSONRenderer() if path else structlog.dev.ConsoleRenderer(colors=False)],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False)


configure()
