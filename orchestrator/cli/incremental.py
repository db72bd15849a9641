"""`inspurvcfg rem --drop-incremental VOLUME`: remove the incremental mapping that
incrementalLC kept after its shadow copy was deleted (manual 5.1), e.g. once
`set incrementalLC No` means it will never be reused.

Only a mapping this product made (named `vss-<lifecycle id>-<n>`) that no shadow-copy
record of this host still refers to is removed; anything else is refused and nothing
changes. Just before the delete the mapping is read again: one that another process
changed meanwhile (other name, source or target) is left alone.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from core.model import FcMap, Volume
from orchestrator.config import Config
from core.errors import VssError
from core.ports import ArrayPort

_OURS = re.compile(r"vss-[0-9a-f]{8}-[0-9]+")


def _in_records(config: Config) -> dict[str, str]:
    """Mapping id and name -> the shadow-copy set of this host that uses it."""
    from orchestrator.engine import Orchestrator
    from orchestrator.recovery import RecoveryStore
    orch = Orchestrator(config, None, RecoveryStore(config.state_dir))  # type: ignore[arg-type]
    return {key: record.set_id for record in orch.sets() for s in record.shadows
            for key in (s.fcmap_id, s.fcmap_name) if key}


def _kept(array: ArrayPort, volume: Volume, used: dict[str, str]) -> list[FcMap]:
    maps = [m for m in array.fcmaps_of_volume(volume.id) if m.incremental]
    if not maps:
        raise VssError(711, f"{volume.name} has no incremental localcopy mapping")
    for m in maps:
        if not _OURS.fullmatch(m.name):
            raise VssError(711, f"incremental mapping {m.name} of {volume.name} was not made by "
                                "this product (its name is not vss-<lifecycle id>-<n>); "
                                "remove it on the array if it is no longer needed")
        owner = used.get(m.id) or used.get(m.name)
        if owner:
            raise VssError(32816, f"incremental mapping {m.name} of {volume.name} belongs to "
                                  f"shadow-copy set {owner}; delete that shadow copy first")
    return maps


def drop_incremental(array: ArrayPort, config: Config, volumes: Sequence[Volume]) -> list[str]:
    """Delete the kept incremental mappings of `volumes` (sources or targets): all of
    them, or none when one is refused. Returns a line per mapping removed."""
    used = _in_records(config)
    todo = {m.id: m for v in volumes for m in _kept(array, v, used)}
    names = {v.id: v.name for v in array.volumes_named("")}
    done = []
    for m in todo.values():
        now = array.fcmap(m.id)
        if now is None or (now.name, now.source_id, now.target_id) != (m.name, m.source_id, m.target_id):
            raise VssError(711, f"incremental mapping {m.name} changed or went away meanwhile; "
                                "nothing more was removed")
        array.delete_fcmap(m.id, force=True)
        source, target = names.get(m.source_id, m.source_id), names.get(m.target_id, m.target_id)
        done.append(f"{source}: removed incremental mapping {m.name} (target {target})")
    return done
