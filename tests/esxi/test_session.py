"""VSphereSession against the vcsim harness, with certificate verification on."""

from __future__ import annotations

import datetime
import socket
import threading

import pytest
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyVim.task import WaitForTask
from pyVmomi import vim

from adapters.esxi import errors
from adapters.esxi.session import VSphereSession
from tests.support.vcsim import FC_WWPNS, IQN, NPIV_WWPNS, PASSWORD, SELF_DNS, SELF_IP, SELF_UUID, TIMEOUT_MS, USER

UID1 = "60050760008D89C0D000000000000001"
UID2 = "60050760008D89C0D000000000000002"


def other_ca(path) -> str:
    """A CA that did not issue the harness's certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def never_leaks(exc: BaseException) -> None:
    seen = exc
    while seen is not None:
        assert PASSWORD not in str(seen) and PASSWORD not in repr(seen)
        seen = seen.__cause__ or seen.__context__


class TestConnect:
    def test_with_the_harness_ca(self, vcsim):
        with structlog.testing.capture_logs() as logs:
            session = VSphereSession.connect(vcsim.url, USER, PASSWORD, TIMEOUT_MS, cafile=vcsim.cafile)
        try:
            assert session.url == vcsim.url
            assert PASSWORD not in repr(session) and PASSWORD not in repr(vars(session))
            assert PASSWORD not in repr(logs)
        finally:
            session.close()

    def test_refuses_a_certificate_from_another_ca(self, vcsim, tmp_path):
        with pytest.raises(errors.CertificateRejected) as caught:
            VSphereSession.connect(vcsim.url, USER, PASSWORD, TIMEOUT_MS, cafile=other_ca(tmp_path / "other.pem"))
        assert vcsim.url in str(caught.value)
        never_leaks(caught.value)

    def test_system_cas_do_not_trust_a_loopback_simulator(self, vcsim):
        # pyVmomi alone would skip verification for 127.0.0.1.
        with pytest.raises(errors.CertificateRejected):
            VSphereSession.connect(vcsim.url, USER, PASSWORD, TIMEOUT_MS)

    def test_wrong_password(self, vcsim):
        wrong = PASSWORD + "-wrong"
        with structlog.testing.capture_logs() as logs, pytest.raises(errors.LoginFailed) as caught:
            VSphereSession.connect(vcsim.url, USER, wrong, TIMEOUT_MS, cafile=vcsim.cafile)
        assert "password refused" in str(caught.value)
        assert caught.value.code == 3000
        assert wrong not in str(caught.value) and wrong not in repr(logs)
        never_leaks(caught.value)

    def test_password_in_the_url_is_not_repeated(self, vcsim):
        url = vcsim.url.replace("https://", f"https://{USER}:{PASSWORD}@")
        with pytest.raises(errors.LoginFailed) as caught:
            VSphereSession.connect(url, USER, "wrong", TIMEOUT_MS, cafile=vcsim.cafile)
        never_leaks(caught.value)

    def test_nothing_listening(self, vcsim):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with pytest.raises(errors.ConnectFailed):
            VSphereSession.connect(f"https://127.0.0.1:{port}/sdk", USER, PASSWORD, TIMEOUT_MS, cafile=vcsim.cafile)

    def test_server_that_never_answers_times_out(self, vcsim):
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            accepted = []
            threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
            with pytest.raises(errors.EsxiTimeout, match="0.3 s"):
                VSphereSession.connect(f"https://127.0.0.1:{server.getsockname()[1]}/sdk",
                                       USER, PASSWORD, 300, cafile=vcsim.cafile)
            for conn, _ in accepted:
                conn.close()

    def test_plain_http_is_refused(self, vcsim):
        with pytest.raises(errors.ConnectFailed, match="https"):
            VSphereSession.connect(vcsim.url.replace("https:", "http:"), USER, PASSWORD, TIMEOUT_MS, cafile=vcsim.cafile)


class TestFindSelfVm:
    @pytest.mark.parametrize("how", [
        {"ips": [SELF_IP]},
        {"dns_names": [SELF_DNS]},
        {"bios_uuids": [SELF_UUID]},
        {"bios_uuids": [SELF_UUID.upper()]},
        # The guest's SMBIOS text: first three fields byte-swapped.
        {"bios_uuids": ["5c241f42-2b1a-4d3c-5e6f-00112233aabb"]},
        {"ips": ["198.51.100.1", SELF_IP], "dns_names": ["nobody.example.test"]},
    ])
    def test_found(self, esx, vcsim, how):
        assert esx.find_self_vm(**how).name == vcsim.vm_name

    def test_not_found(self, esx):
        with pytest.raises(errors.VmNotFound, match="198.51.100.1"):
            esx.find_self_vm(ips=["198.51.100.1"], dns_names=["nobody.example.test"],
                             bios_uuids=["00000000-0000-0000-0000-0000000000ff"])


class TestHost:
    def test_initiators(self, esx, self_vm):
        assert esx.host_initiators(self_vm) == (FC_WWPNS, (IQN,))

    def test_npiv_wwpns(self, esx, self_vm):
        assert esx.vm_npiv_wwpns(self_vm) == NPIV_WWPNS

    def test_lun_appears_and_goes_with_rescans(self, esx, vcsim, self_vm):
        assert esx.find_lun(self_vm, UID1) is None
        vcsim.map_luns(UID1)
        assert esx.find_lun(self_vm, UID1) is None  # not before the host rescans
        esx.rescan(self_vm)
        lun = esx.find_lun(self_vm, "naa." + UID1.lower())
        assert lun.uid == UID1
        assert lun.canonical_name == "naa." + UID1.lower()
        assert lun.device_name == "/vmfs/devices/disks/naa." + UID1.lower()
        assert UID1.lower() in lun.uuid
        vcsim.map_luns()
        esx.rescan(self_vm)
        assert esx.find_lun(self_vm, UID1) is None


def rdm_devices(vm) -> list:
    return [d for d in vm.config.hardware.device
            if isinstance(getattr(d, "backing", None), vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo)]


def mapping_files(vm) -> set[str]:
    """The .vmdk files in the VM's directory, through the datastore browser."""
    directory = vm.config.files.vmPathName.rsplit("/", 1)[0]
    task = vm.datastore[0].browser.SearchDatastore_Task(
        datastorePath=directory, searchSpec=vim.host.DatastoreBrowser.SearchSpec(matchPattern=["*.vmdk"]))
    WaitForTask(task)
    return {f"{directory}/{f.path}" for f in task.info.result.file}


