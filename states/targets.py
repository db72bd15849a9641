"""Where a new shadow-copy set's targets come from (the create lifecycle's choose_targets;
manual 3.4, 4): equal-sized volumes of the free host's pool, or, with storagePool set,
new volumes made there for the set (dynamic targets, named vss-<id>-t<n>).

A kept incremental mapping brings its own target (`reused_fcmap`): it is not chosen
again, only checked to be back in the free pool.
"""
from __future__ import annotations

from core.errors import VssError
from core.model import Host, Volume
from core.records import Shadow
from states.context import Context


def target_names(prefix: str, count: int) -> list[str]:
    """The names dynamic targets get: undo finds them by these names after a crash."""
    return [f"{prefix}t{i}" for i in range(count)]


def create_targets(ctx: Context, shadows: list[Shadow], prefix: str, resuming: bool) -> None:
    """A new volume in storagePool for each shadow without a target (a resumed step
    adopts the ones it made before the crash, found by name)."""
    s = ctx.settings
    names = target_names(prefix, len(shadows))
    existing = {v.name: v for v in ctx.array.volumes_by_name(names)} if resuming else {}
    for name, shadow in zip(names, shadows):
        if shadow.target_id is not None and not shadow.target_created:
            continue     # a reused incremental target
        vol = existing.get(name) or ctx.array.create_volume(
            name, shadow.size, s.pool, s.iogroup or None, thin=s.thin,
            compressed=s.compressed, deduped=s.deduped)
        shadow.target_id, shadow.target_uid, shadow.target_created = vol.id, vol.uid, True


def pick_free_targets(ctx: Context, shadows: list[Shadow], copy_rate: int, excluded: set[str]) -> None:
    """Targets from the free pool (never one of `excluded`: another host took it). The
    process keeps the pool as it last listed it (ctx.free_pool) and afterwards only checks
    that the volumes it picks are still in the pool (one request whatever the pool's
    size); the pool is listed again when one of them left it or nothing kept fits. What
    else may have changed since the listing is the array's to refuse: another create
    attaching a target first (32816, the next is taken), a target gone offline or resized
    (the create fails; the failure forgets the kept pool, so the next create lists it
    again)."""
    free = ctx.host(ctx.settings.free_host, 3005)
    reused = [s.target_id for s in shadows if s.reused_fcmap and s.target_id is not None]
    pool, listed = ctx.free_pool, False
    while True:
        if pool is None:
            pool, listed = {v.id: v for v in _list_free_pool(ctx, free)}, True
            ctx.free_pool = pool
        picks = _choose(shadows, list(pool.values()), copy_rate, excluded)
        if listed:
            in_pool = set(pool)
            break
        chosen = [v.id for v in picks.values() if v is not None]
        if len(chosen) < len(picks):
            pool = None         # nothing kept fits: list the pool again
            continue
        in_pool = _still_free(ctx, free, [*chosen, *reused])
        if all(vid in in_pool for vid in chosen):
            break
        pool = None             # the pool changed since it was listed: list it again
    for shadow in shadows:
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
            shadows[i].target_id, shadows[i].target_uid = vol.id, vol.uid
            pool.pop(vol.id, None)      # it leaves the pool (another create may have taken it too)
    # a kept target (incremental) is known by id only, and the kept pool lacks it
    # once a create took it
    unknown = [s.target_id for s in shadows
               if s.target_uid is None and s.target_id is not None and s.target_id not in pool]
    known = {**pool, **ctx.array.volumes_by_id(unknown)}
    for shadow in shadows:
        if shadow.target_uid is None and shadow.target_id in known:
            shadow.target_uid = known[shadow.target_id].uid


def _list_free_pool(ctx: Context, free: Host) -> list[Volume]:
    try:
        return ctx.array.host_volumes(free.id)
    except VssError:
        raise
    except Exception as exc:     # noqa: BLE001 - the manual's 102 says "while listing VSS_FREE"
        code = getattr(exc, "code", 102)
        raise VssError(code if code != 911 else 102, f"listing the free pool failed: {exc}") from None


def _choose(shadows: list[Shadow], pool: list[Volume], copy_rate: int,
            excluded: set[str]) -> dict[int, Volume | None]:
    """A fitting volume for each shadow (by index) without a target, each volume once."""
    taken = {s.target_id for s in shadows if s.target_id} | excluded
    sources = {s.source_id for s in shadows}
    picks: dict[int, Volume | None] = {}
    for i, shadow in enumerate(shadows):
        if shadow.target_id is None:
            pick = next((v for v in pool if _fits(v, shadow, copy_rate) and v.id not in taken
                         and v.id not in sources), None)
            picks[i] = pick
            if pick is not None:
                taken.add(pick.id)
    return picks


def _still_free(ctx: Context, free: Host, volume_ids: list[str]) -> set[str]:
    """Which of these volumes are still in the free pool."""
    hosts = ctx.array.volume_host_ids(volume_ids)
    return {vid for vid in volume_ids if free.id in hosts.get(vid, [])}


def _fits(vol: Volume, shadow: Shadow, copy_rate: int) -> bool:
    return vol.size == shadow.size and vol.online and (not vol.thin or copy_rate == 0)
