"""Creating a shadow-copy set (manual 1.1, 3.4, 4; F3).

    new --check--> checked --choose_targets--> targets_chosen --create_group--> grouped
        --attach--> attached --prepare--> prepared --commit--> committed
        --dissolve--> dissolved --reserve--> reserved --expose--> exposed --finish--> done

check           sources are this host's volumes or importable shadow copies (201), sizes,
                offline sources (512), thin targets need copy rate 0 and no
                mixing of copy rates in one cascade (800); no array change
choose_targets  equal-sized targets from the free host's volumes, or new volumes in
                storagePool (named vss-<id>-t<n>; states/targets.py); an incremental
                mapping of the same source is reused with its target
create_group    consistency group vss-<id>: all members start at one instant
attach          one AttachReplicas for every pair (mappings vss-<id>-<n>); a target
                another host took meanwhile (32816) is replaced by the next free one
prepare         PrepareAll: the array flushes its cache (the slow part, before the freeze)
commit          one request: start the group (the point in time); run armed (states/machine.py):
                the file says "about to commit" before VSS's hold window and nothing is
                written inside it, the next step's write records the outcome
dissolve        the group has done its job; members become stand-alone mappings so that
                each shadow copy can later be deleted on its own
reserve         targets move from vss_free_host to vss_res_host (used, not free)
expose          non-transportable sets only: targets mapped to this host and located
finish          the file stays as the record of the set

Abort or failure undoes every step back to new: commit and dissolve by undoing attach
(deleting the new mappings), reserve and expose by moving the targets back. After a
crash, cleanup rolls back a set that had not reached committed, and any auto-release
set; it completes a persistent set that had (the point-in-time copy exists).
A finished set is removed by the delete lifecycle, not rolled back.
"""
from __future__ import annotations

from typing import Any, Callable

from core.errors import ArrayCallError, AttachRefused, OutcomeUnknown, VssError
from core.model import COPYING, IDLE, STOPPED, STOPPING, FcMap, Group, Host, Volume
from core.ports import ArrayPort
from core.records import Shadow, ShadowSet
from states.context import Context
from states.exposure import expose_shadows, hide_shadows
from states.identity import fcmap_if_named, group_if_named, own_shadows, recorded
from states.machine import Lifecycle, Step
from states.targets import create_targets, pick_free_targets, target_names

TAKEN = 32816


