"""The owner's lock and record (no array): another process's lock blocks a claim until
that process is gone, however it goes; this process's own live work is never taken as
abandoned; a file moved aside never overwrites an earlier one."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from orchestrator import ownership
from orchestrator.recovery import RecoveryStore

ROOT = Path(__file__).resolve().parents[2]
HOLD = ("import sys; from pathlib import Path; from orchestrator.recovery import RecoveryStore; "
        "RecoveryStore(Path(sys.argv[1])).claim('set-a'); print('held', flush=True); sys.stdin.read()")


def test_a_live_owner_blocks_and_a_dead_one_does_not(tmp_path):
    store = RecoveryStore(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not store.claim("set-a")
        os.kill(holder.pid, signal.SIGKILL)          # no cleanup of any kind
        holder.wait(timeout=30)
        assert store.claim("set-a")
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert ownership.held_here(store.lock_path("set-a"))
    assert not store.claim("set-a", reenter=False)   # this process's own live work
    store.let_go("set-a")
    assert not store.lock_path("set-a").exists() and not ownership.held_here(store.lock_path("set-a"))


def test_owner_record_and_moving_aside(tmp_path):
    me = ownership.me()
    assert me["pid"] == os.getpid() and me["host"] and me["start"] > 0
    store = RecoveryStore(tmp_path)
    for text in ("first", "second"):
        (tmp_path / "set-x.json").write_text(text)
        store.set_aside("set-x")
    assert sorted(p.read_text() for p in tmp_path.glob("set-x.json*.corrupt")) == ["first", "second"]
    assert store.keys() == []
    store.note_id("0123abcd")
    store.note_id("4567ef01")
    assert store.known_ids() == {"0123abcd", "4567ef01"}
