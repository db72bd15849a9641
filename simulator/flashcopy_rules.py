"""FlashCopy rules: the DMTF values shown for the states (the state table is
flashcopy_states.py), the copy speeds, the views the engine answers with and the
refusal checks that need nothing but a mapping's or a group's state (the engine is
flashcopy.py)."""
from __future__ import annotations

from dataclasses import dataclass

from . import returncodes as rc
from .flashcopy_states import COPYING, IDLE, PREPARED, PREPARING, STOPPED, STOPPING, refusal, takes
from .returncodes import ArrayError

EMPTY = "empty"          # groups only

# DMTF SyncState of IBMTSSVC_LocalStorageSynchronized for each SVC state.
SYNC_STATE = {
    IDLE: 2,         # Initialized; 6 Synchronized once copied 100% (see sync_state)
    PREPARING: 3,    # PrepareInProgress
    PREPARED: 4,     # Prepared
    COPYING: 5,      # ResyncInProgress
    STOPPING: 8,     # QuiesceInProgress
    STOPPED: 13,     # Fractured
}
SYNCHRONIZED = 6

# Status of IBMTSSVC_FlashCopyStorageSynchronizedSet for each SVC group state.
GROUP_STATUS = {
    EMPTY: 0x1000,   # Empty
    IDLE: 11,        # Idle
    PREPARING: 3,    # PrepareInProgress
    PREPARED: 4,     # Prepared
    COPYING: 5,      # ResyncInProgress
    STOPPING: 0x8002,
    STOPPED: 0x8001,
}
# A group shows the first of these its members are in (members move together, except
# that they finish copying one by one and dependency stops hit single members).
_GROUP_STATE_ORDER = (PREPARING, STOPPING, COPYING, PREPARED, STOPPED, IDLE)

# StopDependentMaps of ModifySynchronization (None: clean dependents, keep them). Which
# operation may carry which value is the CIM layer's check (providers/copyservices.py).
STOP_NEWER = 1               # stop the newer mappings this one reads through, keep it
STOP_NEWER_AND_CURRENT = 2
DO_NOT_STOP_CURRENT = 3      # as 2, but the current one stays when it ends the chain
STOP_OLDER = 4               # stop the older ones reading through it, then it
FAIL_IF_NOT_OLDEST = 5
DO_NOT_STOP_ONLY = 6         # as 2, but the current one stays when it is the only one
_STOP_DEPENDENT = {None, STOP_NEWER, STOP_NEWER_AND_CURRENT, DO_NOT_STOP_CURRENT, STOP_OLDER,
                   FAIL_IF_NOT_OLDEST, DO_NOT_STOP_ONLY}

PREPARE_SECONDS = 2.0        # the array flushing its cache
GRAIN_SIZES = (64, 256)
ACTIVE = (COPYING, STOPPING)   # SVC's "active": a target of such a map needs restore


def copy_speed(rate: int) -> float:
    """Bytes per second for a copy or clean rate: 1-10 128 KiB/s, doubling per ten."""
    return 0.0 if rate == 0 else float((128 * 1024) << ((rate - 1) // 10))


@dataclass(frozen=True)
class MappingView:
    id: int
    name: str
    source_id: int
    target_id: int
    state: str
    sync_state: int
    copy_rate: int
    clean_rate: int
    incremental: bool
    grain_size: int               # KiB
    autodelete: bool
    group_id: int | None
    progress: int                 # % of grains the target holds itself
    difference: int | None        # incremental only: % of grains a restart copies
    dependent_count: int
    start_time: float | None      # simulated seconds of the last start
    restoring: bool


@dataclass(frozen=True)
class GroupView:
    id: int
    name: str
    autodelete: bool
    state: str
    dmtf_status: int
    members: tuple[int, ...]       # mapping ids


def sync_state(state: str, complete: bool) -> int:
    return SYNCHRONIZED if state == IDLE and complete else SYNC_STATE[state]


def group_state(members: list) -> str:
    states = {m.state for m in members}
    return next((s for s in _GROUP_STATE_ORDER if s in states), EMPTY)


def expect_group(group_id: int, members: list, request: str) -> None:
    """A group request needs every member in a state the table takes it in, so that all
    of them reach the start at the same instant; a start with Force (prepare_start) of
    a prepared group starts it now."""
    if not members and request != "prepare":
        raise ArrayError(rc.FC_GROUP_EMPTY_START, f"group {group_id} has no mappings")
    if members and (takes(members, request) or (request == "prepare_start" and takes(members, "start"))):
        return
    state = group_state(members)
    raise ArrayError(refusal(request, state), f"cannot {request} group {group_id}: it is {state}")


def check_rate(rate: int) -> None:
    if not 0 <= rate <= 100:
        raise ArrayError(rc.INVALID_PARAMETER, f"rate {rate} is not within 0..100")


def check_stop_dependent(how: int | None) -> None:
    if how not in _STOP_DEPENDENT:
        raise ArrayError(rc.INVALID_PARAMETER, f"StopDependentMaps {how} is not supported")


def check_grain_size(grain_size: int) -> None:
    if grain_size not in GRAIN_SIZES:
        raise ArrayError(rc.INVALID_PARAMETER, f"grain size {grain_size} KiB: 64 or 256")
