"""WindowsHost against a scripted runner: the scripts it sends and the replies it reads.

Replies are shaped on the objects the scripts build from real cmdlet output
(MSFT_InitiatorPort, MSFT_Disk): numbers as ConvertTo-Json prints them.
"""

import pytest

from adapters.host import windows as w
from adapters.host.base import DiskTimeout, HostError, VolumeNotFound
from core.ports import DiskId, Initiators
from adapters.host.windows import WindowsHost, access_path
from tests.host.conftest import HOSTILE

UID = "60050760008D89C0D000000000000001"
DISK1 = {"Number": 1, "UniqueId": UID, "UniqueIdFormat": 3, "SerialNumber": UID + " ",
         "IsOffline": False}
# A Hyper-V virtual disk seen from its guest: Microsoft's own NAA id.
VHDX = {"Number": 0, "UniqueId": "60022480E3F7B5C2D1A0B9C8D7E6F5A4", "UniqueIdFormat": 3,
        "SerialNumber": "", "IsOffline": False}
# A local SATA disk: a vendor-specific id, not an NAA one.
SATA = {"Number": 2, "UniqueId": "SCSI\\DISK&VEN_&PROD_SAMSUNG_SSD\\4&1B2C3D&0&000000",
        "UniqueIdFormat": 0, "SerialNumber": "S4EWNX0N123456", "IsOffline": False}


def test_initiators(runner):
    runner.expect(w.INITIATORS, {}, [
        {"NodeAddress": "20000090fa8c1d2e", "PortAddress": "10000090fa8c1d2e", "ConnectionType": 1},
        {"NodeAddress": "20000090fa8c1d2f", "PortAddress": "10000090fa8c1d2f", "ConnectionType": 1},
        {"NodeAddress": "iqn.1991-05.com.microsoft:win-app01.example.local",
         "PortAddress": "ISCSI ANY PORT", "ConnectionType": 2},
        {"NodeAddress": "500605b00a1b2c3d", "PortAddress": "500605b00a1b2c3d", "ConnectionType": 3},
    ])
    assert WindowsHost(runner).initiators() == Initiators(
        ("10000090FA8C1D2E", "10000090FA8C1D2F"),
        ("iqn.1991-05.com.microsoft:win-app01.example.local",))


def test_initiators_none(runner):
    runner.expect(w.INITIATORS, {}, [])
    assert WindowsHost(runner).initiators() == Initiators()


@pytest.mark.parametrize("volume,path", [
    ("E:", "E:\\"), ("e:\\", "E:\\"), ("C:\\mnt\\data", "C:\\mnt\\data\\"),
    ("\\\\?\\Volume{3f2a8c1e-5b7d-11ee-8c99-0242ac120002}\\",
     "\\\\?\\Volume{3f2a8c1e-5b7d-11ee-8c99-0242ac120002}\\"),
    ("\\\\?\\Volume{3f2a8c1e-5b7d-11ee-8c99-0242ac120002}",
     "\\\\?\\Volume{3f2a8c1e-5b7d-11ee-8c99-0242ac120002}\\"),
])
def test_access_path(volume, path):
    assert access_path(volume) == path


def test_volume_to_disk(runner):
    runner.expect(w.VOLUME_TO_DISK, {"AccessPath": "E:\\"}, DISK1)
    assert WindowsHost(runner).volume_to_disk("E:") == DiskId(1, UID, UID)


def test_volume_to_disk_without_naa(runner):
    runner.expect(w.VOLUME_TO_DISK, {"AccessPath": "D:\\"}, SATA)
    assert WindowsHost(runner).volume_to_disk("D:") == DiskId(2, None, "S4EWNX0N123456")


def test_volume_to_disk_of_a_virtual_disk_has_its_own_id(runner):
    runner.expect(w.VOLUME_TO_DISK, {"AccessPath": "C:\\"}, VHDX)
    assert WindowsHost(runner).volume_to_disk("C:") == \
        DiskId(0, "60022480E3F7B5C2D1A0B9C8D7E6F5A4", None)


