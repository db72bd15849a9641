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

from adapters.host.base import HostError, PollingWaits, VolumeNotFound, normalize_wwpn
from adapters.host.dataendpoint import DataEndpoint
from core.files import atomic_write
from core.ids import volume_uid
from core.ports import Clock, DiskId, Initiators, SystemClock

_LETTER = re.compile(r"^([D-Zd-z]):\\?$")
_FIRST_LETTER = ord("D")


class SimulatedHost(PollingWaits):
    """`array`: the embedded array's data endpoint, or its URL (http[s]://host:port) with
    `auth` (the array's user and password) and `ca_file` (its certificate's CA for https);
    `initiator`: this host's WWPN or IQN as the array knows it."""

    def __init__(self, array: str | DataEndpoint, initiator: str, state_dir: Path, *,
                 auth: tuple[str, str] | None = None, ca_file: str | None = None,
                 clock: Clock | None = None, poll_s: float = 0.05) -> None:
        self.data = array if isinstance(array, DataEndpoint) else DataEndpoint(array, auth=auth, ca_file=ca_file)
        self.initiator = initiator.strip()
        self.state_dir = Path(state_dir)
        self.clock = clock or SystemClock()
        self.poll_s = poll_s

    # ------------------------------------------------------------ what the host is
    def initiators(self) -> Initiators:
        if self.initiator.lower().startswith(("iqn.", "eui.")):
            return Initiators(iscsi_iqns=(self.initiator,))
        return Initiators(fc_wwpns=(normalize_wwpn(self.initiator),))

    def bios_uuid(self) -> str | None:
        return None             # not a VM

    def luns(self) -> list[dict]:
        """What the array maps to this host now: uid, size, scsi_id (SCSI id order)."""
        return self.data.luns(self.initiator)

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
        return self.data.read(self.initiator, uid.upper(), offset, length)

    def write(self, uid: str, offset: int, data: bytes) -> None:
        self._require_online(uid)
        self.data.write(self.initiator, uid.upper(), offset, data)

    def _require_online(self, uid: str) -> None:
        if not self.is_online(uid):
            raise HostError(f"disk {uid} is not online on this host")

    # ------------------------------------------------------------ device table
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
