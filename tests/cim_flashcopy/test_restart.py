"""The simulator process stopped mid-background-copy and started again on the same
state folder: the copy resumes where it was and the target ends with the source's
bytes at the start instant, though the source was written meanwhile."""
from tests.support.arrayproc import ArrayProcess
from tests.support.data import pattern
from tests.support.fccim import CHUNK, FcCim
from tests.support.view import STATE_OF

SIZE = 64 * CHUNK          # 4 MiB: rate 50 copies 2 MiB per simulated second


def progress(fc: FcCim, sync) -> tuple[str, int]:
    inst = fc.conn.GetInstance(sync, PropertyList=["SyncState", "Progress"])
    return STATE_OF[int(inst["SyncState"])], int(inst["Progress"])


def test_restart_mid_copy_resumes_with_the_right_bytes(tmp_path):
    state = tmp_path / "state"
    sim = ArrayProcess(state, http=True, time_scale=1e-9).start()
    try:
        fc = FcCim(sim)
        fc.freeze()
        src, src_uid = fc.volume(SIZE, tag=5)
        tgt, tgt_uid = fc.volume(SIZE)
        image = fc.read(src_uid)
        sync = fc.snapshot(src, tgt, rate=50, grain=64)
        fc.advance(0.5)                                 # a quarter copied
        fc.write(src_uid, 3 * CHUNK, pattern(99, 20 * CHUNK))   # copies those grains first
        status, before = progress(fc, sync)
        assert status == "copying" and 25 < before < 100
        assert fc.read(tgt_uid) == image
    finally:
        assert sim.stop() == 0

    sim = ArrayProcess(state, http=True, time_scale=1e-9).start()   # frozen from the first request
    try:
        fc = FcCim(sim)
        fc.freeze()
        status, after = progress(fc, sync)
        assert status == "copying" and after == before  # nothing lost, nothing skipped
        assert fc.read(tgt_uid) == image
        fc.advance(10)
        assert progress(fc, sync) == ("idle_or_copied", 100)
        assert fc.read(tgt_uid) == image
        assert fc.modify(sync, 2)[0] == 0               # detach: the target keeps its copy
        assert fc.read(tgt_uid) == image
        assert fc.read(src_uid) != image
        assert fc.mappings() == {}
    finally:
        sim.stop()
