"""A host attached to the embedded array: its disks are the LUNs the array maps to its
initiator, read and written through the array's /data endpoint.

It behaves like a real host where the lifecycles can tell the difference: a newly mapped
LUN is only seen after a rescan; a disk keeps its device name until a rescan finds it
gone; a released disk is offline until brought online again. Its device table lives in
`state_dir` so that a crashed process and the cleanup that follows see the same host.

Volumes are named as on Windows: C: is the system disk (not on the array), D:, E:, ...
are the host's LUNs in SCSI id order. A UID names a LUN as well.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import requests

from adapters.host.base import HostError, PollingWaits, VolumeNotFound, normalize_wwpn
from core.files import atomic_write
from core.ids import volume_uid
from core.ports import Clock, DiskId, Initiators, SystemClock

_LETTER = re.compile(r"^([D-Zd-z]):\\?$")
_FIRST_LETTER = ord("D")


class SimulatedHost(PollingWaits):
    """`url`: the embedded array (http[s]://host:port); `initiator`: this host's WWPN or
    IQN as the array knows it; `auth`: the array's user and password (its endpoints all
    ask for them); `ca_file`: the array certificate's CA for https."""

    def __init__(self, url: str, initiator: str, state_dir: Path, *, auth: tuple[str, str] | None = None,
                 ca_file: str | None = None,
                 clock: Clock | None = None, poll_s: float = 0.05, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.initiator = initiator.strip()
        self.state_dir = Path(state_dir)
        self.clock = clock or SystemClock()
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self._http = requests.Session()
        self._http.trust_env = False      # a CA bundle from the environment must not replace ca_file
        self._http.verify = ca_file or True
        self._http.headers["X-Initiator"] = self.initiator
        self._http.auth = auth

    # ------------------------------------------------------------ what the host is
    def initiators(self) -> Initiators:
        if self.initiator.lower().startswith(("iqn.", "eui.")):
            return Initiators(iscsi_iqns=(self.initiator,))
        return Initiators(fc_wwpns=(normalize_wwpn(self.initiator),))

    def bios_uuid(self) -> str | None:
        return None             # not a VM

    def luns(self) -> list[dict]:
        """What the array maps to this host now: uid, size, scsi_id (SCSI id order)."""
        return self._get("/data").json()

    def volume_to_disk(self, volume: str) -> DiskId:
        text = volume.strip()
        luns = self.luns()
        match = _LETTER.match(text)
        if match:
            index = ord(match.group(1).upper()) - _FIRST_LETTER
            if index >= len(luns):
                raise VolumeNotFound(f"no volume {match.group(1).upper()}: (this host has "
                                     f"{len(luns)} array disk(s), D: onwards)")
            uid = luns[index]["uid"]
        else:
            uid = volume_uid(text) or ""
            if uid not in {lun["uid"] for lun in luns}:
                raise VolumeNotFound(f"no volume {volume!r} on this host")
        return DiskId(self._devices().get(uid, {}).get("device") or f"lun:{uid}", uid, uid)

    # ------------------------------------------------------------ disks
    def rescan(self) -> None:
        seen = {lun["uid"] for lun in self.luns()}
        table = self._devices()
        for uid in [u for u in table if u not in seen]:
            del table[uid]
        used = {entry["device"] for entry in table.values()}
        for uid in sorted(seen - set(table)):
            table[uid] = {"device": _next_device(used), "online": False}
            used.add(table[uid]["device"])
        self._save(table)

    def find_disk(self, uid: str) -> DiskId | None:
        entry = self._devices().get(uid.upper())
        return DiskId(entry["device"], uid.upper(), uid.upper()) if entry else None

    def bring_online(self, uid: str) -> DiskId:
        table = self._devices()
        if uid.upper() not in table:
            raise HostError(f"no disk carries {uid}")
        table[uid.upper()]["online"] = True
        self._save(table)
        return DiskId(table[uid.upper()]["device"], uid.upper(), uid.upper())

    def release(self, uid: str) -> bool:
        table = self._devices()
        entry = table.get(uid.upper())
        if entry is None:
            return False
        entry["online"] = False
        self._save(table)
        return True

    def is_online(self, uid: str) -> bool:
        return bool(self._devices().get(uid.upper(), {}).get("online"))

    # ------------------------------------------------------------ block I/O
    def read(self, uid: str, offset: int, length: int) -> bytes:
        self._require_online(uid)
        return self._get(f"/data/{uid.upper()}", offset=offset, length=length).content

    def write(self, uid: str, offset: int, data: bytes) -> None:
        self._require_online(uid)
        self._call("PUT", f"/data/{uid.upper()}", data, offset=offset)

    def _require_online(self, uid: str) -> None:
        if not self.is_online(uid):
            raise HostError(f"disk {uid} is not online on this host")

    # ------------------------------------------------------------ plumbing
    def _get(self, path: str, **query) -> requests.Response:
        return self._call("GET", path, None, **query)

    def _call(self, verb: str, path: str, body: bytes | None, **query) -> requests.Response:
        try:
            reply = self._http.request(verb, self.url + path, params=query or None, data=body,
                                       timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise HostError(f"the embedded array's data endpoint {self.url}: {type(exc).__name__}") from None
        if reply.status_code >= 400:
            raise HostError(f"{verb} {path}: {reply.status_code} {reply.text.strip()[:200]}")
        return reply

    @property
    def _table_path(self) -> Path:
        return self.state_dir / "devices.json"

    def _devices(self) -> dict[str, dict]:
        try:
            return json.loads(self._table_path.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, table: dict[str, dict]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self._table_path, json.dumps(table, indent=1, sort_keys=True))


def _next_device(used: set[str]) -> str:
    n = 0
    while f"/dev/sim{n}" in used:
        n += 1
    return f"/dev/sim{n}"