class CreateLifecycle(Lifecycle):
    KIND = "create"
    STATES = ["new", "checked", "targets_chosen", "grouped", "attached", "prepared", "committed",
              "dissolved", "reserved", "exposed", "done"]
    STEPS = [
        Step("check", "new", "checked"),
        Step("choose_targets", "checked", "targets_chosen"),
        Step("create_group", "targets_chosen", "grouped"),
        Step("attach", "grouped", "attached"),
        Step("prepare", "attached", "prepared"),
        Step("commit", "prepared", "committed"),
        Step("dissolve", "committed", "dissolved"),
        Step("reserve", "dissolved", "reserved"),
        Step("expose", "reserved", "exposed"),
        Step("finish", "exposed", "done", undoable=False),
    ]
    COMPLETE_FROM = "committed"
    IN_SET_FILE = True

    @classmethod
    def completes(cls, op: dict[str, Any], persistent: bool = True) -> bool:
        # an auto-release set is not wanted once its requestor is gone
        return persistent and super().completes(op)

    @classmethod
    def policy(cls) -> str:
        return super().policy() + "; an auto-release set is always rolled back"

    def __init__(self, record: ShadowSet, ctx: Context, persist: Callable[[Lifecycle], None],
                 **kw: Any) -> None:
        self.record, self.ctx = record, ctx
        self.excluded: set[str] = set()      # targets another host took (32816)
        if record.options.expose_here is None:
            record.options.expose_here = not record.options.transportable and ctx.consumer is not None
        super().__init__(record.lifecycle_id, persist, **kw)

    def wanted(self, step: Step) -> bool:
        if step.trigger == "expose":
            return bool(self.record.options.expose_here)
        return True

    # ------------------------------------------------------------ helpers
    @property
    def array(self) -> ArrayPort:
        return self.ctx.array

    @property
    def _group_id(self) -> str:
        return recorded(self.record.group_id, "consistency group")

    @property
    def prefix(self) -> str:
        return f"vss-{self.lifecycle_id}-"

    def _copy_rate(self) -> int:
        rate = self.record.options.copy_rate
        return self.ctx.settings.copy_rate if rate is None else rate

    def _incremental(self) -> bool:
        inc = self.record.options.incremental
        return self.ctx.settings.incremental if inc is None else inc

    def _fresh(self) -> list[Shadow]:
        """Shadows whose mapping this lifecycle creates (not a reused incremental one)."""
        return [s for s in self.record.shadows if not s.reused_fcmap]

    # ------------------------------------------------------------ check
    def do_check(self) -> None:
        shadows = self.record.shadows
        uids = [s.source_uid for s in shadows]
        if not uids:
            raise VssError(400, "no source volumes were given")
        # this host: where targets will go and whose volumes it may copy, known before anything changes
        home = self.ctx.this_host()
        if len(set(uids)) != len(uids):
            raise VssError(103, "a source volume is listed twice in one shadow-copy set")
        found = self.array.volumes_by_uid(uids)
        missing = [u for u in uids if u not in found]
        if missing:
            raise VssError(201, f"no volume on this array has UID {missing[0]}")
        if home is not None:
            self._check_sources_are_mine(home, [found[u] for u in uids])
        rate = self._copy_rate()
        if self.ctx.settings.pool and self.ctx.settings.thin and rate != 0:
            raise VssError(800, "space-efficient (se) targets need backgroundCopy 0")
        for shadow in shadows:
            vol = found[shadow.source_uid]
            if not vol.online:
                raise VssError(512, f"source volume {vol.name} is offline")
        existing = self.array.fcmaps_of_volumes([found[u].id for u in uids])
        for shadow in shadows:
            vol = found[shadow.source_uid]
            shadow.source_id, shadow.source_name, shadow.size = vol.id, vol.name, vol.size
            cascade = [m for m in existing if m.source_id == vol.id]
            if any((m.copy_rate == 0) != (rate == 0) for m in cascade if not m.incremental):
                raise VssError(800, f"source {vol.name} already has localcopies with "
                                    f"{'a copy rate above 0' if rate == 0 else 'copy rate 0'}; "
                                    "one cascade cannot mix them")
            if self._incremental():
                reuse = next((m for m in cascade if m.incremental), None)
                if reuse is not None:
                    shadow.fcmap_id, shadow.fcmap_name = reuse.id, reuse.name
                    shadow.target_id, shadow.reused_fcmap = reuse.target_id, True
        self.objects = [s.source_id for s in shadows]

    def _check_sources_are_mine(self, home: Host, vols: list[Volume]) -> None:
        """A source is a volume this host uses (mapped to it) or a transportable shadow
        copy it may import (on the reserved host); anything else is another host's data."""
        mine = {v.id for v in self.array.host_volumes(home.id)}
        rest = [v for v in vols if v.id not in mine]
        if rest:
            reserved = self.ctx.host(self.ctx.settings.reserved_host, 3006)
            importable = {v.id for v in self.array.host_volumes(reserved.id)}
            foreign = [v for v in rest if v.id not in importable]
            if foreign:
                raise VssError(201, f"source volume {foreign[0].name} is not mapped to this host "
                                    f"({home.name}) nor a shadow copy it may import: unsupported volume")

    def undo_check(self) -> None:
        """Nothing on the array to undo."""

    # ------------------------------------------------------------ targets
    def do_choose_targets(self) -> None:
        shadows = self.record.shadows
        if self.ctx.settings.pool:
            create_targets(self.ctx, shadows, self.prefix, self.resuming)
        else:
            pick_free_targets(self.ctx, shadows, self._copy_rate(), self.excluded)
        missing = [s for s in shadows if s.target_id is None]
        if missing:
            raise VssError(3007, f"no free target of {missing[0].size} bytes for {missing[0].source_name}")
        self.objects = [s.target_id for s in shadows]

    def _map_names(self) -> list[str]:
        return [f"{self.prefix}{i}" for i in range(len(self.record.shadows))]

    def undo_choose_targets(self) -> None:
        for vol in self.array.volumes_by_name(target_names(self.prefix, len(self.record.shadows))):
            self.array.delete_volume(vol.id)
            self.objects.append(vol.id)
        for shadow in self.record.shadows:
            if not shadow.reused_fcmap:
                shadow.target_id = shadow.target_uid = None
                shadow.target_created = False

    # ------------------------------------------------------------ group
    def do_create_group(self) -> None:
        name = self.prefix.rstrip("-")
        group = next(iter(self.array.groups_by_name([name])), None) if self.resuming else None
        group = group or self.array.create_group(name)
        self.record.group_id, self.record.group_name = group.id, group.name
        self.objects = [group.id]

    def undo_create_group(self) -> None:
        for group in self.array.groups_by_name([self.prefix.rstrip("-")]):
            self.array.delete_group(group.id, force=True)
            self.objects.append(group.id)
        self.record.group_id = None

    # ------------------------------------------------------------ attach
    def do_attach(self) -> None:
        if self.resuming:
            self._adopt_existing_maps()
        for shadow in self.record.shadows:
            if shadow.reused_fcmap:
                self._stand_still(shadow)
                self.array.add_to_group(self._group_id, recorded(shadow.fcmap_id, "kept mapping"))
        while True:
            todo = [(i, s) for i, s in enumerate(self.record.shadows) if s.fcmap_id is None]
            if not todo:
                break
            pairs = [(s.source_id, recorded(s.target_id, "target"), f"{self.prefix}{i}") for i, s in todo]
            try:
                maps = self.array.attach(pairs, copy_rate=self._copy_rate(),
                                         incremental=self._incremental(), group_id=self.record.group_id)
            except OutcomeUnknown:
                # the reply was lost; the mappings carry this lifecycle's names, so the array
                # tells whether it made them (all or none: AttachReplicas is atomic)
                made = self._made_anyway(pairs)
                if made is None:
                    raise
                maps = made
            except AttachRefused as exc:
                if any(rc != TAKEN for rc in exc.refused.values()) or self.ctx.settings.pool:
                    raise VssError(402 if exc.code != TAKEN else TAKEN, exc.detail) from None
                # Another host attached these targets first: never share one, take the next.
                for idx in exc.refused:
                    shadow = todo[idx][1]
                    self.excluded.add(recorded(shadow.target_id, "target"))
                    shadow.target_id = shadow.target_uid = None
                self.do_choose_targets()
                self._persist(self)
                continue
            for (_, shadow), m in zip(todo, maps):
                shadow.fcmap_id, shadow.fcmap_name = m.id, m.name
        self.objects = [s.fcmap_id for s in self.record.shadows]

    def _stand_still(self, shadow: Shadow) -> None:
        """The agent takes a kept incremental mapping into a group only while it stands
        still (idle or stopped). One still copying the image of the shadow copy deleted
        before is stopped, forced: its target takes the new point in time at the commit,
        so its cleaning need not be waited for."""
        m = fcmap_if_named(self, shadow.fcmap_id, shadow.fcmap_name)
        if m is None:
            raise VssError(402, f"the kept incremental mapping {shadow.fcmap_name} is gone")
        if m.state in (COPYING, STOPPING):
            try:
                self.array.stop_fcmap(m.id, force=True)
            except ArrayCallError:
                # refused because it finished copying meanwhile: standing still is all we need
                after = self.array.fcmap(m.id)
                if after is None or after.state not in (IDLE, STOPPED):
                    raise

    def _made_anyway(self, pairs: list[tuple[str, str, str]]) -> list[FcMap] | None:
        by_name = {m.name: m for m in self.array.fcmaps_by_name([n for _, _, n in pairs])}
        made = [m for s, t, n in pairs
                if (m := by_name.get(n)) is not None and (m.source_id, m.target_id) == (s, t)]
        return made if len(made) == len(pairs) else None

    def _adopt_existing_maps(self) -> None:
        names = self._map_names()
        by_name = {m.name: m for m in self.array.fcmaps_by_name(names)}
        for name, shadow in zip(names, self.record.shadows):
            m: FcMap | None = by_name.get(name)
            if m is not None and not shadow.reused_fcmap:
                shadow.fcmap_id, shadow.fcmap_name, shadow.target_id = m.id, m.name, m.target_id

    def _group(self) -> Group | None:
        return group_if_named(self, self.record.group_id, self.prefix.rstrip("-"))

    def undo_attach(self) -> None:
        if self._group() is not None:
            self.array.delete_group(self._group_id, force=True)
        for m in self.array.fcmaps_by_name(self._map_names()):
            self.array.delete_fcmap(m.id, force=True)
            self.objects.append(m.id)
        for shadow in self.record.shadows:
            if shadow.reused_fcmap:
                kept = fcmap_if_named(self, shadow.fcmap_id, shadow.fcmap_name)
                if kept is not None and kept.state in ("preparing", "prepared"):
                    self.array.stop_fcmap(kept.id, force=True)
            else:
                shadow.fcmap_id = shadow.fcmap_name = None

    # ------------------------------------------------------------ prepare / commit
    def do_prepare(self) -> None:
        if self.resuming and self._group_state() in ("prepared", "copying"):
            return
        self.array.prepare_group(self._group_id)
        self.objects = [self.record.group_id]

    def undo_prepare(self) -> None:
        """Prepared mappings are deleted by undoing attach."""

    def _group_state(self) -> str | None:
        group = self._group()
        return group.state if group else None

    def do_commit(self) -> None:
        if self.resuming and self._group_state() in ("copying", "idle_or_copied"):
            return
        self.array.start_group(self._group_id)
        self.objects = [self.record.group_id]

    def undo_commit(self) -> None:
        """A started copy is undone by deleting its mapping (undo attach)."""

    def do_dissolve(self) -> None:
        if self._group() if self.resuming or self.recovering else True:
            self.array.delete_group(self._group_id, force=True)
        self.objects = [self.record.group_id]

    def undo_dissolve(self) -> None:
        """The group's job was the common start; nothing to bring back."""

    # ------------------------------------------------------------ hosts
    def do_reserve(self) -> None:
        shadows = own_shadows(self, self.record.shadows)
        res = self.ctx.host(self.ctx.settings.reserved_host, 3006)
        targets = [recorded(s.target_id, "target") for s in shadows]
        pooled = [recorded(s.target_id, "target") for s in shadows if not s.target_created]
        if targets:
            self.array.map_volumes(res.id, targets)
        if pooled:
            free = self.ctx.host(self.ctx.settings.free_host, 3005)
            self.array.unmap_volumes(free.id, pooled)
        self.objects = list(targets)

    def undo_reserve(self) -> None:
        shadows = own_shadows(self, self.record.shadows)
        pooled = [recorded(s.target_id, "target") for s in shadows if not s.target_created]
        if pooled:
            free = self.ctx.host(self.ctx.settings.free_host, 3005)
            self.array.map_volumes(free.id, pooled)
        if shadows:
            res = self.ctx.host(self.ctx.settings.reserved_host, 3006)
            self.array.unmap_volumes(res.id, [recorded(s.target_id, "target") for s in shadows])

    def do_expose(self) -> None:
        shadows = own_shadows(self, self.record.shadows)
        if shadows:
            expose_shadows(self.ctx, self.record, shadows)
        self.objects = [s.target_id for s in shadows]

    def undo_expose(self) -> None:
        hide_shadows(self.ctx, own_shadows(self, self.record.shadows))

    def do_finish(self) -> None:
        """The record stays: it is the shadow copy's file from now on."""

