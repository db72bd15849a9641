"""The phase book: each snapshot set's phase (orchestrator/vss_phases.py) kept in
<stateDir>/vss/ so the service may restart between two callbacks, and the per-set locks
that keep two callbacks of one set from interleaving."""
from __future__ import annotations

import threading
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Sequence

from core.log import get_logger
from orchestrator.recovery import RecoveryStore
from orchestrator.vss_phases import ENGINE_PHASES, FINISHED, Phase, SnapshotSet, accepts, advance, allowed
from orchestrator.vss_types import HResult, VssFault

log = get_logger("vssorch.vss")


class PhaseBook:
    def __init__(self, folder: Path):
        self.files = RecoveryStore(folder)
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        # sets whose newest phase is not written yet: CommitSnapshots writes nothing in the
        # hold window, PostCommitSnapshots (or an abort) writes it. A service restarted in
        # between finds them precommitted and refuses PostCommit (the engine rolls back).
        self._held: dict[str, SnapshotSet] = {}

    def lock(self, set_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(set_id, threading.Lock())

    def locked(self, set_ids: Sequence[str]) -> ExitStack:
        """Hold several sets' locks, always in the same order (no deadlock between calls)."""
        stack = ExitStack()
        for sid in sorted(set(set_ids)):
            stack.enter_context(self.lock(sid))
        return stack

    def _key(self, set_id: str) -> str:
        return "set-" + uuid.uuid5(uuid.NAMESPACE_OID, set_id).hex   # any GUID spelling is a safe file name

    def load(self, set_id: str) -> SnapshotSet | None:
        if set_id in self._held:
            return self._held[set_id]
        data = self.files.load(self._key(set_id))
        return SnapshotSet.from_json(data) if data else None

    def save(self, s: SnapshotSet) -> None:
        self._held.pop(s.set_id, None)
        self.files.save(self._key(s.set_id), s.to_json())

    def hold(self, s: SnapshotSet) -> None:
        """Keep the set's new phase in memory only (see _held)."""
        self._held[s.set_id] = s

    def sets(self) -> list[tuple[str, SnapshotSet]]:
        return [(key, SnapshotSet.from_json(data)) for key, data in self.files.items()]

    def state(self, set_id: str, call: str) -> SnapshotSet:
        s = self.load(set_id)
        if s is None:
            raise VssFault(HResult.VSS_E_OBJECT_NOT_FOUND, f"{call}: unknown snapshot set {set_id}", 711)
        return s

    def step(self, set_id: str, call: str, exists: Callable[[str], bool]) -> SnapshotSet:
        """The set, if the phase table takes `call` in its phase (else VSS_E_BAD_STATE).
        `exists` tells whether the engine still has the set's lifecycle."""
        s = self.state(set_id, call)
        if s.phase in ENGINE_PHASES and not exists(set_id):
            self.mark_rolled_back(s)       # a cleanup rolled it back while the service was down
        if not accepts(s.phase, call):
            raise VssFault(HResult.VSS_E_BAD_STATE,
                           f"{call} for snapshot set {set_id} in phase {s.phase.value} "
                           f"(needs {' or '.join(p.value for p in allowed(call) if p is not Phase.NEW)})")
        return s

    def mark_rolled_back(self, s: SnapshotSet) -> None:
        log.warning("vss set rolled back outside the service", set_id=s.set_id, phase=s.phase.value)
        advance(s, "rolled_back")
        self.save(s)

    def forget_gone(self, alive: set[str], at_load: bool = False) -> None:
        """Drop the files of finished sets the engine no longer has (`alive`: the sets it
        has); at load also those aborted before, and mark a set being created whose
        lifecycle is gone as rolled back (a cleanup rolled it back)."""
        for key, s in self.sets():
            if (s.phase in FINISHED and s.set_id not in alive) or (at_load and s.phase is Phase.ABORTED):
                self.files.delete(key)
            elif at_load and s.phase in ENGINE_PHASES and s.set_id not in alive:
                self.mark_rolled_back(s)
