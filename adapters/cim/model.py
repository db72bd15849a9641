"""Plain records and typed errors of array operations, shared by the CIM adapter and
the lifecycles (which see these, never CIM objects). No pywbem here.

Ids are the array's own (SVC vdisk, host, fcmap and fcconsistgrp ids) as strings.

`ArrayCallError.code` is the manual's error code (5 bad credentials, 911 CIM agent not
working, 3002 cannot connect, 3003 no configuration service, 402 AttachReplicas refused,
32816 target already in a localcopy relationship, 512 volume offline, ...).
`OutcomeUnknown` means the request may or may not have taken effect (connection dropped
after sending): the caller reads the array to find out instead of repeating the call.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# fcmap states as the array reports them (SVC's words)
IDLE, PREPARING, PREPARED, COPYING, STOPPING, STOPPED = (
    "idle_or_copied", "preparing", "prepared", "copying", "stopping", "stopped")
EMPTY_GROUP = "empty"     # a consistency group without mappings

# StopDependentMaps values of ModifySynchronization (the SVC CIM agent's extension)
STOP_NEWER, STOP_NEWER_AND_CURRENT, STOP_OLDER = 1, 2, 4


class ArrayCallError(Exception):
    """An array operation failed; `.code` is the manual's code, `.rc` the CIM return code."""

    def __init__(self, code: int, detail: str, rc: int | None = None):
        super().__init__(f"{detail} (code {code})")
        self.code, self.detail, self.rc = code, detail, rc


class OutcomeUnknown(ArrayCallError):
    """Sent, but no answer: read the array to learn whether it happened."""


class AttachRefused(ArrayCallError):
    """AttachReplicas refused some pairs; nothing was created (all or nothing).

    `refused` maps the index of each refused pair to its return code; 32816 means that
    pair's target is already in a localcopy relationship (another host took it)."""

    def __init__(self, refused: dict[int, int], detail: str):
        first = next(iter(refused.values()))
        super().__init__(32816 if 32816 in refused.values() else 402, detail, first)
        self.refused = refused


@dataclass(frozen=True)
class Identity:
    cluster_id: str
    cluster_name: str
    product: str
    version: str


@dataclass(frozen=True)
class Volume:
    id: str
    uid: str              # 32 hex digits, upper case: the page 0x83 NAA id
    name: str
    size: int             # bytes
    pool: str             # pool name
    iogroup: str          # I/O group name
    thin: bool
    compressed: bool
    deduped: bool
    online: bool


@dataclass(frozen=True)
class Host:
    id: str
    name: str
    wwpns: tuple[str, ...] = ()
    iqns: tuple[str, ...] = ()


@dataclass(frozen=True)
class FcMap:
    id: str
    name: str
    source_id: str
    target_id: str
    state: str            # one of the states above
    progress: int         # 0..100
    copy_rate: int        # 0..100
    incremental: bool
    autodelete: bool
    group_id: str | None
    restoring: bool
    dependent_count: int


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    state: str
    member_ids: tuple[str, ...] = field(default=())
