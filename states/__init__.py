"""The lifecycle kinds: each state table with its recovery policy, in one registry that
the engine (cleanup), `vssorch states`, scripts/make-state-docs.sh and the crash matrix
all read. A new kind is added in `_kinds` and nowhere else.

The registry is built on first use (PEP 562): importing a leaf such as states.context
must not load every state table and pytransitions (a command's start-up pays for them
only when it runs lifecycles)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from states.machine import Lifecycle

    KINDS: dict[str, type[Lifecycle]]


@functools.cache
def _kinds() -> dict[str, type[Lifecycle]]:
    from states.create import CreateLifecycle
    from states.delete import DeleteLifecycle
    from states.exposure import ExposeLifecycle, UnexposeLifecycle
    from states.restore import RestoreLifecycle
    return {cls.KIND: cls for cls in (CreateLifecycle, DeleteLifecycle, RestoreLifecycle,
                                      ExposeLifecycle, UnexposeLifecycle)}


def __getattr__(name: str) -> Any:
    if name == "KINDS":
        return _kinds()
    raise AttributeError(f"module 'states' has no attribute {name!r}")
