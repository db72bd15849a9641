"""Restoring a source from a shadow copy: reverse localcopy (manual 5.1, VSS resync; F3).

    requested --plan--> planned --reverse_attach--> attached --reverse_prepare--> prepared
              --reverse_start--> started --withdraw--> withdrawn --settle--> settled
              --release--> released --finish--> done

plan             the shadow copy's mapping S>T2 must still hold its image (711 if not);
                 the newer no-copy shadow copies of S (S>T3, S>T4: their mappings have
                 S>T2 among their dependents) will be lost, the older ones (S>T1) kept
reverse_attach   mapping T2>S named vss-<id>-r (716 when refused)
reverse_prepare  prepared for restore (720); the array drops the source's cache, so from
                 the moment the prepare is sent the source's old content is gone and a
                 crash is completed, never rolled back
reverse_start    the source shows T2's image at once (730)
withdraw         S>T2 goes with "stop newer and current", then S>T3, S>T4
settle           wait until T2>S has copied everything, then remove it (740 when its
                 progress stands still for restoreStallSeconds)
release          the targets of the removed shadow copies go back to the free pool
finish           their records go
"""
from __future__ import annotations

from typing import Callable

from core.errors import VssError
from core.model import COPYING, IDLE, STOP_NEWER_AND_CURRENT
from core.poll import Pending
from states.context import Context
from states.create import hide_shadows
from states.delete import Finder, Item, release, withdraw
from states.identity import fcmap_if_named, own_shadows
from states.machine import Lifecycle, Step


class RestoreLifecycle(Lifecycle):
    KIND = "restore"
    STATES = ["requested", "planned", "attached", "prepared", "started", "withdrawn", "settled",
              "released", "done"]
    STEPS = [
        Step("plan", "requested", "planned"),
        Step("reverse_attach", "planned", "attached"),
        Step("reverse_prepare", "attached", "prepared", undoable=False),
        Step("reverse_start", "prepared", "started", undoable=False),
        Step("withdraw", "started", "withdrawn", undoable=False),
        Step("settle", "withdrawn", "settled", undoable=False),
        Step("release", "settled", "released", undoable=False),
        Step("finish", "released", "done", undoable=False),
    ]
    # the source's old content is gone once the prepare may have been sent
    COMPLETE_FROM = "prepared"
    COMPLETE_WHEN_PENDING = ("reverse_prepare",)

    def __init__(self, lifecycle_id: str, items: list[Item], ctx: Context, persist,
                 find: Finder, forget: Callable[[list[Item]], None],
                 wait: Callable[[Callable[[], object], str], None], **kw):
        # items[0] is the shadow copy restored from; plan adds the newer ones
        self.items, self.ctx, self.find, self.forget, self.wait = items, ctx, find, forget, wait
        self.reverse_id: str | None = kw.pop("reverse_id", None)
        super().__init__(lifecycle_id, persist, **kw)

    def snapshot(self) -> dict:
        return {**super().snapshot(), "items": [i.to_json() for i in self.items],
                "reverse_id": self.reverse_id}

    @property
    def shadow(self):
        return self.items[0].shadow

    @property
    def reverse_name(self) -> str:
        return f"vss-{self.lifecycle_id}-r"

    def do_plan(self) -> None:
        a = self.ctx.array
        m = fcmap_if_named(self, self.shadow.fcmap_id, self.shadow.fcmap_name if self.recovering else None)
        if m is None or m.state not in (COPYING, IDLE) or m.restoring:
            raise VssError(711, f"shadow copy {self.shadow.shadow_id} has no intact localcopy mapping")
        del self.items[1:]
        self.items[0].no_copy = m.copy_rate == 0
        for other in a.fcmaps_of_volumes([self.shadow.source_id]):
            if other.source_id != self.shadow.source_id or other.id == m.id:
                continue
            if other.copy_rate == 0 and m.id in a.dependent_fcmaps(other.id):
                owner = self.find(other.id, other.name)
                if owner is not None:
                    self.items.append(Item(owner[0], owner[1], cascaded=True))
        self.objects = [i.shadow.fcmap_id for i in self.items]

    def undo_plan(self) -> None:
        """Nothing changed."""

    def do_reverse_attach(self) -> None:
        a = self.ctx.array
        existing = a.fcmaps_by_name([self.reverse_name]) if self.resuming else []
        if existing:
            self.reverse_id = existing[0].id
            return
        rate = self.ctx.settings.copy_rate or 50     # a restore must finish copying
        try:
            (rev,) = a.attach([(self.shadow.target_id, self.shadow.source_id, self.reverse_name)],
                              copy_rate=rate, incremental=False, group_id=None)
        except VssError:
            raise
        except Exception as exc:  # noqa: BLE001 - typed array errors become the manual's 716
            raise VssError(716, f"creating the reverse mapping failed: {exc}") from None
        self.reverse_id = rev.id
        self.objects = [rev.id]

    def undo_reverse_attach(self) -> None:
        for m in self.ctx.array.fcmaps_by_name([self.reverse_name]):
            self.ctx.array.delete_fcmap(m.id, force=True)
        self.reverse_id = None

    def _reverse(self):
        return fcmap_if_named(self, self.reverse_id, self.reverse_name)

    def do_reverse_prepare(self) -> None:
        m = self._reverse()
        if m is None and self.recovering:
            raise VssError(720, f"the reverse mapping {self.reverse_name} is gone")
        if self.resuming and m is not None and m.state == "prepared":
            return
        try:
            self.ctx.array.prepare_fcmap(self.reverse_id, restore=True)
        except Exception as exc:  # noqa: BLE001
            raise VssError(720, f"preparing the restore failed: {exc}") from None

    def undo_reverse_prepare(self) -> None:
        """Deleting the reverse mapping (undo reverse_attach) unprepares it."""

    def do_reverse_start(self) -> None:
        m = self._reverse() if self.resuming or self.recovering else None
        if m is not None and m.state in (COPYING, IDLE):
            return
        if m is None and self.recovering:
            raise VssError(730, f"the reverse mapping {self.reverse_name} is gone")
        try:
            self.ctx.array.start_fcmap(self.reverse_id, restore=True)
        except Exception as exc:  # noqa: BLE001
            raise VssError(730, f"starting the restore failed: {exc}") from None
        self.objects = [self.reverse_id]

    def do_withdraw(self) -> None:
        hide_shadows(self.ctx, own_shadows(self, [i.shadow for i in self.items]))
        self.objects = withdraw(self, self.items, STOP_NEWER_AND_CURRENT)

    def do_settle(self) -> None:
        a = self.ctx.array

        def copied() -> bool | Pending:
            m = self._reverse()
            if m is None or m.state == IDLE or m.progress >= 100:
                return True
            return Pending(m.progress)
        # only a copy whose progress stands still fails (740), never a long one
        self.wait(copied, "the restore copy")
        if self._reverse() is not None:
            a.delete_fcmap(self.reverse_id, force=True)
        self.objects = [self.reverse_id]

    def do_release(self) -> None:
        release(self, [i.shadow for i in self.items])

    def do_finish(self) -> None:
        self.forget(self.items)
