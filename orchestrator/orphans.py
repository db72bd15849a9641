"""Reconciliation against the array (`vssorch cleanup --orphans / --remove-orphans`).

An orphan is an array object named after one of this folder's lifecycles
(`vss-<id>-<n>` mappings, `vss-<id>` groups, `vss-<id>-t<n>` dynamic targets, and
the targets of such mappings, on the reserved host or shown to a host) that no readable
file accounts for: its file was deleted by hand or moved aside as unreadable. Only ids
in the folder's `lifecycle-ids` count as this host's: objects named after other ids
(another host's shadow copies on a shared array, or made before the ids were kept) are
listed as foreign and never touched. Objects a readable file names are never orphans,
whatever state their lifecycle is in, so a live owner's objects are safe.

Not orphans either: an incremental mapping kept on purpose by a delete (its target is
back in the free pool), which the next shadow copy of its source reuses.

Removing runs under the cleanup lock and reads every object back by name first; a
mapping another shadow copy's mapping depends on (a no-copy cascade) is kept and said.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from orchestrator.cleanup import LOCK

if TYPE_CHECKING:
    from orchestrator.engine import Orchestrator

_NAME = re.compile(r"^vss-([0-9a-f]{8})(?:-[0-9a-z]+)?$")


@dataclass
class Orphan:
    kind: str                 # mapping | group | volume | target
    id: str
    name: str
    lifecycle: str
    hosts: list[str] = field(default_factory=list)
    action: str = "found"     # found | removed | kept | foreign
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _lifecycle(name: str) -> str | None:
    m = _NAME.match(name)
    return m.group(1) if m else None


class Reconciler:
    def __init__(self, orch: "Orchestrator"):
        self.orch, self.array, self.store = orch, orch.array, orch.store

    def _accounted(self) -> tuple[set[str], set[str], set[str]]:
        """Lifecycle ids, mapping names and target ids that readable files name."""
        ids: set[str] = set()
        names: set[str] = set()
        targets: set[str] = set()
        for _key, data in self.store.items():
            for part in (data.get("set") or {}, data.get("op") or {}, data):
                if part.get("lifecycle_id"):
                    ids.add(part["lifecycle_id"])
            shadows = [s for s in (data.get("set") or {}).get("shadows", [])]
            shadows += [i.get("shadow", {}) for i in data.get("items", [])]
            names.update(s.get("fcmap_name") for s in shadows if s.get("fcmap_name"))
            targets.update(s.get("target_id") for s in shadows if s.get("target_id"))
        return ids, names, targets

    def find(self) -> list[Orphan]:
        """Read the array first, the files after: an object made after its file was
        written is then always accounted for."""
        a, s = self.array, self.orch.ctx.settings
        maps = a.fcmaps_named("vss-")
        groups = a.groups_named("vss-")
        vols = a.volumes_named("vss-")
        free = {v.id for v in a.host_volumes(self.orch.ctx.host(s.free_host, 3005).id)}
        res_id = self.orch.ctx.host(s.reserved_host, 3006).id
        known = self.store.known_ids()
        ids, names, targets = self._accounted()
        out: list[Orphan] = []

        def consider(kind, obj_id, name) -> Orphan | None:
            lc = _lifecycle(name)
            if lc is None or lc in ids or name in names:
                return None
            o = Orphan(kind, obj_id, name, lc)
            if lc not in known:
                o.action, o.note = "foreign", "not a lifecycle of this state folder: left alone"
            out.append(o)
            return o

        for g in groups:
            consider("group", g.id, g.name)
        for m in maps:
            if m.incremental and m.target_id in free:
                continue                       # kept for the next incremental shadow copy
            o = consider("mapping", m.id, m.name)
            named = any(v.id == m.target_id for v in vols)     # a dynamic target: listed by its name
            if o is not None and m.target_id not in targets and o.action != "foreign" and not named:
                out.append(Orphan("target", m.target_id, "", o.lifecycle))
        for v in vols:
            if v.id not in targets:
                consider("volume", v.id, v.name)
        hosts = {h.id: h.name for h in a.hosts()}
        for o in out:
            if o.kind in ("target", "volume"):
                o.hosts = sorted(hosts.get(h.id, h.id) for h in a.volume_hosts(o.id))
                o.note = o.note or ("on the reserved host" if hosts.get(res_id) in o.hosts else "")
        return out

    def remove(self) -> list[Orphan]:
        self.store.claim(LOCK, wait=True)
        try:
            found = self.find()
            mine = [o for o in found if o.action != "foreign"]
            self._groups([o for o in mine if o.kind == "group"])
            self._maps([o for o in mine if o.kind == "mapping"], [o for o in mine if o.kind == "target"])
            self._volumes([o for o in mine if o.kind == "volume"])
            return found
        finally:
            self.store.let_go(LOCK)

    def _groups(self, orphans: list[Orphan]) -> None:
        by_name = {g.name: g for g in self.array.groups_by_name([o.name for o in orphans])} if orphans else {}
        for o in orphans:
            g = by_name.get(o.name)
            if g is None or g.id != o.id:
                o.action, o.note = "kept", "gone or renamed since it was listed"
                continue
            self.array.delete_group(g.id, force=True)
            o.action = "removed"

    def _maps(self, orphans: list[Orphan], targets: list[Orphan]) -> None:
        """Newest dependents first: a mapping goes once nothing reads through its target."""
        a = self.array
        todo = {o.name: o for o in orphans}
        free = self.orch.ctx.host(self.orch.ctx.settings.free_host, 3005)
        while todo:
            by_name = {m.name: m for m in a.fcmaps_by_name(list(todo))}
            progress = False
            for name, o in list(todo.items()):
                m = by_name.get(name)
                if m is None or m.id != o.id:
                    o.action, o.note = "kept", "gone or renamed since it was listed"
                elif m.dependent_count:
                    continue
                else:
                    target = next((t for t in targets if t.id == m.target_id and t.lifecycle == o.lifecycle), None)
                    a.delete_fcmap(m.id, force=True)
                    o.action = "removed"
                    if target is not None:
                        self._to_free_pool(target, free.id)
                del todo[name]
                progress = True
            if not progress:
                for o in todo.values():
                    o.action, o.note = "kept", "other shadow copies read through its target"
                return

    def _to_free_pool(self, target: Orphan, free_id: str) -> None:
        """A pool target goes back to the free host, off every other host."""
        a = self.array
        if a.fcmaps_of_volume(target.id):
            target.action, target.note = "kept", "still in another localcopy mapping"
            return
        a.map_volumes(free_id, [target.id])
        for h in a.volume_hosts(target.id):
            if h.id != free_id:
                a.unmap_volumes(h.id, [target.id])
        target.action, target.note = "removed", "back in the free pool"

    def _volumes(self, orphans: list[Orphan]) -> None:
        a = self.array
        by_name = {v.name: v for v in a.volumes_by_name([o.name for o in orphans])} if orphans else {}
        for o in orphans:
            v = by_name.get(o.name)
            if v is None or v.id != o.id or a.fcmaps_of_volume(v.id):
                o.action, o.note = "kept", "gone, renamed or still in a localcopy mapping"
                continue
            for h in a.volume_hosts(v.id):
                a.unmap_volumes(h.id, [v.id])
            a.delete_volume(v.id)
            o.action = "removed"
