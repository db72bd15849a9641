"""Loggers that cost nothing until they log. structlog's import (asyncio among it) is
about half of a command's start, and `--help` or `list` log no event: a module-level
`log = get_logger("vssorch.x")` imports structlog at its first event only, after the
setup the entry layer registered (orchestrator.logs: where events go) has run, once."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger

_lock = threading.Lock()       # a service's threads may log their first events together
_setup: Callable[[], None] | None = None


def on_first_use(setup: Callable[[], None]) -> None:
    """`setup` (it configures structlog) runs before the process's first event."""
    global _setup
    _setup = setup


def ready() -> None:
    """Run the registered setup now, if it has not run: code that logs through structlog
    itself, not through these loggers, calls it before its first event."""
    global _setup
    with _lock:
        if _setup is not None:
            _setup()
            _setup = None


class _Lazy:
    __slots__ = ("_name", "_logger")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, method: str) -> Any:
        if self._logger is None:
            ready()
            import structlog
            self._logger = structlog.get_logger(self._name)
        return getattr(self._logger, method)


def get_logger(name: str) -> FilteringBoundLogger:
    """structlog.get_logger(name), fetched at the first call of one of its methods."""
    return cast("FilteringBoundLogger", _Lazy(name))  # one by delegation
