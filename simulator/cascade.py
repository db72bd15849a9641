"""Cascades: how the copying FlashCopy mappings share data, as SVC arranges them.

Every copying mapping puts its target into a chain of volumes that starts at a head
(a volume that is no copying mapping's target):

    S > T4 > T3 > T2 > T1        (newest target next to S, T1 the oldest)

Invariants (the whole data path rests on them):
  * a target's content is, per chunk, its own stored chunk if its `held` bitmap has
    the chunk's grain, else its upstream neighbour's content (recursively); a head's
    content is its own chunks;
  * a target stores no chunk outside `held` (so "held grains, zeros elsewhere" is
    exactly what is left when it leaves the chain without a complete image);
  * nothing ever changes a target's content but writes to that target.
Hence a write first copies the grain into the downstream (older) neighbour if that
neighbour lacks it, and a target that leaves the chain first "cleans": it gives its
downstream neighbour every grain that neighbour lacks and that it holds itself. A
target holding every grain may instead split the chain (SVC's stop -split): it heads
what was below it and nothing is copied.

A started mapping's target is inserted right after its source, whatever the source is
(a head, another target or a volume in no chain): nobody downstream can tell, since
the new target holds nothing yet. Whenever a head's content is replaced wholesale
(it becomes a target, e.g. restored; a prepared target is invalidated; it is deleted)
while targets still read through it, its chunks first move to a hidden volume with a
negative id that takes its place at the head, so they keep reading the old content;
the hidden volume is dropped as soon as the last volume below it leaves.

`held` bitmaps are kept per chunk (bit i = 64 KiB chunk i) but always cover whole
grains of their mapping (1 or 4 chunks), so grain sizes can differ along a chain.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Protocol

from .voldata import CHUNK, VolumeData, chunk_count, range_mask


class Link(Protocol):
    """What the cascade needs of a mapping (the engine's records provide it)."""

    target_id: int
    upstream: int | None    # the volume it reads missing grains from; None: not in a chain
    held: int               # chunk bitmask, whole grains
    nchunks: int
    cpg: int                # chunks per grain


@lru_cache(maxsize=64)
def grain_starts(nchunks: int, cpg: int) -> int:
    """Mask of the first chunk of every grain."""
    block, width = 1, cpg     # a bit every cpg chunks, over `width` chunks; doubled
    while width < nchunks:
        block |= block << width
        width *= 2
    return block & range_mask(0, nchunks)


@lru_cache(maxsize=64)
def full_mask(nchunks: int) -> int:
    return range_mask(0, nchunks)


def grains(mask: int, cpg: int, nchunks: int) -> int:
    """Widen a chunk mask to the whole grains it touches."""
    if cpg == 1 or not mask:
        return mask
    hit = 0
    for i in range(cpg):
        hit |= mask >> i
    hit &= grain_starts(nchunks, cpg)
    out = 0
    for i in range(cpg):
        out |= hit << i
    return out & full_mask(nchunks)


def grain_count(mask: int, cpg: int, nchunks: int) -> int:
    """Grains in a whole-grain mask."""
    return (mask & grain_starts(nchunks, cpg)).bit_count()


def total_grains(nchunks: int, cpg: int) -> int:
    return -(-nchunks // cpg)


def lowest_grains(mask: int, k: int, cpg: int, nchunks: int) -> int:
    """The k lowest grains of a whole-grain mask (background copy goes in LBA order)."""
    starts = mask & grain_starts(nchunks, cpg)
    if starts.bit_count() <= k:
        return mask
    lo, hi = 0, starts.bit_length()
    while lo < hi:       # smallest bit position with k grain starts below it
        mid = (lo + hi) // 2
        if (starts & ((1 << mid) - 1)).bit_count() >= k:
            hi = mid
        else:
            lo = mid + 1
    end = -(-lo // cpg) * cpg
    return mask & ((1 << end) - 1)


class Cascade:
    """The chains formed by the given links; keeps their `upstream`/`held` up to date."""

    def __init__(self, data: VolumeData, links: Iterable[Link],
                 new_hidden: Callable[[], int], touched: Callable[[Link], None]):
        self._data = data
        self._new_hidden = new_hidden
        self._touched = touched
        self._at: dict[int, Link] = {}       # target volume -> its link
        self._below: dict[int, Link] = {}    # volume -> link of its downstream neighbour
        for link in links:
            if link.upstream is not None:
                self._at[link.target_id] = link
                self._below[link.upstream] = link

    # ------------------------------------------------------------ structure
    def link_of(self, vol: int) -> Link | None:
        return self._at.get(vol)

    def downstream(self, vol: int) -> Link | None:
        return self._below.get(vol)

    def older(self, link: Link) -> list[Link]:
        """Links below `link`, nearest first: their targets read through its target."""
        out, nxt = [], self._below.get(link.target_id)
        while nxt is not None:
            out.append(nxt)
            nxt = self._below.get(nxt.target_id)
        return out

    def newer(self, link: Link) -> list[Link]:
        """Targets above `link` (not the head), nearest first."""
        out, up = [], self._at.get(link.upstream)
        while up is not None:
            out.append(up)
            up = self._at.get(up.upstream)
        return out

    # ------------------------------------------------------------ data path
    def view(self, vol: int, mask: int) -> dict[int, bytes]:
        """Non-zero chunks of vol's current content within mask."""
        out: dict[int, bytes] = {}
        need = mask
        while need:
            link = self._at.get(vol)
            take = need if link is None else need & link.held
            if take:
                out.update(self._data.chunks(vol, take))
                need &= ~take
            if link is None:
                break
            vol = link.upstream
        return out

    def read(self, vol: int, offset: int, length: int) -> bytes:
        if length == 0:
            return b""
        lo, hi = offset // CHUNK, chunk_count(offset + length)
        out = bytearray(length)           # zeros; only stored chunks are copied in
        for c, data in self.view(vol, range_mask(lo, hi)).items():
            c0 = c * CHUNK
            s, e = max(offset, c0), min(offset + length, c0 + CHUNK)
            out[s - offset:e - offset] = memoryview(data)[s - c0:e - c0]
        return bytes(out)

    def write(self, vol: int, offset: int, data: bytes) -> int:
        """Write with copy-on-write; returns the mask of chunks written."""
        if not data:
            return 0
        end = offset + len(data)
        lo, hi = offset // CHUNK, chunk_count(end)
        touched = range_mask(lo, hi)
        below = self._below.get(vol)
        if below is not None:    # the older neighbour must keep what it sees now
            self.fill(below, grains(touched, below.cpg, below.nchunks) & ~below.held)
        own = self._at.get(vol)
        if own is not None:      # a partial write needs the rest of its grain first
            self.fill(own, grains(touched, own.cpg, own.nchunks) & ~own.held)
        src = memoryview(data)
        new: dict[int, bytes] = {}
        for c in range(lo, hi):
            c0 = c * CHUNK
            s, e = max(offset, c0) - c0, min(end, c0 + CHUNK) - c0
            piece = src[c0 + s - offset:c0 + e - offset]
            if s == 0 and e == CHUNK:
                new[c] = bytes(piece)
            else:
                old = self._data.get(vol, c)
                new[c] = b"".join((old[:s], piece, old[e:]))
        self._data.put(vol, new)
        return touched

    def fill(self, link: Link, mask: int) -> None:
        """Give link's target its current content of `mask` (chunks it does not hold)."""
        if not mask:
            return
        self._data.put(link.target_id, self.view(link.upstream, mask))
        link.held |= mask
        self._touched(link)

    # ------------------------------------------------------------ membership
    def insert(self, link: Link, source: int) -> None:
        """Start: from now on link's target shows source's current content.

        Chunks of the target inside link.held are kept (an incremental restart has
        checked they equal the source); the rest of the target is forgotten.
        """
        tgt = link.target_id
        self.reset(tgt, link.held)
        old = self._below.get(source)
        link.upstream = source
        self._at[tgt] = link
        self._below[source] = link
        if old is not None:
            old.upstream = tgt
            self._below[tgt] = old
            self._touched(old)
        self._touched(link)
        self._touch_at(source)     # its target now has a downstream neighbour

    def remove(self, link: Link) -> int:
        """Leave the chain after cleaning; returns the number of chunks cleaned."""
        up, tgt = link.upstream, link.target_id
        below = self._below.pop(tgt, None)
        cleaned = 0
        if below is not None:
            need = grains(link.held, below.cpg, below.nchunks) & ~below.held
            self.fill(below, need)
            cleaned = need.bit_count()
            below.upstream = up
            self._below[up] = below
            self._touched(below)
        else:
            del self._below[up]
            if up < 0:                       # a hidden head nobody reads any more
                self._data.delete(up)
            self._touch_at(up)               # its target no longer has one below
        del self._at[tgt]
        link.upstream = None
        self._touched(link)
        return cleaned

    def split(self, link: Link) -> None:
        """Leave the chain without cleaning: link holds every grain, so its target heads
        what was below it (SVC's stop -split)."""
        up, tgt = link.upstream, link.target_id
        del self._at[tgt]
        del self._below[up]
        if up < 0:
            self._data.delete(up)
        self._touch_at(up)
        link.upstream = None
        self._touched(link)

    def _touch_at(self, vol: int) -> None:
        """Whether a target has a link below it decides when its mapping completes."""
        link = self._at.get(vol)
        if link is not None:
            self._touched(link)

    def reset(self, vol: int, keep: int) -> None:
        """Forget vol's content outside `keep` (a start, an invalidated target, a deleted
        volume). Volumes reading through it keep the old content: it moves to a hidden
        head."""
        if vol in self._below:
            hidden = self._hide_head(vol)
            self._data.put(vol, dict(self._data.chunks(hidden, keep)))
        else:
            self._data.keep_only(vol, keep)

    def _hide_head(self, vol: int) -> int:
        hidden = self._new_hidden()
        self._data.move(vol, hidden)
        below = self._below.pop(vol)
        below.upstream = hidden
        self._below[hidden] = below
        self._touched(below)
        return hidden