class TestAttachDetach:
    def test_attach_physical_rdm_then_the_next_unit(self, esx, vcsim, self_vm):
        vcsim.map_luns(UID1, UID2)
        esx.rescan(self_vm)
        first = esx.attach_prdm(self_vm, UID1)
        second = esx.attach_prdm(self_vm, UID2.lower())

        devices = {d.key: d for d in rdm_devices(self_vm)}
        assert set(devices) == {first.key, second.key}
        for attached, uid in ((first, UID1), (second, UID2)):
            device = devices[attached.key]
            assert device.backing.compatibilityMode == "physicalMode"
            assert device.backing.deviceName.endswith("naa." + uid.lower())
            assert (device.controllerKey, device.unitNumber) == (attached.controller_key, attached.unit)
            assert attached.uid == uid and attached.physical
        assert second.controller_key == first.controller_key
        assert second.unit == (first.unit + 1 if first.unit != 6 else 8)
        # (Stock vcsim itself puts the model's cdrom and disk on the same unit; only ours count.)
        others = {(d.controllerKey, d.unitNumber) for d in self_vm.config.hardware.device if d.key not in devices}
        assert {(first.controller_key, first.unit), (second.controller_key, second.unit)}.isdisjoint(others)
        assert {first.file_name, second.file_name} <= mapping_files(self_vm)
        assert esx.list_rdms(self_vm) == sorted([first, second], key=lambda d: d.unit)

    def test_attaching_twice_returns_the_same_disk(self, esx, vcsim, self_vm):
        vcsim.map_luns(UID1)
        esx.rescan(self_vm)
        assert esx.attach_prdm(self_vm, UID1) == esx.attach_prdm(self_vm, UID1)
        assert len(rdm_devices(self_vm)) == 1

    def test_full_controller_gets_a_new_paravirtual_controller(self, esx, vcsim, self_vm):
        uids = [f"60050760008D89C0D0000000000001{n:02X}" for n in range(16)]
        vcsim.map_luns(*uids)
        esx.rescan(self_vm)
        controllers = [d for d in self_vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualSCSIController)]
        assert len(controllers) == 1
        attached = [esx.attach_prdm(self_vm, uid) for uid in uids]

        controllers = [d for d in self_vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualSCSIController)]
        added = [c for c in controllers if c.busNumber != 0]
        assert len(added) == 1 and isinstance(added[0], vim.vm.device.ParaVirtualSCSIController)
        on_first = [d for d in attached if d.controller_key != added[0].key]
        on_new = [d for d in attached if d.controller_key == added[0].key]
        assert 7 not in {d.unit for d in on_first} and max(d.unit for d in on_first) == 15
        assert on_new and on_new[0].unit == 0
        assert len({(d.controller_key, d.unit) for d in attached}) == len(uids)

    def test_detach_removes_the_disk_and_its_mapping_file(self, esx, vcsim, self_vm):
        vcsim.map_luns(UID1, UID2)
        esx.rescan(self_vm)
        gone = esx.attach_prdm(self_vm, UID1)
        kept = esx.attach_prdm(self_vm, UID2)
        assert esx.detach_prdm(self_vm, UID1) is True
        assert [d.key for d in rdm_devices(self_vm)] == [kept.key]
        assert gone.file_name not in mapping_files(self_vm)
        assert kept.file_name in mapping_files(self_vm)
        assert esx.detach_prdm(self_vm, UID1) is False

    def test_detach_after_the_array_unmapped_the_lun(self, esx, vcsim, self_vm):
        vcsim.map_luns(UID1)
        esx.rescan(self_vm)
        esx.attach_prdm(self_vm, UID1)
        vcsim.map_luns()
        esx.rescan(self_vm)
        assert esx.detach_prdm(self_vm, UID1) is True
        assert rdm_devices(self_vm) == []

    def test_invisible_lun(self, esx, vcsim, self_vm):
        vcsim.map_luns(UID1)  # mapped, but the host has not rescanned
        with pytest.raises(errors.LunNotVisible, match=UID1) as caught:
            esx.attach_prdm(self_vm, UID1)
        assert caught.value.code == 3008
        assert rdm_devices(self_vm) == []


