"""A request costs the same however many mappings are copying (issue 17): counted as
the mapping records the engine settles, schedules and writes, never timed."""
from simulator.voldata import CHUNK

from tests.support.clock import FakeClock
from tests.support.data import pattern
from tests.support.fcengine import Array, make_db

SIZE = 256 * CHUNK      # 16 MiB: at copy rate 1 (128 KiB/s) two minutes of copying
BUSY = 300


def busy_array(copying: int) -> tuple[Array, int, int]:
    """`copying` mappings copying in the background, plus one watched volume with its
    own copying mapping; returns (array, watched volume, its mapping)."""
    array = Array(make_db(), FakeClock())
    watched = array.volume(SIZE)
    array.fc.write(watched, 0, pattern(1, 4 * CHUNK))
    maps = [array.fc.create_mapping(src, array.volume(SIZE), copy_rate=1)
            for src in [watched] + [array.volume(SIZE) for _ in range(copying)]]
    for m in maps:                # all prepared first: they start at one instant
        array.fc.prepare_mapping(m)
    array.clock.tick(2)
    for m in maps:
        array.fc.start_mapping(m)
    return array, watched, maps[0]


def requests(array: Array, vol: int, map_id: int) -> dict[str, dict[str, int]]:
    """The work of each request a host or the CIM layer sends about one volume, after
    the clock moved on (every background copy is due some grains)."""
    fc = array.fc
    calls = {
        "advance": fc.advance,
        "volume in mapping": lambda: fc.volume_in_mapping(vol),
        "mappings of volume": lambda: fc.mappings_of_volume(vol),
        "mapping": lambda: fc.mapping(map_id),
        "read": lambda: fc.read(vol, 0, 2 * CHUNK),
        "write": lambda: fc.write(vol, CHUNK, pattern(9, CHUNK)),
    }
    out = {}
    for name, call in calls.items():
        array.clock.tick(5)
        before = fc.work()
        call()
        out[name] = {k: v - before[k] for k, v in fc.work().items()}
    return out


def test_request_work_does_not_grow_with_copying_mappings():
    quiet, qvol, qmap = busy_array(0)
    busy, bvol, bmap = busy_array(BUSY)
    assert requests(busy, bvol, bmap) == requests(quiet, qvol, qmap)
    # ... and the copies did run meanwhile: progress is computed when read
    views = busy.fc.list_mappings()
    assert len(views) == BUSY + 1
    assert all(v.state == "copying" and 0 < v.progress < 100 for v in views)


def test_lazily_moved_copies_complete_with_the_sources_bytes():
    array, vol, map_id = busy_array(20)
    written = array.fc.read(vol, 0, SIZE)
    array.clock.tick(SIZE / (128 * 1024) + 1)
    array.restart()              # settled state and the event heap come back from disk
    views = array.fc.list_mappings()
    assert {(v.state, v.progress, v.sync_state) for v in views} == {("idle_or_copied", 100, 6)}
    copy = array.fc.mapping(map_id).target_id
    array.fc.write(vol, 0, pattern(7, SIZE))     # the copy no longer follows its source
    assert array.fc.read(copy, 0, SIZE) == written
