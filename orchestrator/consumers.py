"""Where shown targets end up: this host itself, the ESXi VM it runs in, or the Hyper-V VM.

Each consumer answers the lifecycles' four questions (core/ports.py Consumer): which
initiators the array must map to, what to do once LUNs are mapped (find them, attach them
to the VM, bring them online), what to do before they are unmapped (take them offline,
detach them from the VM; manual 5.1: the pRDM goes before the mapping), and after.
All steps can be repeated: recovery may run them again after a crash.

Host failures become VssError 3008 (the manual's "assign operation failed") carrying the
adapter's one-line message.
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from core.log import get_logger
from adapters.host.base import HostError
from core.ports import Consumer, HostStorage, Initiators
from orchestrator.config import Config
from core.errors import VssError
from orchestrator.protocol import Path, choose_path

if TYPE_CHECKING:
    from adapters.host.dataendpoint import DataEndpoint

log = get_logger("vssorch.consumers")

HOST_FAILED = 3008
# How long a mapped LUN may take to show up on the host (a real FC fabric can take tens
# of seconds after a rescan; the manual has no parameter for it).
ARRIVAL_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Rescans:
    """The configuration's rescan parameters (manual 3.2.3): rescanOnceArr/Rem and
    rescanRemMin/Max (seconds)."""

    once_on_arrival: bool = False
    once_on_removal: bool = False
    removal_min_s: float = 0.0
    removal_max_s: float = 45.0

    @classmethod
    def from_config(cls, config: Config) -> "Rescans":
        return cls(config.rescan_once_arr, config.rescan_once_rem,
                   float(config.rescan_rem_min), float(config.rescan_rem_max))


@contextmanager
def _host_step(what: str) -> Iterator[None]:
    try:
        yield
    except VssError:
        raise
    except HostError as exc:
        raise VssError(HOST_FAILED, f"{what}: {exc}") from None
    except Exception as exc:        # hypervisor adapters' own error types
        raise VssError(HOST_FAILED, f"{what}: {type(exc).__name__}: {exc}") from None


def _arrive(storage: HostStorage, uids: Sequence[str], rescans: Rescans, timeout_s: float) -> dict[str, str]:
    storage.rescan()
    devices = {}
    for uid in uids:
        storage.wait_for_disk(uid, timeout_s, rescans.once_on_arrival)
        devices[uid] = str(storage.bring_online(uid).number_or_device)
    return devices


def _depart(storage: HostStorage, uids: Sequence[str], rescans: Rescans) -> None:
    """rescanRemMin/Max bound the wait for the whole set, not for each disk in turn."""
    storage.rescan()
    start = time.monotonic()
    for i, uid in enumerate(uids):
        if i == 0:
            min_s, max_s = rescans.removal_min_s, rescans.removal_max_s
        else:
            min_s, max_s = 0.0, max(0.0, rescans.removal_max_s - (time.monotonic() - start))
        if not storage.wait_for_removal(uid, min_s, max_s, rescans.once_on_removal):
            log.warning("disk still seen after unmapping", uid=uid, waited_s=rescans.removal_max_s)


def _release_then_detach(vm, uids: Sequence[str], detach: Callable[[], None]) -> None:
    """A VM's disks before unmapping: the guest lets go, then the hypervisor detaches
    them whatever path the configuration picks now, since a disk attached under an
    earlier storageProtocol must not outlive its LUN (manual 5.2; nothing attached:
    nothing done). When the path is the guest's own iSCSI, an unreachable hypervisor
    only costs a warning."""
    with _host_step("releasing the disks in this VM"):
        for uid in uids:
            vm.guest.release(uid)
    try:
        detach()
    except VssError:
        try:
            guest_path = vm.path() is Path.GUEST_ISCSI
        except VssError:
            guest_path = False
        if not guest_path:
            raise
        log.warning("hypervisor not reachable; a disk attached under an earlier protocol may remain",
                    uids=list(uids))


class PhysicalHost:
    """Targets mapped straight to this machine's FC or iSCSI initiators."""

    def __init__(self, storage: HostStorage, rescans: Rescans = Rescans(),
                 protocol: str = "auto", arrival_timeout_s: float = ARRIVAL_TIMEOUT_S) -> None:
        self.storage = storage
        self.rescans = rescans
        self.protocol = protocol
        self.arrival_timeout_s = arrival_timeout_s

    def initiators(self) -> Initiators:
        with _host_step("reading this host's initiators"):
            ini = self.storage.initiators()
        # A physical host is its own "host" in Table 3-1: no guest initiator, its HBAs.
        path = choose_path(self.protocol, False, bool(ini.fc_wwpns), bool(ini.iscsi_iqns))
        return Initiators(fc_wwpns=ini.fc_wwpns) if path is Path.HOST_FC else Initiators(iscsi_iqns=ini.iscsi_iqns)

    def after_map(self, uids: Sequence[str]) -> dict[str, str]:
        with _host_step("finding the mapped disks on this host"):
            return _arrive(self.storage, uids, self.rescans, self.arrival_timeout_s)

    def before_unmap(self, uids: Sequence[str]) -> None:
        with _host_step("releasing the disks on this host"):
            for uid in uids:
                self.storage.release(uid)

    def after_unmap(self, uids: Sequence[str]) -> None:
        with _host_step("rescanning this host after unmapping"):
            _depart(self.storage, uids, self.rescans)