class TestSourceDisk:
    def test_physical_rdm(self, esx, vcsim, self_vm):
        vcsim.map_luns(UID1)
        esx.rescan(self_vm)
        attached = esx.attach_prdm(self_vm, UID1)
        assert esx.source_disk(self_vm, UID1) == attached
        assert esx.source_disk(self_vm, UID2) is None

    def test_vmfs_virtual_disk_is_unsupported(self, esx, vcsim, self_vm):
        # With an RDM present, so the harness's stock-path reconfigure is exercised too.
        vcsim.map_luns(UID1)
        esx.rescan(self_vm)
        esx.attach_prdm(self_vm, UID1)
        controller = next(d for d in self_vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualSCSIController))
        used = {d.unitNumber for d in self_vm.config.hardware.device if d.controllerKey == controller.key}
        unit = min(set(range(16)) - used - {7})
        vmdk = vim.vm.device.VirtualDisk(
            key=-1, controllerKey=controller.key, unitNumber=unit, capacityInKB=1024,
            backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                fileName="", diskMode="persistent", uuid="6000C298-5a4b-3c2d-1e0f-a1b2c3d4e5f6"))
        add = vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=vmdk)
        WaitForTask(self_vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[add])))
        added = next(d for d in self_vm.config.hardware.device
                     if isinstance(d.backing, vim.vm.device.VirtualDisk.FlatVer2BackingInfo)
                     and d.backing.uuid == vmdk.backing.uuid)
        try:
            with pytest.raises(errors.UnsupportedDisk, match="VMFS virtual disk.*unsupported"):
                esx.source_disk(self_vm, "6000C2985A4B3C2D1E0FA1B2C3D4E5F6")
            assert len(rdm_devices(self_vm)) == 1
        finally:
            remove = vim.vm.device.VirtualDeviceSpec(operation="remove", fileOperation="destroy", device=added)
            WaitForTask(self_vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[remove])))

