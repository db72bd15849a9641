"""Sparse chunk storage, chunk masks and grain arithmetic."""

import pytest

from simulator import returncodes as rc
from simulator.cascade import grain_count, grain_starts, grains, lowest_grains
from simulator.returncodes import ArrayError
from simulator.voldata import CHUNK, MaskTest, VolumeData, chunk_count, range_mask, span

from tests.support.data import pattern

GIB = 1 << 30


def test_masks():
    assert range_mask(2, 5) == 0b11100
    assert range_mask(3, 3) == 0
    assert span(0b101000) == (3, 6)
    t = MaskTest(0b1001)
    assert 0 in t and 3 in t and 1 not in t and 100 not in t
    assert chunk_count(1) == 1 and chunk_count(CHUNK) == 1 and chunk_count(CHUNK + 512) == 2


def test_grain_arithmetic_with_a_partial_last_grain():
    # 10 chunks in 256 KiB grains: grains 0-3, 4-7 and a short 8-9.
    assert grain_starts(10, 4) == 0b0100010001
    assert grains(1 << 5, 4, 10) == 0b0011110000
    assert grains(1 << 9, 4, 10) == 0b1100000000
    assert grain_count(range_mask(0, 10), 4, 10) == 3
    assert lowest_grains(range_mask(4, 10), 1, 4, 10) == range_mask(4, 8)
    assert lowest_grains(range_mask(4, 10), 5, 4, 10) == range_mask(4, 10)
    assert grains(0b101, 1, 10) == 0b101


def test_chunk_store_drops_zero_chunks(array):
    data = VolumeData(array.conn)
    data.put(7, {0: b"a" * CHUNK, 3: bytes(CHUNK)})
    assert data.stored_bytes(7) == CHUNK
    assert data.get(7, 3) == bytes(CHUNK)
    assert dict(data.chunks(7, range_mask(0, 4))) == {0: b"a" * CHUNK}
    data.put(7, {0: bytes(CHUNK)})
    assert data.stored_bytes(7) == 0


def test_reads_and_writes_span_chunks(array):
    vol = array.volume(3 * CHUNK)
    blob = pattern(9, CHUNK + 1000)
    array.fc.write(vol, CHUNK - 500, blob)
    got = array.fc.read(vol, 0, 3 * CHUNK)
    assert got[:CHUNK - 500] == bytes(CHUNK - 500)
    assert got[CHUNK - 500:CHUNK - 500 + len(blob)] == blob
    assert got[CHUNK - 500 + len(blob):] == bytes(3 * CHUNK - (CHUNK - 500) - len(blob))
    assert array.fc.read(vol, 10, 0) == b""


def test_volume_size_need_not_be_a_chunk_multiple(array):
    size = 2 * CHUNK + 512
    vol = array.volume(size)
    array.fc.write(vol, size - 512, b"z" * 512)
    assert array.fc.read(vol, size - 512, 512) == b"z" * 512
    with pytest.raises(ArrayError) as e:
        array.fc.write(vol, size - 511, b"z" * 512)
    assert e.value.rc == rc.INVALID_PARAMETER


def test_io_refusals(array):
    vol = array.volume(2 * CHUNK)
    for call in (lambda: array.fc.read(vol, -1, 10), lambda: array.fc.read(vol, 0, 2 * CHUNK + 1),
                 lambda: array.fc.read(999, 0, 1), lambda: array.fc.write(999, 0, b"x")):
        with pytest.raises(ArrayError) as e:
            call()
        assert e.value.rc == rc.INVALID_PARAMETER
    array.set_online(vol, False)
    for call in (lambda: array.fc.read(vol, 0, 1), lambda: array.fc.write(vol, 0, b"x")):
        with pytest.raises(ArrayError) as e:
            call()
        assert e.value.rc == rc.VOLUME_OFFLINE
    array.set_online(vol, True)
    assert array.fc.read(vol, 0, 1) == b"\0"


def test_a_100_gib_volume_costs_almost_nothing(array):
    size = 100 * GIB
    src, tgt = array.volume(size), array.volume(size)
    array.fc.write(src, size - CHUNK, b"e" * CHUNK)
    array.fc.write(src, 0, b"b" * 100)
    m = array.snapshot(src, tgt, copy_rate=0, grain_size=64)
    array.fc.write(src, 0, b"B" * 100)
    assert array.fc.read(tgt, 0, 100) == b"b" * 100
    assert array.fc.read(tgt, size - CHUNK, CHUNK) == b"e" * CHUNK
    array.fc.set_copy_rate(m, 100)
    array.clock.tick(2000)                 # 100 GiB at 64 MiB/s: 1600 s
    assert array.fc.mapping(m).state == "idle_or_copied"
    assert array.fc.read(tgt, size - CHUNK, CHUNK) == b"e" * CHUNK
    stored = VolumeData(array.conn)        # only what was written is stored: 2 chunks each
    assert stored.stored_bytes(src) == 2 * CHUNK and stored.stored_bytes(tgt) == 2 * CHUNK