class EsxiVm:
    """This machine is a VMware guest: LUNs reach it as physical-mode RDMs through its
    ESXi host's HBAs (manual 3.2), or through its own software iSCSI initiator when
    Table 3-1 says so. `connect` opens the vSphere session when first needed."""

    def __init__(self, guest: HostStorage, connect: Callable[[], object], identity: "GuestIdentity",
                 rescans: Rescans = Rescans(), protocol: str = "auto",
                 arrival_timeout_s: float = ARRIVAL_TIMEOUT_S) -> None:
        self.guest = guest
        self._connect = connect
        self.identity = identity
        self.rescans = rescans
        self.protocol = protocol
        self.arrival_timeout_s = arrival_timeout_s
        self._session = self._vm = None
        self._path: Path | None = None
        self._host_ports: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())    # (FC, iSCSI), read with the path

    def _attach_point(self):
        if self._session is None:
            with _host_step("connecting to vSphere"):
                session = self._connect()
                self._vm = session.find_self_vm(self.identity.ips, self.identity.dns_names,
                                                self.identity.bios_uuids)
                self._session = session
        return self._session, self._vm

    def path(self) -> Path:
        if self._path is None:
            session, vm = self._attach_point()
            with _host_step("reading the initiators"):
                self._host_ports = session.host_initiators(vm)
                guest_iscsi = bool(self.guest.initiators().iscsi_iqns)
            fc, iqns = self._host_ports
            self._path = choose_path(self.protocol, guest_iscsi, bool(fc), bool(iqns))
        return self._path

    def initiators(self) -> Initiators:
        path = self.path()
        if path is Path.GUEST_ISCSI:
            return Initiators(iscsi_iqns=self.guest.initiators().iscsi_iqns)
        fc, iqns = self._host_ports
        if path is Path.HOST_FC:
            session, vm = self._attach_point()
            with _host_step("reading the VM's NPIV ports"):
                # NPIV: the VM's own virtual ports log in as well and must see the LUN.
                return Initiators(fc_wwpns=tuple(dict.fromkeys((*session.vm_npiv_wwpns(vm), *fc))))
        return Initiators(iscsi_iqns=iqns)

    def after_map(self, uids: Sequence[str]) -> dict[str, str]:
        if self.path() is not Path.GUEST_ISCSI:
            session, vm = self._attach_point()
            with _host_step("attaching the LUNs to this VM as physical-mode RDMs"):
                session.rescan(vm)
                for uid in uids:
                    session.attach_prdm(vm, uid)
        with _host_step("finding the attached disks in this VM"):
            return _arrive(self.guest, uids, self.rescans, self.arrival_timeout_s)

    def before_unmap(self, uids: Sequence[str]) -> None:
        def detach() -> None:
            session, vm = self._attach_point()
            with _host_step("removing the RDMs from this VM"):
                for uid in uids:
                    session.detach_prdm(vm, uid)
        _release_then_detach(self, uids, detach)

    def after_unmap(self, uids: Sequence[str]) -> None:
        if self.path() is not Path.GUEST_ISCSI:
            session, vm = self._attach_point()
            with _host_step("rescanning the ESXi host after unmapping"):
                session.rescan(vm)
        with _host_step("rescanning this VM after unmapping"):
            _depart(self.guest, uids, self.rescans)


class HyperVVm:
    """This machine is a Hyper-V guest: LUNs reach the parent's HBAs, go offline there and
    are attached to this VM as pass-through disks (manual 3.3), or reach the VM's virtual
    FC ports (NPIV) or its own software iSCSI initiator."""

    def __init__(self, guest: HostStorage, parent: Callable[[], object], rescans: Rescans = Rescans(),
                 protocol: str = "auto", arrival_timeout_s: float = ARRIVAL_TIMEOUT_S) -> None:
        self.guest = guest
        self._open_parent = parent
        self.rescans = rescans
        self.protocol = protocol
        self.arrival_timeout_s = arrival_timeout_s
        self._parent = None
        self._path: Path | None = None

    def parent(self):
        if self._parent is None:
            with _host_step("connecting to the Hyper-V host"):
                self._parent = self._open_parent()
        return self._parent

    def path(self) -> Path:
        if self._path is None:
            parent = self.parent()
            with _host_step("reading the initiators"):
                ini = parent.disks.initiators()
                guest_iscsi = bool(self.guest.initiators().iscsi_iqns)
            self._path = choose_path(self.protocol, guest_iscsi, bool(ini.fc_wwpns), bool(ini.iscsi_iqns))
        return self._path

    def initiators(self) -> Initiators:
        path = self.path()
        if path is Path.GUEST_ISCSI:
            return Initiators(iscsi_iqns=self.guest.initiators().iscsi_iqns)
        parent = self.parent()
        with _host_step("reading the Hyper-V host's initiators"):
            ini = parent.disks.initiators()
            if path is Path.HOST_FC:
                return Initiators(fc_wwpns=tuple(dict.fromkeys((*parent.fc_wwpns(), *ini.fc_wwpns))))
        return Initiators(iscsi_iqns=ini.iscsi_iqns)

    def after_map(self, uids: Sequence[str]) -> dict[str, str]:
        if self.path() is not Path.GUEST_ISCSI:
            parent = self.parent()
            with _host_step("attaching the LUNs to this VM as pass-through disks"):
                parent.rescan()
                for uid in uids:
                    parent.disks.wait_for_disk(uid, self.arrival_timeout_s, self.rescans.once_on_arrival)
                    parent.take_offline(uid)
                    parent.attach_passthrough(uid)
        with _host_step("finding the attached disks in this VM"):
            return _arrive(self.guest, uids, self.rescans, self.arrival_timeout_s)

    def before_unmap(self, uids: Sequence[str]) -> None:
        def detach() -> None:
            parent = self.parent()
            with _host_step("detaching the pass-through disks from this VM"):
                for uid in uids:
                    parent.detach_passthrough(uid)
        _release_then_detach(self, uids, detach)

    def after_unmap(self, uids: Sequence[str]) -> None:
        if self.path() is not Path.GUEST_ISCSI:
            parent = self.parent()
            with _host_step("rescanning the Hyper-V host after unmapping"):
                _depart(parent.disks, uids, self.rescans)
        with _host_step("rescanning this VM after unmapping"):
            _depart(self.guest, uids, self.rescans)


