"""Deleting shadow copies (manual 1.1, 5.1; F3).

    requested --plan--> planned --unexpose--> unexposed --withdraw--> withdrawn
              --release--> released --finish--> done

plan      read the cascade: a no-copy (copy rate 0) mapping's older siblings read
          through its target, so deleting S>T2 stops S>T1 as well (manual 5.1); the
          shadow copies owning those older mappings are added to this delete. No change.
unexpose  targets leave every host they were shown or imported to (host side first)
withdraw  the mappings go: the chosen one with "stop older" when it has dependents,
          then the stopped older ones. With incrementalLC the mapping is kept so that
          the next shadow copy of the same source copies only what changed.
release   targets from the free pool go back to vss_free_host; targets created in
          storagePool are deleted
finish    the shadow copies leave their sets' records

A delete only goes forward: once asked, cleanup completes it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from core.model import STOP_OLDER
from core.records import Shadow
from states.context import Context
from states.create import hide_shadows
from states.identity import own_shadows, retire
from states.machine import Lifecycle, Step


@dataclass
class Item:
    set_id: str
    shadow: Shadow
    cascaded: bool = False       # deleted because an older no-copy image lost its base
    keep_mapping: bool = False   # incrementalLC
    no_copy: bool = False        # copy rate 0 and older siblings read through its target

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Item":
        return cls(**{**data, "shadow": Shadow(**data["shadow"])})


# finder(fcmap_id, its name on the array) -> (set_id, shadow) owning that mapping, or None
Finder = Callable[[str, "str | None"], "tuple[str, Shadow] | None"]


def plan_cascade(lc: Lifecycle, items: list[Item], find: Finder, incremental: bool) -> list[str]:
    """Add the owners of the no-copy mappings that a delete will stop. Returns ids of
    foreign mappings (not the product's) that will be stopped, for the report."""
    ctx = lc.ctx
    foreign: list[str] = []
    seen = {it.shadow.fcmap_id for it in items}
    maps = {m.id: m for m in ctx.array.fcmaps_of_volumes(sorted({it.shadow.source_id for it in items}))}
    for it in list(items):
        m = _named(lc, maps.get(it.shadow.fcmap_id), it.shadow)
        it.keep_mapping = bool(m and incremental and m.incremental)
        it.no_copy = bool(m and m.copy_rate == 0 and m.dependent_count)
        if m is None or it.keep_mapping or m.copy_rate != 0 or it.cascaded or not m.dependent_count:
            continue
        for dep in ctx.array.dependent_fcmaps(m.id):
            if dep in seen:
                continue
            seen.add(dep)
            owner = find(dep, maps[dep].name if dep in maps else None)
            if owner is None:
                foreign.append(dep)
            else:
                items.append(Item(owner[0], owner[1], cascaded=True))
    return foreign


def _named(lc: Lifecycle, m, shadow: Shadow):
    """A recovering lifecycle knows a mapping by its id only while it carries its name."""
    if m is not None and lc.recovering and shadow.fcmap_name and m.name != shadow.fcmap_name:
        retire(lc, f"mapping {m.id} is now {m.name}, not {shadow.fcmap_name}: left alone")
        return None
    return m


def withdraw(lc: Lifecycle, items: list[Item], stop_dependent: int | None) -> list[str]:
    """Delete the mappings; the non-cascaded no-copy ones take their dependents down
    with them (`stop_dependent`), the cascaded ones go after. A resumed or recovering
    withdraw first reads which mappings are still there, under their names."""
    ctx = lc.ctx
    present = None
    if lc.resuming or lc.recovering:
        present = {m.id: m for m in ctx.array.fcmaps_of_volumes(sorted({i.shadow.source_id for i in items}))}
    gone = []
    for it in sorted(items, key=lambda i: i.cascaded):
        map_id = it.shadow.fcmap_id
        if it.keep_mapping or not map_id or (
                present is not None and _named(lc, present.get(map_id), it.shadow) is None):
            continue
        how = stop_dependent if (not it.cascaded and it.no_copy) else None
        ctx.array.delete_fcmap(map_id, force=True, stop_dependent=how)
        gone.append(map_id)
    return gone


def release(lc: Lifecycle, shadows: list[Shadow]) -> None:
    """Targets back where they came from: the free host, or deleted when created."""
    ctx = lc.ctx
    shadows = own_shadows(lc, shadows)
    pooled = [s.target_id for s in shadows if s.target_id and not s.target_created]
    created = [s.target_id for s in shadows if s.target_id and s.target_created]
    res = ctx.host(ctx.settings.reserved_host, 3006)
    if pooled:
        free = ctx.host(ctx.settings.free_host, 3005)
        ctx.array.map_volumes(free.id, pooled)
    if pooled or created:
        ctx.array.unmap_volumes(res.id, pooled + created)
    if created:
        busy = {v for m in ctx.array.fcmaps_of_volumes(created) for v in (m.source_id, m.target_id)}
        # a live delete knows its targets are there; one run again may have deleted some
        again = lc.resuming or lc.recovering
        for vol_id in created:
            if vol_id not in busy and (not again or ctx.array.volume(vol_id) is not None):
                ctx.array.delete_volume(vol_id)


class DeleteLifecycle(Lifecycle):
    KIND = "delete"
    STATES = ["requested", "planned", "unexposed", "withdrawn", "released", "done"]
    STEPS = [
        Step("plan", "requested", "planned", undoable=False),
        Step("unexpose", "planned", "unexposed", undoable=False),
        Step("withdraw", "unexposed", "withdrawn", undoable=False),
        Step("release", "withdrawn", "released", undoable=False),
        Step("finish", "released", "done", undoable=False),
    ]

    def __init__(self, lifecycle_id: str, items: list[Item], ctx: Context, persist,
                 find: Finder, forget: Callable[[list[Item]], None], **kw):
        self.items, self.ctx, self.find, self.forget = items, ctx, find, forget
        self.foreign_stopped: list[str] = kw.pop("foreign_stopped", [])
        super().__init__(lifecycle_id, persist, **kw)

    def snapshot(self) -> dict:
        return {**super().snapshot(), "items": [i.to_json() for i in self.items],
                "foreign_stopped": self.foreign_stopped}

    def do_plan(self) -> None:
        self.foreign_stopped = plan_cascade(self, self.items, self.find, self.ctx.settings.incremental)
        self.objects = [i.shadow.fcmap_id for i in self.items]

    def do_unexpose(self) -> None:
        hide_shadows(self.ctx, own_shadows(self, [i.shadow for i in self.items]))

    def do_withdraw(self) -> None:
        self.objects = withdraw(self, self.items, STOP_OLDER)

    def do_release(self) -> None:
        for it in self.items:
            if it.keep_mapping:
                # a created target that keeps its incremental mapping joins the free pool
                it.shadow.target_created = False
        release(self, [i.shadow for i in self.items])
        self.objects = [i.shadow.target_id for i in self.items]

    def do_finish(self) -> None:
        self.forget(self.items)
