"""Identity before action, for lifecycles run from a file another process left
(`Lifecycle.recovering`).

The array reuses ids: the mapping id and the target of a shadow copy deleted long ago may
belong to a newer shadow copy now. So recovery reads an object back and acts on it only
when it still carries the name the lifecycle gave it (`vss-<lifecycle id>-...`); a
target, which carries no name of ours, only when no other lifecycle's file claims it and
no mapping of another name uses it. What fails the check is left alone and noted in
`lc.retired`, which cleanup reports.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.model import FcMap, Group
from core.records import Shadow

if TYPE_CHECKING:
    from states.machine import Lifecycle


def retire(lc: "Lifecycle", note: str) -> None:
    lc.retired.append(note)


def group_if_named(lc: "Lifecycle", group_id: str | None, name: str) -> Group | None:
    """The group with that id, if it is still the one named `name`."""
    group = lc.ctx.array.group(group_id) if group_id else None
    if group is not None and group.name != name:
        retire(lc, f"group {group_id} is now {group.name}, not {name}: left alone")
        return None
    return group


def fcmap_if_named(lc: "Lifecycle", map_id: str | None, name: str | None) -> FcMap | None:
    """The mapping with that id, if it still carries the name recorded for it."""
    m = lc.ctx.array.fcmap(map_id) if map_id else None
    if m is not None and name and m.name != name:
        retire(lc, f"mapping {map_id} is now {m.name}, not {name}: left alone")
        return None
    return m


def own_shadows(lc: "Lifecycle", shadows: list[Shadow]) -> list[Shadow]:
    """The shadow copies whose targets are still this lifecycle's to act on (all of
    them unless recovering)."""
    if not lc.recovering:
        return shadows
    targets = [s.target_id for s in shadows if s.target_id]
    maps = lc.ctx.array.fcmaps_of_volumes(targets) if targets else []
    ours = f"vss-{lc.lifecycle_id}-"
    claims = lc.ctx.claims
    kept = []
    for s in shadows:
        if not s.target_id:
            continue
        other = next((m for m in maps if s.target_id in (m.source_id, m.target_id)
                      and m.name != s.fcmap_name and not m.name.startswith(ours)), None)
        holder = claims(s.target_id, s.shadow_id) if claims else None
        if other is not None:
            retire(lc, f"target {s.target_id} of shadow copy {s.shadow_id} is in mapping {other.name} now: left alone")
        elif holder is not None:
            retire(lc, f"target {s.target_id} of shadow copy {s.shadow_id} belongs to {holder} now: left alone")
        else:
            kept.append(s)
    return kept
