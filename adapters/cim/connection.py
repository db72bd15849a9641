"""The wire to the CIM agent: one pywbem connection, every HTTP request counted,
reads retried on transient failures, methods never repeated once they may have
reached the agent.

pywbem lets urllib3 retry failed connects behind its back; those tries would be
invisible to the request count, so the connection's HTTP adapter is replaced by one
that counts each request and never retries: all retrying is decided here.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable

import pywbem
import requests
import urllib3
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from core.log import get_logger
from adapters.cim import errors as E
from core.errors import ArrayCallError, OutcomeUnknown

log = get_logger("vssorch.cim")

CRASH_ENV = "VSSORCH_CRASH_AT"     # "cim:<Method>:before|after": crash tests end the process there
CRASH_EXIT = 86
ATTEMPTS = 3


class _CountingAdapter(requests.adapters.HTTPAdapter):
    def __init__(self) -> None:
        super().__init__(max_retries=urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0,
                                                   other=0, allowed_methods=None, raise_on_status=False))
        self.sent = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent += 1
        return super().send(request, *args, **kwargs)


def _crash_point(method: str, when: str) -> None:
    if os.environ.get(CRASH_ENV) == f"cim:{method}:{when}":
        os._exit(CRASH_EXIT)


def _failure(state: RetryCallState) -> str:
    """What made a read's try fail (tenacity calls before_sleep after a failed try only)."""
    return E.one_line(state.outcome.exception() if state.outcome else None, 120)


def open_connection(host: str, port: int, *, ssl: bool, ca_file: str | None, username: str,
                    password: str, namespace: str, timeout_ms: int = 0,
                    verify: bool = True) -> pywbem.WBEMConnection:
    """A pywbem connection; nothing is sent yet. Certificates are verified against
    ca_file, or the system's store without one; timeout_ms 0 keeps pywbem's default."""
    url = f"{'https' if ssl else 'http'}://{host}:{port}"
    kwargs = {"timeout": timeout_ms / 1000.0} if timeout_ms else {}
    try:
        conn = pywbem.WBEMConnection(url, (username, password), default_namespace=namespace,
                                     ca_certs=ca_file or None, no_verification=not verify, **kwargs)
    except (OSError, ValueError, TypeError) as exc:
        raise ArrayCallError(E.CANNOT_CONNECT, f"cannot set up {url}: {E.one_line(exc)}") from None
    # requests would let REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE replace the CA file given here
    conn.session.trust_env = False
    return conn


class Transport:
    def __init__(self, conn: pywbem.WBEMConnection, *, sleep: Callable[[float], None] = time.sleep):
        self.conn = conn
        self.url: str = conn.url
        self._sleep = sleep
        self._adapter = _CountingAdapter()
        conn.session.mount("http://", self._adapter)
        conn.session.mount("https://", self._adapter)

    @property
    def requests(self) -> int:
        return self._adapter.sent

    def read(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """An intrinsic operation (enumerate, get, associators...): safe to repeat."""
        retrying = Retrying(retry=retry_if_exception(E.is_transient), stop=stop_after_attempt(ATTEMPTS),
                            wait=wait_exponential(multiplier=0.2, max=2), sleep=self._sleep, reraise=True,
                            before_sleep=lambda state: log.info(
                                "cim read retried", op=op, attempt=state.attempt_number, reason=_failure(state)))
        try:
            for attempt in retrying:
                with attempt:
                    return getattr(self.conn, op)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure leaves as a typed error
            raise E.translate(exc, op, self.url) from None

    def get(self, path: pywbem.CIMInstanceName) -> pywbem.CIMInstance | None:
        """GetInstance; None when the object is not (or no longer) there."""
        try:
            return self.read("GetInstance", path)
        except ArrayCallError as exc:
            if "CIM_ERR_NOT_FOUND" in exc.detail:
                return None
            raise

    def invoke(self, method: str, target: pywbem.CIMInstanceName, params: dict[str, Any]) -> tuple[int, Any]:
        """InvokeMethod -> (rc, out params). Repeated only when the request provably
        never left (refused connection, unknown host); lost after sending, it raises
        OutcomeUnknown and the caller reads the array instead."""
        _crash_point(method, "before")
        for attempt in range(1, ATTEMPTS + 1):
            try:
                rc, out = self.conn.InvokeMethod(method, target, **params)
                break
            except Exception as exc:  # noqa: BLE001
                if E.never_sent(exc) and attempt < ATTEMPTS:
                    self._sleep(0.2 * attempt)
                    continue
                if E.is_transient(exc) and not E.never_sent(exc):
                    log.warning("cim method outcome unknown", method=method, reason=E.one_line(exc, 120))
                    raise OutcomeUnknown(E.AGENT_BROKEN, f"{method}: no answer from {self.url} after "
                                                         "sending; read the array to learn the outcome") from None
                raise E.translate(exc, method, self.url) from None
        _crash_point(method, "after")
        try:
            rc = int(rc)
        except (TypeError, ValueError):
            raise ArrayCallError(E.AGENT_BROKEN, f"{method}: return value {E.one_line(rc, 40)!r} "
                                                 "is not a number") from None
        log.debug("cim method", method=method, rc=rc)
        return rc, (out if out is not None else {})
