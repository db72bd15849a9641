"""What every lifecycle step works with: the array, where targets go, and the settings
that decide how (taken from the configuration by the orchestrator)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from core.errors import VssError
from core.model import Host, Volume
from core.ports import ArrayPort, Consumer


@dataclass(frozen=True)
class Settings:
    copy_rate: int
    incremental: bool
    free_host: str
    reserved_host: str
    pool: str = ""                 # storagePool: create targets there when set
    iogroup: str = ""
    thin: bool = False             # allocateOption se
    compressed: bool = False
    deduped: bool = False


@dataclass
class Context:
    array: ArrayPort
    settings: Settings
    consumer: Consumer | None = None
    # The array host standing for this machine when there is no consumer: the service's
    # --host-name (targets go there only when VSS asks, through LocateLuns).
    home: str | None = None
    # claims(target_id, shadow_id): which other lifecycle's file holds that target, if
    # any (states/identity.py); the orchestrator answers from its files
    claims: Optional[Callable[[str, str], Optional[str]]] = None
    # Array hosts by name, looked up in one request (the free and reserved hosts with
    # the one asked for) and kept: they are set up once by the administrator. fresh()
    # forgets them (after a failure, or when a host may have changed), so a stale id
    # costs one failed operation at most.
    _hosts: dict[str, Host] = field(default_factory=dict)
    # The free pool's volumes by id as last listed, kept the same way: a create then
    # reads only the volumes it picks (states/create.py); fresh() forgets it.
    free_pool: dict[str, Volume] | None = None

    def fresh(self) -> "Context":
        self._hosts.clear()
        self.free_pool = None
        return self

    def host(self, name: str, code: int) -> Host:
        if name not in self._hosts:
            names = {name, self.settings.free_host, self.settings.reserved_host} - self._hosts.keys()
            self._hosts.update({h.name: h for h in self.array.hosts_named(sorted(names))})
        if name not in self._hosts:
            raise VssError(code, f"the array has no host named {name!r}")
        return self._hosts[name]

    def consumer_host(self) -> Host:
        """The array host carrying this machine's (or its hypervisor's) initiators."""
        if self.consumer is None:
            raise VssError(205, "no host adapter is configured to show targets on this host")
        ini = self.consumer.initiators()
        for port in (*ini.fc_wwpns, *ini.iscsi_iqns):
            host = self.array.host_with_initiator(port)
            if host is not None:
                return host
        raise VssError(205, f"no array host has this host's initiators {', '.join((*ini.fc_wwpns, *ini.iscsi_iqns)) or '(none)'}")

    def this_host(self) -> Host | None:
        """This machine's array host: the consumer's, else the named one; None when the
        engine runs without either (it then cannot tell whose volumes are whose)."""
        if self.consumer is not None:
            return self.consumer_host()
        return self.host(self.home, 205) if self.home else None
