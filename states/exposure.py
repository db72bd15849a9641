"""Showing targets to a host and taking them away again (import, expose, unexpose; F3).

    expose:   requested --show--> shown --finish--> done
    unexpose: requested --hide--> hidden --finish--> done

show   map the targets to the host (one request) and, when the host is this one, let
       the host or hypervisor adapter locate the disks (pRDM, pass-through, rescan).
       Import is a show of a transportable set's reserved targets.
hide   the host side lets go first, then the array unmaps (one request).
A show is rolled back by hiding; a hide only goes forward.
"""
from __future__ import annotations

from core.records import Shadow, ShadowSet
from states.context import Context
from states.create import expose_shadows, hide_shadows
from states.identity import own_shadows
from states.machine import Lifecycle, Step


class _OnShadows(Lifecycle):
    IN_SET_FILE = True

    def __init__(self, record: ShadowSet, shadow_ids: list[str], host_name: str | None,
                 ctx: Context, persist, **kw):
        self.record, self.ctx, self.host_name = record, ctx, host_name
        self.shadow_ids = shadow_ids
        self.host_id: str | None = kw.pop("host_id", None)
        super().__init__(record.lifecycle_id, persist, **kw)

    @property
    def shadows(self) -> list[Shadow]:
        return own_shadows(self, [s for s in self.record.shadows if s.shadow_id in self.shadow_ids])

    def snapshot(self) -> dict:
        return {**super().snapshot(), "shadow_ids": self.shadow_ids, "host_name": self.host_name,
                "host_id": self.host_id}

    def _host_id(self) -> str:
        if self.host_id is None:
            self.host_id = (self.ctx.host(self.host_name, 3004) if self.host_name
                            else self.ctx.consumer_host()).id
        return self.host_id

    def do_finish(self) -> None:
        """The set's record keeps where its targets are shown."""


class ExposeLifecycle(_OnShadows):
    KIND = "expose"
    STATES = ["requested", "shown", "done"]
    STEPS = [Step("show", "requested", "shown"), Step("finish", "shown", "done", undoable=False)]
    COMPLETE_FROM = "shown"

    def do_show(self) -> None:
        self._host_id()
        self._persist(self)
        shadows = self.shadows
        if shadows:
            expose_shadows(self.ctx, self.record, shadows, self.host_name)
        if self.record.options.transportable and self.host_id not in self.record.imported_by:
            self.record.imported_by.append(self.host_id)
        self.objects = [s.target_id for s in shadows]

    def undo_show(self) -> None:
        host_id = self._host_id()
        shadows = self.shadows
        for s in shadows:
            if host_id not in s.exposed_to:
                s.exposed_to.append(host_id)     # the map may have happened before a crash
        hide_shadows(self.ctx, shadows, only_host=host_id)
        if host_id in self.record.imported_by:
            self.record.imported_by.remove(host_id)


class UnexposeLifecycle(_OnShadows):
    KIND = "unexpose"
    STATES = ["requested", "hidden", "done"]
    STEPS = [Step("hide", "requested", "hidden", undoable=False),
             Step("finish", "hidden", "done", undoable=False)]

    def do_hide(self) -> None:
        only = self._host_id() if self.host_name else None
        shadows = self.shadows
        hide_shadows(self.ctx, shadows, only_host=only)
        if only is None:
            self.record.imported_by.clear()
        elif only in self.record.imported_by:
            self.record.imported_by.remove(only)
        self.objects = [s.target_id for s in shadows]
