"""The volume a user's identifier names: its UID (any NAA spelling), array name or id.
Batch files and the CLI's verbs (`add`, `rem`, `testsnapshot`) accept the same words."""
from __future__ import annotations

from collections.abc import Sequence

from core.ids import volume_uid
from core.model import Volume
from core.ports import ArrayPort


def resolve(volumes: Sequence[Volume], ident: str) -> Volume | None:
    """The volume an identifier names among `volumes`, or None."""
    uid = volume_uid(ident)
    for v in volumes:
        if v.name == ident or v.id == ident or (uid and v.uid == uid):
            return v
    return None


def candidates(array: ArrayPort, idents: Sequence[str]) -> list[Volume]:
    """The volumes that identifiers may name, in the array's order: one indexed
    request, whatever the array's size (an identifier is looked up as a name, a UID
    in the array's spelling, or an id)."""
    values = set(idents) | {u for u in map(volume_uid, idents) if u}
    return array.volumes_matching(sorted(values))
