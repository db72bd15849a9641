"""One logged-in vSphere session (ESXi or vCenter) and the calls the provider makes (manual 3.2.2).

The provider runs inside a VM. To hand it a snapshot target it finds its own VM, learns
the host's initiators (and the VM's NPIV WWPNs) for the array to map the LUN to, rescans
the host's HBAs, and attaches the LUN as a physical-mode RDM; on delete it removes the
RDM and its mapping file before the array unmaps the LUN. Each method is one such step;
ordering, retries and rescan policy belong to the caller.

Certificates are always verified, against `cafile` (the exported vmcredential) or the
system's CAs. An explicit SSL context is passed because pyVmomi silently turns
verification off for localhost / 127.0.0.1 / ::1 when given none.
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from urllib.parse import urlsplit

from pyVim.connect import Connect, Disconnect
from pyVmomi import vim, vmodl

from core.log import get_logger
from adapters.esxi.errors import (
    AttachFailed,
    CertificateRejected,
    ConnectFailed,
    DetachFailed,
    EsxiError,
    EsxiTimeout,
    LoginFailed,
    LunNotVisible,
    VmNotFound,
)
from adapters.esxi.specs import (
    AttachedDisk,
    LunInfo,
    build_controller_add,
    build_prdm_add,
    build_prdm_remove,
    find_rdm_device,
    normalize_uid,
    pick_controller_unit,
    rdm_disks,
    source_disk,
    uuid_byte_orders,
    wwn_hex,
)
from core.poll import DeadlinePassed, Pending, poll_until

log = get_logger(__name__)

# The vSphere 6.0 API, pyVmomi's own default: every call made here exists since 5.x and
# every ESXi / vCenter from 6.0 on accepts it. Naming a version, instead of letting
# SmartConnect ask the server for its list, matters because pyVmomi fetches that list
# with no timeout at all, so a server that accepts but never answers would hang us.
_API_VERSION = "vim.version.version9"

# Task polling: vSphere tasks take from milliseconds to tens of seconds.
_POLL_FIRST_S = 0.05
_POLL_MAX_S = 1.0


class VSphereSession:
    """Create with connect(); use as a context manager or call close()."""

    def __init__(self, si: vim.ServiceInstance, content: vim.ServiceInstanceContent,
                 url: str, timeout_s: float) -> None:
        self._si = si
        self._content = content
        self.url = url
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"VSphereSession({self.url!r})"

    @classmethod
    def connect(cls, host_url: str, user: str, password: str, timeout_ms: int,
                cafile: str | None = None) -> VSphereSession:
        """Log in to the web service at host_url ("https://esx1/sdk", as the vmhost
        setting has it). timeout_ms (vmtimeout, > 0) bounds every request and task wait."""
        if timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be positive, got {timeout_ms}")
        parts = urlsplit(host_url if "://" in host_url else "https://" + host_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ConnectFailed(f"vmhost must be an https URL, got {parts.scheme}://{parts.hostname or ''}")
        port = parts.port or 443
        path = parts.path or "/sdk"
        # Rebuilt without any user:password@ that someone put in the URL.
        url = f"https://{parts.hostname}:{port}{path}"
        timeout_s = timeout_ms / 1000
        try:
            context = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            raise ConnectFailed(f"CA file {cafile}: {exc}") from None
        with _translate(f"connecting to {url} as {user!r}", timeout_s, ConnectFailed):
            si = Connect(host=parts.hostname, port=port, path=path, user=user, pwd=password,
                         version=_API_VERSION, sslContext=context, httpConnectionTimeout=timeout_s)
            content = si.RetrieveContent()
        log.info("esxi.connected", url=url, user=user)
        return cls(si, content, url, timeout_s)

    def close(self) -> None:
        with _translate(f"logging out of {self.url}", self.timeout_s):
            Disconnect(self._si)

    def __enter__(self) -> VSphereSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def find_self_vm(self, ips: Sequence[str] = (), dns_names: Sequence[str] = (),
                     bios_uuids: Sequence[str] = ()) -> vim.VirtualMachine:
        """The VM this code runs in, from what the guest knows about itself.

        The BIOS uuid is tried first (in both byte orders) because it names one VM;
        DNS names and IPs (reported by VMware Tools) can repeat across VMs. VmNotFound
        when nothing matches; ValueError for a malformed uuid.
        """
        search = self._content.searchIndex
        with self._calls("looking up this VM"):
            for text in bios_uuids:
                for candidate in uuid_byte_orders(text):
                    vm = search.FindByUuid(datacenter=None, uuid=candidate, vmSearch=True, instanceUuid=False)
                    if vm is not None:
                        log.info("esxi.self_vm", vm=vm._moId, by="bios_uuid", value=candidate)
                        return vm
            for name in dns_names:
                vm = search.FindByDnsName(datacenter=None, dnsName=name, vmSearch=True)
                if vm is not None:
                    log.info("esxi.self_vm", vm=vm._moId, by="dns_name", value=name)
                    return vm
            for ip in ips:
                vm = search.FindByIp(datacenter=None, ip=ip, vmSearch=True)
                if vm is not None:
                    log.info("esxi.self_vm", vm=vm._moId, by="ip", value=ip)
                    return vm
        raise VmNotFound(f"{self.url} knows no VM with BIOS uuid {list(bios_uuids)}, "
                         f"DNS name {list(dns_names)} or IP {list(ips)}; are VMware Tools running?")

    def host_initiators(self, vm: vim.VirtualMachine) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(FC WWPNs, iSCSI IQNs) of the ESXi host running the VM."""
        with self._calls("reading the host's HBAs"):
            hbas = self._storage(vm).storageDeviceInfo.hostBusAdapter
        fc = tuple(wwn_hex(h.portWorldWideName) for h in hbas if isinstance(h, vim.host.FibreChannelHba))
        iqns = tuple(h.iScsiName for h in hbas if isinstance(h, vim.host.InternetScsiHba) and h.iScsiName)
        return fc, iqns

    def vm_npiv_wwpns(self, vm: vim.VirtualMachine) -> tuple[str, ...]:
        """The VM's NPIV port WWPNs; empty when NPIV is off."""
        with self._calls("reading the VM's NPIV WWPNs"):
            wwpns = vm.config.npivPortWorldWideName or []
        return tuple(wwn_hex(w) for w in wwpns)

    def rescan(self, vm: vim.VirtualMachine) -> None:
        """Rescan all HBAs of the VM's host for LUNs that were mapped or unmapped."""
        with self._calls("rescanning the host's HBAs"):
            self._storage(vm).RescanAllHba()
        log.info("esxi.rescanned", vm=vm._moId)

    def find_lun(self, vm: vim.VirtualMachine, uid: str) -> LunInfo | None:
        """The LUN with page-83 id `uid` as the VM's host sees it, None if it does not."""
        wanted = "naa." + normalize_uid(uid).lower()
        with self._calls(f"looking for LUN {uid}"):
            luns = self._storage(vm).storageDeviceInfo.scsiLun
        for lun in luns:
            if (lun.canonicalName or "").lower() == wanted:
                return LunInfo(uid=normalize_uid(uid), canonical_name=lun.canonicalName,
                               uuid=lun.uuid, device_name=lun.deviceName)
        return None

    def attach_prdm(self, vm: vim.VirtualMachine, uid: str) -> AttachedDisk:
        """Attach LUN `uid` to the VM as a physical-mode RDM on the first free SCSI unit,
        adding a ParaVirtual SCSI controller when every unit is taken. Attaching a LUN the
        VM already has as a physical-mode RDM returns that disk."""
        lun = self.find_lun(vm, uid)
        if lun is None:
            raise LunNotVisible(f"LUN {normalize_uid(uid)} is not visible to the ESXi host of VM "
                                f"{self._name(vm)}; map it to the host's initiators and rescan")
        what = f"attaching LUN {lun.uid} to VM {self._name(vm)}"
        with self._calls(what, AttachFailed):
            devices = vm.config.hardware.device
            canonical = self._canonical_by_uuid(vm)
        present = source_disk(devices, lun.uid, canonical)
        if present is not None:
            return present
        slot = pick_controller_unit(devices)
        changes = [build_prdm_add(lun, slot.controller_key, slot.unit)]
        if slot.new_controller_bus is not None:
            changes.insert(0, build_controller_add(slot.controller_key, slot.new_controller_bus))
        self._reconfigure(vm, changes, what, AttachFailed)
        with self._calls(what, AttachFailed):
            attached = source_disk(vm.config.hardware.device, lun.uid, canonical)
        if attached is None:
            raise AttachFailed(f"{what}: vSphere reported success but the VM has no such disk")
        log.info("esxi.attached", vm=vm._moId, uid=lun.uid, controller_key=attached.controller_key,
                 unit=attached.unit, new_controller=slot.new_controller_bus is not None)
        return attached

    def detach_prdm(self, vm: vim.VirtualMachine, uid: str) -> bool:
        """Remove the VM's RDM of LUN `uid` and destroy its mapping file. False when the
        VM has no such RDM, so a repeated call (recovery) is harmless."""
        what = f"detaching LUN {normalize_uid(uid)} from VM {self._name(vm)}"
        with self._calls(what, DetachFailed):
            device = find_rdm_device(vm.config.hardware.device, uid, self._canonical_by_uuid(vm))
        if device is None:
            return False
        self._reconfigure(vm, [build_prdm_remove(device, destroy=True)], what, DetachFailed)
        log.info("esxi.detached", vm=vm._moId, uid=normalize_uid(uid), key=device.key)
        return True

    def list_rdms(self, vm: vim.VirtualMachine) -> list[AttachedDisk]:
        """Every raw disk mapping of the VM, physical and virtual mode."""
        with self._calls("listing the VM's RDMs"):
            return rdm_disks(vm.config.hardware.device, self._canonical_by_uuid(vm))

    def source_disk(self, vm: vim.VirtualMachine, uid: str) -> AttachedDisk | None:
        """The physical-mode RDM behind the guest's disk `uid`; None when no VM disk
        carries it (in-guest iSCSI). UnsupportedDisk for a vRDM or a VMFS virtual disk."""
        with self._calls(f"checking disk {uid}"):
            return source_disk(vm.config.hardware.device, uid, self._canonical_by_uuid(vm))

    def _storage(self, vm: vim.VirtualMachine) -> vim.host.StorageSystem:
        return vm.runtime.host.configManager.storageSystem

    def _canonical_by_uuid(self, vm: vim.VirtualMachine) -> dict[str, str]:
        luns = self._storage(vm).storageDeviceInfo.scsiLun
        return {lun.uuid.lower(): lun.canonicalName for lun in luns if lun.uuid}

    def _name(self, vm: vim.VirtualMachine) -> str:
        # Only for messages: a failing name lookup must not hide the real error.
        try:
            return vm.name
        except Exception:  # noqa: BLE001
            return vm._moId

    def _reconfigure(self, vm: vim.VirtualMachine, changes: list, what: str,
                     failure: type[EsxiError]) -> None:
        with self._calls(what, failure):
            task = vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=changes))
            self._wait(task, what)

    def _wait(self, task: vim.Task, what: str) -> None:
        """Wait for a task; its fault is raised as is, for _calls to translate."""
        def probe() -> Pending | None:
            info = task.info
            if info.state == vim.TaskInfo.State.success:
                return None
            if info.state == vim.TaskInfo.State.error:
                raise info.error
            return Pending(info.state)
        try:
            poll_until(probe, clock=time, interval=_POLL_FIRST_S, backoff=2, max_interval=_POLL_MAX_S,
                       deadline=self.timeout_s, what=what)
        except DeadlinePassed as exc:
            raise EsxiTimeout(f"{what}: task {task._moId} still {exc.progress} after {self.timeout_s:g} s") from None

    def _calls(self, what: str, failure: type[EsxiError] = EsxiError) -> AbstractContextManager[None]:
        return _translate(f"{what} on {self.url}", self.timeout_s, failure)