def test_volume_not_found(runner):
    runner.expect(w.VOLUME_TO_DISK, {"AccessPath": "Q:\\"}, None)
    with pytest.raises(VolumeNotFound, match="Q:"):
        WindowsHost(runner).volume_to_disk("Q:")


def test_hostile_volume_travels_as_a_parameter(runner):
    runner.expect(w.VOLUME_TO_DISK, {"AccessPath": HOSTILE + "\\"}, None)
    with pytest.raises(VolumeNotFound):
        WindowsHost(runner).volume_to_disk(HOSTILE)
    assert HOSTILE not in runner.seen[0].script


def test_find_disk(runner):
    runner.expect(w.FIND_DISK, {"UniqueId": UID}, [DISK1])
    runner.expect(w.FIND_DISK, {"UniqueId": UID}, [])
    host = WindowsHost(runner)
    assert host.find_disk(UID.lower()) == DiskId(1, UID, UID)
    assert host.find_disk(UID) is None


def test_find_disk_on_several_paths_without_mpio(runner):
    runner.expect(w.FIND_DISK, {"UniqueId": UID}, [DISK1, {**DISK1, "Number": 4}])
    with pytest.raises(HostError, match="disks 1, 4 .*MPIO"):
        WindowsHost(runner).find_disk(UID)


def test_rescan(runner):
    runner.expect(w.RESCAN, {}, True)
    WindowsHost(runner).rescan()


def test_bring_online(runner):
    runner.expect(w.SET_OFFLINE, {"UniqueId": UID, "Offline": False}, [DISK1])
    assert WindowsHost(runner).bring_online(UID) == DiskId(1, UID, UID)


def test_bring_online_refuses_a_disk_that_stays_offline(runner):
    runner.expect(w.SET_OFFLINE, {"UniqueId": UID, "Offline": False}, [{**DISK1, "IsOffline": True}])
    with pytest.raises(HostError, match="stayed offline"):
        WindowsHost(runner).bring_online(UID)


def test_bring_online_missing_disk(runner):
    runner.expect(w.SET_OFFLINE, {"UniqueId": UID, "Offline": False}, [])
    with pytest.raises(HostError, match=UID):
        WindowsHost(runner).bring_online(UID)


def test_release_takes_the_disk_offline_and_may_repeat(runner):
    runner.expect(w.SET_OFFLINE, {"UniqueId": UID, "Offline": True}, [{**DISK1, "IsOffline": True}])
    runner.expect(w.SET_OFFLINE, {"UniqueId": UID, "Offline": True}, [])
    host = WindowsHost(runner)
    assert host.release(UID) is True
    assert host.release(UID) is False


def test_wait_for_disk_rescans_between_polls(runner, clock):
    runner.expect(w.FIND_DISK, {"UniqueId": UID}, [])
    runner.expect(w.RESCAN, {}, True)
    runner.expect(w.FIND_DISK, {"UniqueId": UID}, [DISK1])
    assert WindowsHost(runner, clock).wait_for_disk(UID, 60, rescan_once=False).number_or_device == 1
    assert clock.sleeps == [2.0]


def test_wait_for_disk_gives_up(runner, clock):
    for _ in range(3):
        runner.expect(w.FIND_DISK, {"UniqueId": UID}, [])
    with pytest.raises(DiskTimeout):
        WindowsHost(runner, clock, poll_s=2.0).wait_for_disk(UID, 4, rescan_once=True)


def test_wait_for_removal(runner, clock):
    runner.expect(w.FIND_DISK, {"UniqueId": UID}, [DISK1])
    runner.expect(w.RESCAN, {}, True)
    runner.expect(w.FIND_DISK, {"UniqueId": UID}, [])
    assert WindowsHost(runner, clock).wait_for_removal(UID, 0, 45, rescan_once=False) is True