@dataclass(frozen=True)
class GuestIdentity:
    """What the guest knows about itself, for vSphere to find its VM."""

    ips: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    bios_uuids: tuple[str, ...] = ()


def local_identity(bios_uuid: str | None) -> GuestIdentity:
    name = socket.gethostname()
    names = tuple(dict.fromkeys(n for n in (socket.getfqdn(), name) if n))
    try:
        ips = tuple(ip for ip in socket.gethostbyname_ex(name)[2] if not ip.startswith("127."))
    except OSError:
        ips = ()
    return GuestIdentity(ips, names, (bios_uuid,) if bios_uuid else ())


# ---------------------------------------------------------------- from the configuration

def local_storage(config: Config) -> HostStorage:
    """This machine's disks, as hostAdapter says (auto: the OS the product runs on)."""
    kind = config.host_adapter
    if kind == "auto":
        kind = "windows" if os.name == "nt" else "linux"
    if kind == "sim":
        from adapters.host.simulated import SimulatedHost
        if not config.sim_initiator:
            raise VssError(1004, "simInitiator is not set: hostAdapter sim needs the initiator "
                           "this host uses on the embedded array")
        return SimulatedHost(data_endpoint(config), config.sim_initiator, config.state_dir / "sim-host")
    if kind == "windows":
        from adapters.host.powershell import LocalRunner
        from adapters.host.windows import WindowsHost
        return WindowsHost(LocalRunner())
    from adapters.host.linux import LinuxHost
    return LinuxHost()


def data_endpoint(config: Config) -> DataEndpoint:
    """The embedded array's data endpoint, reached as the configuration reaches the array:
    hostAdapter sim's disks, and the byte checks of batch files and testsnapshot."""
    from adapters.host.dataendpoint import DataEndpoint
    scheme = "https" if config.using_ssl else "http"
    return DataEndpoint(f"{scheme}://{config.cimom_host}:{config.cimom_port}",
                        auth=(config.username, config.password),
                        ca_file=str(config.ca_file) if config.ca_file else None)


def consumer_from_config(config: Config) -> Consumer:
    """The consumer the configuration describes: a VMware guest when vmhost is set (a
    Hyper-V guest when vmdomain is set too: the manual asks for a domain only there),
    else this host itself."""
    storage = local_storage(config)
    rescans = Rescans.from_config(config)
    timeout_s = ARRIVAL_TIMEOUT_S
    if not config.vm_host:
        return PhysicalHost(storage, rescans, config.storage_protocol, timeout_s)
    if config.vm_domain:
        return HyperVVm(storage, lambda: _open_hyperv(config, storage), rescans,
                        config.storage_protocol, timeout_s)

    def connect():
        from adapters.esxi.session import VSphereSession
        return VSphereSession.connect(config.vm_host, config.vm_username, config.vm_password,
                                      config.vm_timeout,
                                      str(config.vm_credential) if config.vm_credential else None)
    return EsxiVm(storage, connect, local_identity(storage.bios_uuid()), rescans, config.storage_protocol, timeout_s)


def _open_hyperv(config: Config, storage: HostStorage):
    from urllib.parse import urlsplit

    from adapters.host.powershell import LocalRunner, PsrpRunner
    from adapters.hyperv.passthrough import HyperVParent, find_vm, read_guest_identity
    parts = urlsplit(config.vm_host)
    runner = PsrpRunner(parts.hostname or config.vm_host, config.vm_username, config.vm_password,
                        config.vm_domain, ssl=parts.scheme == "https")
    guest = read_guest_identity(LocalRunner())
    return HyperVParent(runner, find_vm(runner, guest))
