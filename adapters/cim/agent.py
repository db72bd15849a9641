"""The CIM agent as the concept modules use it: reads, method calls on its services
with their jobs waited for, waits on an object's own state, and the cluster it manages.

Every request goes through one Transport (adapters/cim/connection.py), which counts it
and never repeats a method that may have reached the agent.
"""
from __future__ import annotations

from typing import Any, Callable

from pywbem import CIMInstance, CIMInstanceName

from adapters.cim import errors as E
from adapters.cim.connection import Transport
from adapters.cim.jobs import wait_job
from adapters.cim.names import AGENT_PRODUCT, CLUSTER, JOB_STARTED
from adapters.cim.replies import as_path, instances, output, text
from core.errors import ArrayCallError
from core.model import PREPARED, PREPARING, Identity
from core.poll import DeadlinePassed, FuncClock, Pending, poll_until


class Agent:
    def __init__(self, wire: Transport, *, target_mcs: str | None, sleep: Callable[[float], None],
                 clock: Callable[[], float], poll_s: float, job_timeout_s: float):
        self._wire = wire
        self.target_mcs = target_mcs
        self._sleep, self._clock = sleep, clock
        self._poll_s, self._job_timeout_s = poll_s, job_timeout_s
        self._identity: Identity | None = None
        self._services: dict[str, CIMInstanceName] = {}

    @property
    def namespace(self) -> str:
        namespace: str = self._wire.conn.default_namespace
        return namespace

    # ------------------------------------------------------------ reads
    def read(self, op: str, *args: Any, **kwargs: Any) -> Any:
        return self._wire.read(op, *args, **kwargs)

    def get(self, path: CIMInstanceName) -> CIMInstance | None:
        return self._wire.get(path)

    def enum(self, classname: str, props: list[str] | None = None) -> list[CIMInstance]:
        kwargs = {"PropertyList": props} if props is not None else {}
        return instances(self.read("EnumerateInstances", classname, **kwargs), f"EnumerateInstances {classname}")

    # ------------------------------------------------------------ methods
    def service(self, classname: str) -> CIMInstanceName:
        if classname not in self._services:
            names = self.read("EnumerateInstanceNames", classname)
            if not isinstance(names, list) or not names:
                raise ArrayCallError(E.NO_CONFIG_SERVICE, f"the CIM agent offers no {classname}")
            self._services[classname] = as_path(names[0], classname)
        return self._services[classname]

    def invoke(self, method: str, service: str, params: dict[str, Any]) -> tuple[int, Any]:
        """One InvokeMethod on a service, its return code unjudged."""
        return self._wire.invoke(method, self.service(service), params)

    def call(self, method: str, service: str, code: int, *, what: str, accept: tuple[int, ...] = (),
             wait: bool = True, **params: Any) -> tuple[int, Any]:
        """One InvokeMethod on a service. A return code other than 0, 4096 or `accept`
        raises ArrayCallError with the manual's code for it (E.code_for_rc); a 4096
        reply is followed by waiting for its job (unless the caller waits on the object's
        own state). -> (rc, out)."""
        rc, out = self.invoke(method, service, params)
        if rc not in (0, JOB_STARTED, *accept):
            raise ArrayCallError(E.code_for_rc(method, rc, code), f"{what}: {method} returned {rc}", rc)
        if rc == JOB_STARTED and wait:
            self.wait_job(output(out, "Job", method), what=what, code=code)
        return rc, out

    def wait_job(self, job: object, *, what: str, code: int) -> None:
        wait_job(self._wire, job, what=what, code=code, sleep=self._sleep, clock=self._clock,
                 poll_s=self._poll_s, timeout_s=self._job_timeout_s)

    def until_prepared(self, path: CIMInstanceName, state_of: Callable[[CIMInstance], str], what: str,
                       code: int) -> None:
        """Reads the object's state until it has left preparing: whatever the prepare
        answered (0, or 4096 and jobs), prepared is what the array says it is."""
        def probe() -> Pending | None:
            inst = self.get(path)
            if inst is None:
                raise ArrayCallError(code, f"{what}: it is gone")
            state = state_of(inst)
            if state == PREPARED:
                return None
            if state != PREPARING:
                raise ArrayCallError(code, f"{what}: it is {state}, not prepared")
            return Pending()     # no progress is reported while preparing (see jobs.py)
        try:
            poll_until(probe, clock=FuncClock(self._clock, self._sleep), interval=self._poll_s,
                       deadline=self._job_timeout_s, what=what)
        except DeadlinePassed:
            raise ArrayCallError(code, f"{what}: it did not finish preparing within "
                                       f"{self._job_timeout_s:.0f} s") from None

    # ------------------------------------------------------------ the cluster
    def identity(self) -> Identity:
        if self._identity is None:
            # The cluster's id is its ID property; its Name key is "<id>:<id>".
            clusters = self.enum(CLUSTER, ["ElementName", "ID", "CodeLevel"])
            if self.target_mcs:
                # a cluster id is hex: the configured one may be in either case
                mcs = self.target_mcs.upper()
                clusters = [c for c in clusters if text(c, "ID").upper() == mcs]
                if not clusters:
                    raise ArrayCallError(E.NO_SUCH_MCS, f"the CIM agent manages no cluster with id "
                                                        f"{self.target_mcs}")
            if not clusters:
                raise ArrayCallError(E.AGENT_BROKEN, "the CIM agent reports no cluster")
            c = clusters[0]
            self._identity = Identity(cluster_id=text(c, "ID"), cluster_name=text(c, "ElementName"),
                                      product=AGENT_PRODUCT, version=text(c, "CodeLevel", ""))
        return self._identity
