"""Plain records of the array, shared by the CIM adapter and the lifecycles (which see
these, never CIM objects); their typed errors are in core/errors.py. No pywbem here.

Ids are the array's own (SVC vdisk, host, fcmap and fcconsistgrp ids) as strings.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# fcmap states as the array reports them (SVC's words)
IDLE, PREPARING, PREPARED, COPYING, STOPPING, STOPPED = (
    "idle_or_copied", "preparing", "prepared", "copying", "stopping", "stopped")
EMPTY_GROUP = "empty"     # a consistency group without mappings

# StopDependentMaps values of ModifySynchronization (the SVC CIM agent's extension)
STOP_NEWER, STOP_NEWER_AND_CURRENT, STOP_OLDER = 1, 2, 4


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
