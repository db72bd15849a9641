"""Reading the CIM agent's replies: checked property readers and instance -> record.

Replies are checked as they are read: a missing or mistyped property becomes a
one-line 911, never a KeyError from deep inside. The records (core/model.py)
are built here and nowhere else; remembering paths is the concept modules' business.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

import pywbem
from pywbem import CIMInstance, CIMInstanceName

from adapters.cim import errors as E
from adapters.cim.names import (COPYTYPE_AUTODELETE, COPYTYPE_FLASHCOPY, GROUP_STATES, OPERATIONAL_OK,
                                SYNC_STATES)
from core import ids
from core.errors import ArrayCallError
from core.model import FcMap, Group, Host, Volume

T = TypeVar("T")


# ---------------------------------------------------------------- properties
def _bad(inst: object, name: str, why: str) -> ArrayCallError:
    cls = getattr(inst, "classname", None) or type(inst).__name__
    return ArrayCallError(E.AGENT_BROKEN, f"the CIM agent's {cls} reply {why} {name}")


def _prop(inst: object, name: str) -> object:
    if not isinstance(inst, pywbem.CIMInstance):
        raise ArrayCallError(E.AGENT_BROKEN, f"the CIM agent sent a {type(inst).__name__} "
                                             f"where an instance with {name} was expected")
    value: object = inst.get(name)
    return value


def text(inst: CIMInstance, name: str, default: str | None = None) -> str:
    value = _prop(inst, name)
    if value is None and default is not None:
        return default
    if value is None:
        raise _bad(inst, name, "lacks")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(inst, name, f"has a {type(value).__name__} in")
    return str(value)


def number(inst: CIMInstance, name: str, default: int | None = None) -> int:
    value = _prop(inst, name)
    if value is None and default is not None:
        return default
    if value is None:
        raise _bad(inst, name, "lacks")
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _bad(inst, name, f"has {E.one_line(repr(value), 40)} (not a number) in")


def flag(inst: CIMInstance, name: str) -> bool:
    value = _prop(inst, name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _bad(inst, name, f"has {E.one_line(repr(value), 40)} (not a boolean) in")


def strings(inst: CIMInstance, name: str) -> list[str]:
    value = _prop(inst, name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(inst, name, "has no list of strings in")
    return value


def numbers(inst: CIMInstance, name: str) -> list[int]:
    value = _prop(inst, name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise _bad(inst, name, "has no list of numbers in")
    return [int(v) for v in value]


# ---------------------------------------------------------------- paths and replies
def as_path(value: object, what: str) -> CIMInstanceName:
    if not isinstance(value, CIMInstanceName):
        raise ArrayCallError(E.AGENT_BROKEN, f"{what}: expected an instance path, got {type(value).__name__}")
    return value


def key(path: object, name: str) -> str:
    checked = as_path(path, f"key {name}")
    for k, v in checked.keybindings.items():
        if k.lower() == name.lower() and isinstance(v, (str, int)) and not isinstance(v, bool):
            return str(v)
    raise ArrayCallError(E.AGENT_BROKEN, f"a {checked.classname} path lacks the key {name}")


def controller_host(path: object) -> str:
    """The host id in a ProtocolController's DeviceID "<cluster id>:<host id>"."""
    return key(path, "DeviceID").rsplit(":", 1)[-1]


def instances(reply: object, what: str) -> list[CIMInstance]:
    if not isinstance(reply, list):
        raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the reply is not a list")
    for inst in reply:
        if not isinstance(inst, pywbem.CIMInstance) or not isinstance(inst.path, CIMInstanceName):
            raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the reply holds a {type(inst).__name__} "
                                                 "without an instance path")
    return reply


def output(out: Any, name: str, what: str) -> Any:
    try:
        return out[name]
    except (KeyError, TypeError):
        raise ArrayCallError(E.AGENT_BROKEN, f"{what}: the reply lacks the output {name}") from None


def argument(cimtype: Callable[[Any], T], value: object, name: str, code: int, what: str) -> T:
    """A caller's number as the CIM type the agent expects; out of range (or not a
    number) is the operation's own refusal before anything is sent, not a ValueError."""
    try:
        return cimtype(value)
    except (TypeError, ValueError):
        kind = getattr(cimtype, "__name__", "number").lower()
        raise ArrayCallError(code, f"{what}: {name} {E.one_line(repr(value), 40)} is not a {kind}") from None


# ---------------------------------------------------------------- records
def sync_state(inst: CIMInstance) -> str:
    value = number(inst, "SyncState")
    if value not in SYNC_STATES:
        raise _bad(inst, "SyncState", f"has an unknown mapping state {value} in")
    return SYNC_STATES[value]


def group_state(inst: CIMInstance) -> str:
    value = number(inst, "Status")
    if value not in GROUP_STATES:
        raise _bad(inst, "Status", f"has an unknown group status {value} in")
    return GROUP_STATES[value]


def to_volume(inst: CIMInstance) -> Volume:
    vol_id = key(inst.path, "DeviceID")
    uid = ids.volume_uid(text(inst, "Name")) or text(inst, "Name").upper()
    return Volume(id=vol_id, uid=uid, name=text(inst, "ElementName"),
                  size=number(inst, "NumberOfBlocks") * number(inst, "BlockSize", 1),
                  pool=text(inst, "PoolName", ""), iogroup=text(inst, "GroupName", ""),
                  thin=flag(inst, "IsSpaceEfficient"), compressed=flag(inst, "Compressed"),
                  deduped=flag(inst, "Deduplicated"),
                  online=OPERATIONAL_OK in numbers(inst, "OperationalStatus"))


def to_host(inst: CIMInstance) -> Host:
    return Host(id=text(inst, "HostID"), name=text(inst, "ElementName"),
                # one spelling on both sides, whatever the agent's (Hosts.with_initiator)
                wwpns=tuple(ids.wwpn(p) or p.strip() for p in strings(inst, "PortWWN")),
                iqns=tuple(ids.iqn(p) for p in strings(inst, "iSCSIName")))


def to_fcmap(inst: CIMInstance) -> FcMap:
    state = sync_state(inst)
    map_id = text(inst, "Name")
    group = text(inst, "SynchronizedSetID", "")
    return FcMap(id=map_id, name=text(inst, "ElementName"), source_id=text(inst, "SystemElementID"),
                 target_id=text(inst, "SyncedElementID"), state=state, progress=number(inst, "Progress", 0),
                 copy_rate=number(inst, "CopyRate"), incremental=flag(inst, "Incremental"),
                 autodelete=number(inst, "CopyType", COPYTYPE_FLASHCOPY) == COPYTYPE_AUTODELETE,
                 group_id=group or None, restoring=flag(inst, "Restoring"),
                 dependent_count=number(inst, "DependentMappingCount", 0))


def group_id_of(path: object) -> str:
    """A FlashCopy set is known by its InstanceID; the group id is its last part."""
    return key(path, "InstanceID").rsplit(":", 1)[-1]


def to_group(inst: CIMInstance) -> Group:
    return Group(id=group_id_of(inst.path), name=text(inst, "ElementName"), state=group_state(inst))
