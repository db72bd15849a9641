"""The embedded array's /data endpoint: block I/O to the LUNs the array maps to an
initiator, as the host owning that initiator would do it (a real array has none: there
the bytes are read from the host's disks).

One client for every reader: SimulatedHost's disks, and the byte checks of batch files
and `inspurvcfg testsnapshot`, which read as whichever host a target was shown to.
"""
from __future__ import annotations

from typing import Any

import requests
from requests.auth import HTTPBasicAuth

from adapters.host.base import HostError
from core.errors import INTERNAL, causes

CANNOT_CONNECT = 3002       # the manual's "the CIM client cannot connect"


class DataEndpointError(HostError):
    """The endpoint refused (`status`: its HTTP status; the family's 4001) or could not
    be reached (status None; 3002)."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail, code=INTERNAL if status is not None else CANNOT_CONNECT)
        self.status = status


class DataEndpoint:
    """`url`: the embedded array (http[s]://host:port); `auth`: its user and password
    (every endpoint asks for them); `ca_file`: the array certificate's CA for https;
    `timeout_s`: per request (a verify may read 64 MiB at once)."""

    def __init__(self, url: str, *, auth: tuple[str, str] | None = None, ca_file: str | None = None,
                 timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._http = requests.Session()
        self._http.trust_env = False      # a CA bundle from the environment must not replace ca_file
        self._http.verify = ca_file or True
        # As UTF-8, which the array decodes (requests would send str credentials as latin-1).
        self._http.auth = HTTPBasicAuth(auth[0].encode(), auth[1].encode()) if auth else None

    def luns(self, initiator: str) -> list[dict[str, Any]]:
        """What the array maps to `initiator` now: uid, size, scsi_id (SCSI id order)."""
        result: list[dict[str, Any]] = self._call("GET", initiator, "/data", "list its LUNs", None).json()
        return result

    def read(self, initiator: str, uid: str, offset: int, length: int) -> bytes:
        return self._call("GET", initiator, f"/data/{uid}", f"GET volume {uid}", None,
                          offset=offset, length=length).content

    def write(self, initiator: str, uid: str, offset: int, data: bytes) -> None:
        self._call("PUT", initiator, f"/data/{uid}", f"PUT volume {uid}", data, offset=offset)

    def _call(self, verb: str, initiator: str, path: str, what: str, body: bytes | None,
              **query: int) -> requests.Response:
        try:
            reply = self._http.request(verb, self.url + path, params=query or None, data=body,
                                       headers={"X-Initiator": initiator}, timeout=self.timeout_s)
        except requests.RequestException as exc:
            # the innermost cause ("[Errno 111] Connection refused") says what happened
            raise DataEndpointError(f"the array's data endpoint: {list(causes(exc))[-1]}") from None
        if reply.status_code >= 400:
            why = reply.content[:200].decode(errors="replace")
            raise DataEndpointError(f"host {initiator} cannot {what}: {reply.status_code} {why}",
                                    reply.status_code)
        return reply

