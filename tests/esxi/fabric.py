"""The SAN between the embedded array and vcsim, for tests that show targets to a VM."""
from __future__ import annotations

import json
import os
from pathlib import Path


def write_luns(lun_file: Path, uids) -> None:
    """What the array maps to the ESXi host; vcsim sees it at its next rescan. Written
    atomically: the harness may read the file at any moment."""
    tmp = lun_file.with_suffix(".tmp")
    tmp.write_text(json.dumps([{"uid": uid} for uid in uids]))
    os.replace(tmp, lun_file)


class Fabric:
    """The vSphere session as the consumer uses it, with the SAN in between: a rescan
    shows the ESXi host what the array maps to its ports now. Records the array's view at
    each detach."""

    def __init__(self, session, lun_file: Path, array, wwpn: str):
        self.session, self.lun_file, self.array, self.wwpn = session, lun_file, array, wwpn
        self.mapped_at_detach: dict[str, bool] = {}

    def __getattr__(self, name):
        return getattr(self.session, name)

    def _on_host(self) -> set[str]:
        return {lun["uid"] for lun in self.array.host_luns(self.wwpn)}

    def rescan(self, vm) -> None:
        write_luns(self.lun_file, sorted(self._on_host()))
        self.session.rescan(vm)

    def detach_prdm(self, vm, uid: str) -> bool:
        self.mapped_at_detach[uid] = uid in self._on_host()
        return self.session.detach_prdm(vm, uid)
