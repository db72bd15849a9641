"""The lifecycle kinds: each state table with its recovery policy, in one registry that
the engine (cleanup), `vssorch states`, scripts/make-state-docs.sh and the crash matrix
all read. A new kind is added here and nowhere else."""
from __future__ import annotations

from states.create import CreateLifecycle
from states.delete import DeleteLifecycle
from states.exposure import ExposeLifecycle, UnexposeLifecycle
from states.machine import Lifecycle
from states.restore import RestoreLifecycle

KINDS: dict[str, type[Lifecycle]] = {cls.KIND: cls for cls in (
    CreateLifecycle, DeleteLifecycle, RestoreLifecycle, ExposeLifecycle, UnexposeLifecycle)}
