"""Test data: recognisable bytes, and volumes filled with them."""
from __future__ import annotations

from tests.support.arrayproc import ArrayProcess

MiB = 1 << 20


def fill(array: ArrayProcess, uid: str, tag: bytes, size: int = 4 * MiB) -> bytes:
    """Write `tag` repeated over the volume's first `size` bytes; returns what was written."""
    data = (tag * (size // len(tag) + 1))[:size]
    array.write(uid, 0, data)
    return data


def pattern(tag: int, length: int) -> bytes:
    """Recognisable bytes: a tag and a position counter, so stale or shifted data never
    compares equal by accident."""
    block = bytes((tag + i) & 0xFF for i in range(256))
    return (block * -(-length // 256))[:length]