@contextmanager
def _translate(what: str, timeout_s: float, failure: type[EsxiError] = EsxiError) -> Iterator[None]:
    """pyVmomi, ssl and socket exceptions -> this adapter's errors, with `what` in front."""
    try:
        yield
    except EsxiError:
        raise
    except Exception as exc:
        error = _adapter_error(exc, what, timeout_s, failure)
        if error is None:
            raise
        raise error from exc


def _adapter_error(exc: BaseException, what: str, timeout_s: float,
                   failure: type[EsxiError]) -> EsxiError | None:
    if isinstance(exc, vim.fault.HostConnectFault) and exc.__context__ is not None:
        # pyVmomi's Connect reports any failure of its first request as this fault,
        # raised while handling the original error.
        inner = _adapter_error(exc.__context__, what, timeout_s, failure)
        if inner is not None:
            return inner
    if isinstance(exc, vim.fault.InvalidLogin):
        return LoginFailed(f"{what}: user name or password refused")
    if isinstance(exc, vim.fault.NotAuthenticated):
        return LoginFailed(f"{what}: the session is no longer logged in")
    if isinstance(exc, vmodl.MethodFault):
        # pyVmomi names fault classes by their dotted vmodl name (vim.fault.InvalidDeviceSpec).
        name = type(exc).__name__.rsplit(".", 1)[-1]
        return failure(f"{what}: {name}{': ' + exc.msg if exc.msg else ''}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return CertificateRejected(f"{what}: server certificate not trusted ({exc.verify_message})")
    if isinstance(exc, TimeoutError):
        return EsxiTimeout(f"{what}: no answer within {timeout_s:g} s")
    if isinstance(exc, (OSError, http.client.HTTPException)):
        return ConnectFailed(f"{what}: {type(exc).__name__}: {exc}")
    return None
