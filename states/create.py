"""Creating a shadow-copy set (manual 1.1, 3.4, 4; F3).

    new --check--> checked --choose_targets--> targets_chosen --create_group--> grouped
        --attach--> attached --prepare--> prepared --commit--> committed
        --dissolve--> dissolved --reserve--> reserved --expose--> exposed --finish--> done

check           sources are this host's volumes or importable shadow copies (201), sizes,
                offline sources (512), thin targets need copy rate 0 and no
                mixing of copy rates in one cascade (800); no array change
choose_targets  equal-sized targets from the free host's volumes, or new volumes in
                storagePool (named vss-<id>-t<n>); an incremental mapping of the same
                source is reused with its target
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

from core.errors import ArrayCallError, AttachRefused, OutcomeUnknown, VssError
from core.model import COPYING, IDLE, STOPPED, STOPPING, FcMap, Host, Volume
from core.records import Shadow, ShadowSet
from states.context import Context
from states.identity import fcmap_if_named, group_if_named, own_shadows
from states.machine import Lifecycle, Step

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
    def completes(cls, op: dict, persistent: bool = True) -> bool:
        # an auto-release set is not wanted once its requestor is gone
        return persistent and super().completes(op)

    @classmethod
    def policy(cls) -> str:
        return super().policy() + "; an auto-release set is always rolled back"

    def __init__(self, record: ShadowSet, ctx: Context, persist, **kw):
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
    def array(self):
        return self.ctx.array

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
        settings = self.ctx.settings
        if settings.pool:
            self._create_targets()
        else:
            self._pick_free_targets()
        missing = [s for s in self.record.shadows if s.target_id is None]
        if missing:
            raise VssError(3007, f"no free target of {missing[0].size} bytes for {missing[0].source_name}")
        self.objects = [s.target_id for s in self.record.shadows]

    def _pick_free_targets(self) -> None:
        """Targets from the free pool. The process keeps the pool as it last listed it
        (ctx.free_pool) and afterwards only checks that the volumes it picks are still
        in the pool (one request whatever the pool's size); the pool is listed again
        when one of them left it or nothing kept fits. What else may have changed since
        the listing is the array's to refuse: another create attaching a target first
        (32816, the next is taken), a target gone offline or resized (the create fails;
        the failure forgets the kept pool, so the next create lists it again)."""
        free = self.ctx.host(self.ctx.settings.free_host, 3005)
        reused = [s.target_id for s in self.record.shadows if s.reused_fcmap and s.target_id is not None]
        pool, listed = self.ctx.free_pool, False
        while True:
            if pool is None:
                pool, listed = {v.id: v for v in self._list_free_pool(free)}, True
                self.ctx.free_pool = pool
            picks = self._choose(list(pool.values()))
            if listed:
                in_pool = set(pool)
                break
            if None in picks.values():
                pool = None         # nothing kept fits: list the pool again
                continue
            in_pool = self._still_free(free, [*(v.id for v in picks.values()), *reused])
            if all(v.id in in_pool for v in picks.values()):
                break
            pool = None             # the pool changed since it was listed: list it again
        for shadow in self.record.shadows:
            if shadow.reused_fcmap and shadow.target_id not in in_pool:
                # The incremental target is still exposed or reserved by another set, and
                # the array refuses a second incremental mapping of one source (manual 5.1).
                raise VssError(402, f"{shadow.source_name} already has an incremental mapping "
                                    f"({shadow.fcmap_name}) whose target another shadow copy "
                                    "still uses; a source has one incremental mapping at a "
                                    "time: delete that shadow copy first, or create this one "
                                    "with incremental: false")
        for i, vol in picks.items():
            if vol is not None:
                self.record.shadows[i].target_id, self.record.shadows[i].target_uid = vol.id, vol.uid
                pool.pop(vol.id, None)      # it leaves the pool (another create may have taken it too)
        # a kept target (incremental) is known by id only, and the kept pool lacks it
        # once a create took it
        unknown = [s.target_id for s in self.record.shadows
                   if s.target_uid is None and s.target_id is not None and s.target_id not in pool]
        known = {**pool, **self.array.volumes_by_id(unknown)}
        for shadow in self.record.shadows:
            if shadow.target_uid is None and shadow.target_id in known:
                shadow.target_uid = known[shadow.target_id].uid

    def _list_free_pool(self, free) -> list[Volume]:
        try:
            return self.array.host_volumes(free.id)
        except VssError:
            raise
        except Exception as exc:     # noqa: BLE001 - the manual's 102 says "while listing VSS_FREE"
            code = getattr(exc, "code", 102)
            raise VssError(code if code != 911 else 102, f"listing the free pool failed: {exc}") from None

    def _choose(self, pool: list[Volume]) -> dict[int, Volume | None]:
        """A fitting volume for each shadow (by index) without a target, each volume once."""
        taken = {s.target_id for s in self.record.shadows if s.target_id} | self.excluded
        sources = {s.source_id for s in self.record.shadows}
        picks = {}
        for i, shadow in enumerate(self.record.shadows):
            if shadow.target_id is None:
                pick = next((v for v in pool if self._fits(v, shadow) and v.id not in taken
                             and v.id not in sources), None)
                picks[i] = pick
                if pick is not None:
                    taken.add(pick.id)
        return picks

    def _still_free(self, free, volume_ids: list[str]) -> set[str]:
        """Which of these volumes are still in the free pool."""
        hosts = self.array.volume_host_ids(volume_ids)
        return {vid for vid in volume_ids if free.id in hosts.get(vid, [])}

    def _fits(self, vol: Volume, shadow: Shadow) -> bool:
        return (vol.size == shadow.size and vol.online
                and (not vol.thin or self._copy_rate() == 0))

    def _create_targets(self) -> None:
        s = self.ctx.settings
        existing = {v.name: v for v in self.array.volumes_by_name(self._target_names())} if self.resuming else {}
        for i, shadow in enumerate(self.record.shadows):
            if shadow.target_id is not None and not shadow.target_created:
                continue     # a reused incremental target
            name = f"{self.prefix}t{i}"
            vol = existing.get(name) or self.array.create_volume(
                name, shadow.size, s.pool, s.iogroup or None, thin=s.thin,
                compressed=s.compressed, deduped=s.deduped)
            shadow.target_id, shadow.target_uid, shadow.target_created = vol.id, vol.uid, True

    def _target_names(self) -> list[str]:
        return [f"{self.prefix}t{i}" for i in range(len(self.record.shadows))]

    def _map_names(self) -> list[str]:
        return [f"{self.prefix}{i}" for i in range(len(self.record.shadows))]

    def undo_choose_targets(self) -> None:
        for vol in self.array.volumes_by_name(self._target_names()):
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
                self.array.add_to_group(self.record.group_id, shadow.fcmap_id)
        while True:
            todo = [(i, s) for i, s in enumerate(self.record.shadows) if s.fcmap_id is None]
            if not todo:
                break
            pairs = [(s.source_id, s.target_id, f"{self.prefix}{i}") for i, s in todo]
            try:
                maps = self.array.attach(pairs, copy_rate=self._copy_rate(),
                                         incremental=self._incremental(), group_id=self.record.group_id)
            except OutcomeUnknown:
                # the reply was lost; the mappings carry this lifecycle's names, so the array
                # tells whether it made them (all or none: AttachReplicas is atomic)
                maps = self._made_anyway(pairs)
                if maps is None:
                    raise
            except AttachRefused as exc:
                if any(rc != TAKEN for rc in exc.refused.values()) or self.ctx.settings.pool:
                    raise VssError(402 if exc.code != TAKEN else TAKEN, exc.detail) from None
                # Another host attached these targets first: never share one, take the next.
                for idx in exc.refused:
                    shadow = todo[idx][1]
                    self.excluded.add(shadow.target_id)
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
        made = [by_name.get(n) for _, _, n in pairs]
        if all(m is not None and (m.source_id, m.target_id) == (s, t) for m, (s, t, _) in zip(made, pairs)):
            return made
        return None

    def _adopt_existing_maps(self) -> None:
        names = self._map_names()
        by_name = {m.name: m for m in self.array.fcmaps_by_name(names)}
        for name, shadow in zip(names, self.record.shadows):
            m: FcMap | None = by_name.get(name)
            if m is not None and not shadow.reused_fcmap:
                shadow.fcmap_id, shadow.fcmap_name, shadow.target_id = m.id, m.name, m.target_id

    def _group(self):
        return group_if_named(self, self.record.group_id, self.prefix.rstrip("-"))

    def undo_attach(self) -> None:
        if self._group() is not None:
            self.array.delete_group(self.record.group_id, force=True)
        for m in self.array.fcmaps_by_name(self._map_names()):
            self.array.delete_fcmap(m.id, force=True)
            self.objects.append(m.id)
        for shadow in self.record.shadows:
            if shadow.reused_fcmap:
                m = fcmap_if_named(self, shadow.fcmap_id, shadow.fcmap_name)
                if m is not None and m.state in ("preparing", "prepared"):
                    self.array.stop_fcmap(m.id, force=True)
            else:
                shadow.fcmap_id = shadow.fcmap_name = None

    # ------------------------------------------------------------ prepare / commit
    def do_prepare(self) -> None:
        if self.resuming and self._group_state() in ("prepared", "copying"):
            return
        self.array.prepare_group(self.record.group_id)
        self.objects = [self.record.group_id]

    def undo_prepare(self) -> None:
        """Prepared mappings are deleted by undoing attach."""

    def _group_state(self) -> str | None:
        group = self._group()
        return group.state if group else None

    def do_commit(self) -> None:
        if self.resuming and self._group_state() in ("copying", "idle_or_copied"):
            return
        self.array.start_group(self.record.group_id)
        self.objects = [self.record.group_id]

    def undo_commit(self) -> None:
        """A started copy is undone by deleting its mapping (undo attach)."""

    def do_dissolve(self) -> None:
        if self._group() if self.resuming or self.recovering else True:
            self.array.delete_group(self.record.group_id, force=True)
        self.objects = [self.record.group_id]

    def undo_dissolve(self) -> None:
        """The group's job was the common start; nothing to bring back."""

    # ------------------------------------------------------------ hosts
    def do_reserve(self) -> None:
        shadows = own_shadows(self, self.record.shadows)
        res = self.ctx.host(self.ctx.settings.reserved_host, 3006)
        targets = [s.target_id for s in shadows]
        pooled = [s.target_id for s in shadows if not s.target_created]
        if targets:
            self.array.map_volumes(res.id, targets)
        if pooled:
            free = self.ctx.host(self.ctx.settings.free_host, 3005)
            self.array.unmap_volumes(free.id, pooled)
        self.objects = targets

    def undo_reserve(self) -> None:
        shadows = own_shadows(self, self.record.shadows)
        pooled = [s.target_id for s in shadows if not s.target_created]
        if pooled:
            free = self.ctx.host(self.ctx.settings.free_host, 3005)
            self.array.map_volumes(free.id, pooled)
        if shadows:
            res = self.ctx.host(self.ctx.settings.reserved_host, 3006)
            self.array.unmap_volumes(res.id, [s.target_id for s in shadows])

    def do_expose(self) -> None:
        shadows = own_shadows(self, self.record.shadows)
        if shadows:
            expose_shadows(self.ctx, self.record, shadows)
        self.objects = [s.target_id for s in shadows]

    def undo_expose(self) -> None:
        hide_shadows(self.ctx, own_shadows(self, self.record.shadows))

    def do_finish(self) -> None:
        """The record stays: it is the shadow copy's file from now on."""


def expose_shadows(ctx: Context, record: ShadowSet, shadows: list[Shadow],
                   host_name: str | None = None) -> None:
    """Map targets to a host and, when it is this host, locate the disks."""
    host = ctx.host(host_name, 3004) if host_name else ctx.consumer_host()
    targets = [s.target_id for s in shadows]
    for s in shadows:
        if host.id not in s.exposed_to:
            s.exposed_to.append(host.id)
    ctx.array.map_volumes(host.id, targets)
    if host_name is None and ctx.consumer is not None:
        devices = ctx.consumer.after_map([s.target_uid for s in shadows])
        for s in shadows:
            s.device = devices.get(s.target_uid, s.device)


def hide_shadows(ctx: Context, shadows: list[Shadow], only_host: str | None = None) -> None:
    """Remove targets from every host they were shown to (the host side first)."""
    hosts = sorted({h for s in shadows for h in s.exposed_to if only_host in (None, h)})
    if not hosts:
        return
    mine = None
    if ctx.consumer is not None:
        try:
            mine = ctx.consumer_host().id
        except VssError:
            mine = None     # e.g. storageProtocol changed since (manual 5.2): see below
    for host_id in hosts:
        on_host = [s for s in shadows if host_id in s.exposed_to]
        uids = [s.target_uid for s in on_host]
        # A disk located here is let go here first, even when the host it was mapped
        # through is no longer the one the configuration picks (manual 5.2).
        here = ctx.consumer is not None and (host_id == mine or any(s.device for s in on_host))
        if here:
            ctx.consumer.before_unmap(uids)
        ctx.array.unmap_volumes(host_id, [s.target_id for s in on_host])
        if here:
            ctx.consumer.after_unmap(uids)
        for s in on_host:
            s.exposed_to.remove(host_id)
            if here:
                s.device = None
