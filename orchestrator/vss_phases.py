"""The VSS provider's phase order: where a snapshot set is in VSS's sequence of creation
calls, declared as a table of rows (call or event, from, to) like the lifecycles.

    BeginPrepareSnapshot xN   collect the LUNs (no array change)
    EndPrepareSnapshots       Orchestrator.prepare: every heavy step, before the freeze
    PreCommitSnapshots        Orchestrator.pre_commit: the set's file says "about to commit"
    CommitSnapshots           Orchestrator.commit: one array request (flush-and-hold), no write
    PostCommitSnapshots       Orchestrator.post_commit: dissolve the group, reserve targets
    Pre/PostFinalCommit       nothing (auto-recovery is done by VSS on the surfaced LUNs)
    AbortSnapshots            Orchestrator.abort, from any phase before final; again is harmless

Two events move a set without a call: `failed` (an engine step failed and the engine
rolled the set back) and `rolled_back` (a cleanup rolled it back while the service was
down; the next call or the next OnLoad finds its lifecycle gone). A call the table has
no row for in the set's phase is refused with VSS_E_BAD_STATE before anything on the
array changes; the provider (orchestrator/vss_create.py) moves a set only through
`advance`, so this table is the order that runs. `vssorch states vss` draws it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Phase(str, enum.Enum):
    """Where a snapshot set is in the creation sequence (VSS's order of calls)."""

    NEW = "new"                        # no file yet: before the first BeginPrepareSnapshot
    PREPARING = "preparing"            # BeginPrepareSnapshot called at least once
    PREPARED = "prepared"              # EndPrepareSnapshots done: all heavy work done
    PRECOMMITTED = "precommitted"      # writers frozen
    COMMITTED = "committed"            # the point in time exists
    POSTCOMMITTED = "postcommitted"    # writers thawed; the set exists
    FINAL = "final"                    # PostFinalCommitSnapshots returned
    ABORTED = "aborted"


@dataclass(frozen=True)
class PhaseStep:
    trigger: str       # a VSS call, or an event (EVENTS)
    source: Phase
    dest: Phase


EVENTS = ("failed", "rolled_back")
# phases in which the engine holds the set's create lifecycle, and those after creation
ENGINE_PHASES = (Phase.PREPARED, Phase.PRECOMMITTED, Phase.COMMITTED)
FINISHED = (Phase.POSTCOMMITTED, Phase.FINAL)

P = Phase
STEPS: tuple[PhaseStep, ...] = (
    PhaseStep("BeginPrepareSnapshot", P.NEW, P.PREPARING),
    PhaseStep("BeginPrepareSnapshot", P.PREPARING, P.PREPARING),
    PhaseStep("EndPrepareSnapshots", P.PREPARING, P.PREPARED),
    PhaseStep("PreCommitSnapshots", P.PREPARED, P.PRECOMMITTED),
    PhaseStep("CommitSnapshots", P.PRECOMMITTED, P.COMMITTED),
    PhaseStep("PostCommitSnapshots", P.COMMITTED, P.POSTCOMMITTED),
    PhaseStep("PreFinalCommitSnapshots", P.POSTCOMMITTED, P.POSTCOMMITTED),
    PhaseStep("PostFinalCommitSnapshots", P.POSTCOMMITTED, P.FINAL),
    # the abort: the engine undoes what it did (nothing yet while preparing)
    *(PhaseStep("AbortSnapshots", p, P.ABORTED)
      for p in (P.PREPARING, P.PREPARED, P.PRECOMMITTED, P.COMMITTED, P.POSTCOMMITTED)),
    PhaseStep("AbortSnapshots", P.ABORTED, P.ABORTED),       # again: harmless
    PhaseStep("AbortSnapshots", P.FINAL, P.FINAL),           # finished: only OnLunEmpty deletes it
    *(PhaseStep("failed", p, P.ABORTED) for p in (P.PREPARING, *ENGINE_PHASES)),
    *(PhaseStep("rolled_back", p, P.ABORTED) for p in ENGINE_PHASES),
)
del P
_DEST = {(s.source, s.trigger): s.dest for s in STEPS}


def allowed(trigger: str) -> tuple[Phase, ...]:
    """The phases the table accepts `trigger` in, in the table's order."""
    return tuple(s.source for s in STEPS if s.trigger == trigger)


def accepts(phase: Phase, trigger: str) -> bool:
    return (phase, trigger) in _DEST


def advance(s: "SnapshotSet", trigger: str) -> Phase:
    """Move the set by the table's row; a missing row is a bug in the caller (the calls
    check `accepts` first and refuse with VSS_E_BAD_STATE)."""
    s.phase = _DEST[(s.phase, trigger)]
    return s.phase


@dataclass
class SnapshotSet:
    """What the provider keeps of a set between callbacks: VSS's ids, the context, and
    which snapshot id stands for which source LUN."""

    set_id: str
    context: int
    phase: Phase
    snapshots: dict[str, str] = field(default_factory=dict)      # snapshot id -> source UID
    devices: dict[str, str] = field(default_factory=dict)        # snapshot id -> device name

    def to_json(self) -> dict:
        return {"set_id": self.set_id, "context": self.context, "phase": self.phase.value,
                "snapshots": self.snapshots, "devices": self.devices}

    @classmethod
    def from_json(cls, data: dict) -> "SnapshotSet":
        return cls(data["set_id"], int(data["context"]), Phase(data["phase"]),
                   dict(data["snapshots"]), dict(data.get("devices", {})))
