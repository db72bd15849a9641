"""What the product knows about its shadow copies: plain records, persisted as JSON.

A shadow-copy set is created by one lifecycle; its record and the lifecycle's recovery
file are the same file (orchestrator/recovery.py), first in progress, then "done" as the
record of what exists. Everything here is JSON-friendly (str/int/bool/list/dict).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SetOptions:
    """How a set is created: the VSS context attributes the manual knows."""

    transportable: bool = False    # targets go to vss_res_host, to be imported elsewhere
    persistent: bool = True        # False = auto-release: deleted when the requestor ends
    # Copy settings default to the configuration (backgroundCopy, incrementalLC).
    copy_rate: int | None = None
    incremental: bool | None = None
    # Show the targets on this host when created. Decided when the set is opened and kept
    # in its file, so that a cleanup with another host adapter finishes the same plan.
    expose_here: bool | None = None


@dataclass
class Shadow:
    """One source volume's shadow copy (one fcmap)."""

    shadow_id: str                 # GUID-like id the requestor sees
    source_uid: str
    source_id: str
    source_name: str = ""
    size: int = 0
    target_id: str | None = None
    target_uid: str | None = None
    target_created: bool = False   # created dynamically in storagePool: deleted on delete
    fcmap_id: str | None = None
    fcmap_name: str | None = None
    reused_fcmap: bool = False     # incrementalLC: an existing mapping started again
    exposed_to: list[str] = field(default_factory=list)   # array host ids the target is mapped to
    device: str | None = None      # where it appeared on this host (disk number/device), if exposed


@dataclass
class ShadowSet:
    set_id: str
    lifecycle_id: str              # 8 hex: in every array object name the lifecycle creates
    options: SetOptions
    shadows: list[Shadow]
    state: str                     # the create lifecycle's state; "done" once it exists
    created_at: float = 0.0
    group_id: str | None = None
    group_name: str | None = None
    commit_time: float | None = None   # array clock is not ours: local wall time of the start
    imported_by: list[str] = field(default_factory=list)  # array host ids

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ShadowSet":
        data = dict(data)
        data["options"] = SetOptions(**data["options"])
        data["shadows"] = [Shadow(**s) for s in data["shadows"]]
        return cls(**data)
