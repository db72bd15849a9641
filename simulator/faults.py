"""Fault injection for tests: off unless a test (or an operator) asks for it through
the admin endpoint. Faults are counted per method name from the moment they are set."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Fault:
    method: str              # CIM method or intrinsic operation name, or "*" for every call
    action: str              # "fail" (return rc without running), "drop" (run, then cut the reply), "delay"
    nth: int = 1             # the first matching call that is hit (1-based)
    count: int = 1           # how many consecutive matching calls are hit (0 = all from nth on)
    rc: int = 4              # for "fail"
    seconds: float = 0.0     # for "delay"

    def __post_init__(self):
        if self.action not in ("fail", "drop", "delay"):
            raise ValueError(f"unknown fault action {self.action!r}")
        if self.nth < 1 or self.count < 0 or self.seconds < 0:
            raise ValueError("nth >= 1, count >= 0, seconds >= 0")


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)
    latency: float = 0.0     # added to every request, seconds
    seen: dict[str, int] = field(default_factory=dict)


class FaultInjector:
    def __init__(self):
        self._lock = threading.Lock()
        self._plan = FaultPlan()

    def set(self, faults: list[dict], latency: float = 0.0) -> None:
        plan = FaultPlan([Fault(**f) for f in faults], float(latency))
        with self._lock:
            self._plan = plan

    def clear(self) -> None:
        with self._lock:
            self._plan = FaultPlan()

    def describe(self) -> dict:
        with self._lock:
            return {"latency": self._plan.latency, "faults": [vars(f) for f in self._plan.faults],
                    "seen": dict(self._plan.seen)}

    def hits(self, method: str) -> tuple[float, list[Fault]]:
        """Count this call; return (delay seconds, faults that apply to it)."""
        with self._lock:
            plan = self._plan
            keys = {f.method.lower() for f in plan.faults
                    if f.method == "*" or f.method.lower() == method.lower()}
            for key in keys:
                plan.seen[key] = plan.seen.get(key, 0) + 1
            hit = [f for f in plan.faults if f.method.lower() in keys
                   and f.nth <= plan.seen[f.method.lower()]
                   and (f.count == 0 or plan.seen[f.method.lower()] < f.nth + f.count)]
            delay = plan.latency + sum(f.seconds for f in hit if f.action == "delay")
            return delay, [f for f in hit if f.action != "delay"]
