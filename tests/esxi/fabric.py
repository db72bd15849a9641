"""The SAN between the embedded array and vcsim, for tests that show targets to a VM."""
from __future__ import annotations


class Fabric:
    """The vSphere session as the consumer uses it, with the SAN in between: a rescan
    shows the ESXi host what the array maps to its ports now. Records the array's view at
    each detach."""

    def __init__(self, session, harness, array, wwpn: str):
        self.session, self.harness, self.array, self.wwpn = session, harness, array, wwpn
        self.mapped_at_detach: dict[str, bool] = {}

    def __getattr__(self, name):
        return getattr(self.session, name)

    def _on_host(self) -> set[str]:
        return {lun["uid"] for lun in self.array.host_luns(self.wwpn)}

    def rescan(self, vm) -> None:
        self.harness.map_luns(*sorted(self._on_host()))
        self.session.rescan(vm)

    def detach_prdm(self, vm, uid: str) -> bool:
        self.mapped_at_detach[uid] = uid in self._on_host()
        return self.session.detach_prdm(vm, uid)
