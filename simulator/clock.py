"""Simulated time: copy progress and prepare delays run on it.

Simulated seconds advance `scale` times faster than real ones, so tests and demos
see hour-long background copies finish in seconds. The value is persisted by the
store so that a restarted array resumes where it stopped, never going backwards.
"""
from __future__ import annotations

import threading
import time


class SimClock:
    def __init__(self, start: float = 0.0, scale: float = 1.0):
        self._lock = threading.Lock()
        self._base = start
        self._scale = scale
        self._real0 = time.monotonic()

    def __call__(self) -> float:
        with self._lock:
            return self._base + (time.monotonic() - self._real0) * self._scale

    @property
    def scale(self) -> float:
        return self._scale

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        with self._lock:
            now = self._base + (time.monotonic() - self._real0) * self._scale
            self._base, self._real0, self._scale = now, time.monotonic(), scale

    def advance(self, seconds: float) -> None:
        """Jump forward (tests and the admin endpoint): time never goes back."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._base += seconds
