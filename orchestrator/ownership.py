"""Who runs a lifecycle: its file names the owner (process id, start time, host name) and
the owner holds an OS lock on `<file>.lock` while it runs it.

The lock is what counts: the OS drops it when the owner dies however it dies, so a
lock that can be taken means the owner is gone (or has given the lifecycle up). The
owner's name in the file is for the reports. Owners are processes: every engine of a
process shares its locks, so a process never mistakes its own live work for a
crash's leftovers.

POSIX: flock (per open file, so it also excludes another open in the same process);
Windows: msvcrt.locking on the first byte.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

if sys.platform == "win32":     # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl


def _start_time() -> float:
    """This process's start (seconds since the epoch): with the pid it names one process."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return round(boot + ticks / os.sysconf("SC_CLK_TCK"), 2)
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return round(time.time(), 2)     # no /proc: the engine's import is close enough


_STARTED = _start_time()


def me() -> dict:
    """The owner record this process writes into its lifecycle files."""
    return {"pid": os.getpid(), "start": _STARTED, "host": socket.gethostname()}


def describe(owner: dict | None) -> str:
    if not owner:
        return "an unknown owner"
    return f"pid {owner.get('pid')} on {owner.get('host')} (started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(owner.get('start') or 0))})"


class _Held:
    def __init__(self, fd: int):
        self.fd, self.count = fd, 1


_held: dict[str, _Held] = {}
_guard = threading.Lock()


def lock_fd(fd: int, wait: bool = False) -> bool:
    """The OS lock on an open file; False when another process (or open file) holds it."""
    try:
        if sys.platform == "win32":     # pragma: no cover
            msvcrt.locking(fd, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        return True
    except OSError:
        return False


def _same_file(fd: int, path: str) -> bool:
    """A holder removes the lock file before it lets go: whoever got the lock of a removed
    file got nothing and must open the path again."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev)


def acquire(path: Path, *, wait: bool = False, reenter: bool = True) -> bool:
    """Take the lock; False when another process (or, with reenter=False, this one) holds it."""
    key = str(path)
    with _guard:
        held = _held.get(key)
        if held is not None:
            if not reenter:
                return False
            held.count += 1
            return True
    while True:     # outside the guard: a waiting acquire must not stop the other threads
        fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o600)
        if not lock_fd(fd, wait):
            os.close(fd)
            return False
        if sys.platform == "win32" or _same_file(fd, key):
            with _guard:
                _held[key] = _Held(fd)
            return True
        os.close(fd)


def release(path: Path, *, remove: bool = False) -> None:
    """Let go of one acquire; the last one unlocks (and removes the lock file when the
    lifecycle is over)."""
    key = str(path)
    with _guard:
        held = _held.get(key)
        if held is None:
            return
        held.count -= 1
        if held.count > 0:
            return
        del _held[key]
        if remove and sys.platform != "win32":    # Windows cannot remove an open file
            Path(key).unlink(missing_ok=True)
        os.close(held.fd)


def held_here(path: Path) -> bool:
    with _guard:
        return str(path) in _held


def forget_all(folder: Path | None = None) -> None:
    """What the OS does when a process dies: every lock (in `folder`) goes. For a service
    stopped inside a process that goes on, and for in-process crash tests."""
    with _guard:
        for key in [k for k in _held if folder is None or Path(k).parent == Path(folder)]:
            os.close(_held.pop(key).fd)
