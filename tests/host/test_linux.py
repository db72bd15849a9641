"""LinuxHost on a fake sysfs/dev/etc tree, with lsblk/findmnt output replayed.

The JSON below has the layout util-linux 2.38 prints (`lsblk -J -p -s -o
NAME,TYPE,WWN,SERIAL`, `findmnt -J -T <path> -o TARGET,SOURCE`).
"""

import json

import pytest

from adapters.host.base import HostError, UnsupportedVolume, VolumeNotFound
from core.ports import DiskId, Initiators
from adapters.host.linux import CommandFailed, LinuxHost, read_vpd_serial

UID = "60050760008D89C0D000000000000001"
UID2 = "60050760008D89C0D000000000000002"


class Replay:
    """Answers commands from a table of argv -> stdout (or CommandFailed)."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        answer = self.answers[tuple(argv)]
        if isinstance(answer, CommandFailed):
            raise answer
        return answer if isinstance(answer, str) else json.dumps(answer, indent=3)


def host(tree, run=None, clock=None):
    return LinuxHost(tree.sys, tree.dev, tree.etc, run=run or Replay({}), clock=clock)


def test_initiators(tree):
    tree.fc_host(1, "10000090fa8c1d2e")
    tree.fc_host(2, "10000090fa8c1d2f")
    tree.initiator_name("## DO NOT EDIT OR REMOVE THIS FILE!\n"
                        "## If you remove this file, the iSCSI daemon will not start.\n"
                        "InitiatorName=iqn.1993-08.org.debian:01:5c2f9e1a7b3d\n")
    assert host(tree).initiators() == Initiators(
        ("10000090FA8C1D2E", "10000090FA8C1D2F"), ("iqn.1993-08.org.debian:01:5c2f9e1a7b3d",))


def test_initiators_none(tree):
    assert host(tree).initiators() == Initiators()


def test_rescan_writes_every_scan_file(tree):
    tree.fc_host(1, "10000090fa8c1d2e")
    scans = [tree.scsi_host(n) for n in (0, 1, 7)]
    host(tree).rescan()
    assert [s.read_text() for s in scans] == ["- - -"] * 3


def test_rescan_goes_on_past_a_refusing_adapter(tree):
    bad, good = tree.scsi_host(0), tree.scsi_host(1)
    bad.unlink()
    bad.mkdir()  # writing to a directory fails like a refusing adapter
    host(tree).rescan()
    assert good.read_text() == "- - -"


def test_find_disk_by_udev_link(tree):
    tree.disk("sdb", UID, serial=UID)
    assert host(tree).find_disk(UID) == DiskId(str(tree.dev / "sdb"), UID, UID)


def test_find_disk_by_sysfs_before_udev_links_it(tree):
    tree.disk("sdc", UID, link=False)
    tree.disk("sdd", UID2, link=False)
    assert host(tree).find_disk(UID.lower()) == DiskId(str(tree.dev / "sdc"), UID, None)


def test_find_disk_absent(tree):
    tree.disk("sdb", UID2)
    assert host(tree).find_disk(UID) is None


def test_find_disk_through_a_multipath_map(tree):
    for name in ("sdb", "sdc"):
        tree.disk(name, UID, serial=UID, link=False)
    dm = tree.sys / "block" / "dm-3"
    (dm / "slaves").mkdir(parents=True)
    for name in ("sdb", "sdc"):
        (dm / "slaves" / name).symlink_to(tree.sys / "block" / name)
    (tree.dev / "dm-3").touch()
    tree.link(UID, "dm-3")
    assert host(tree).find_disk(UID) == DiskId(str(tree.dev / "dm-3"), UID, UID)


def test_find_disk_on_several_paths_without_multipath(tree):
    tree.disk("sdb", UID, link=False)
    tree.disk("sdc", UID, link=False)
    with pytest.raises(HostError, match="sdb, sdc .*multipath"):
        host(tree).find_disk(UID)


def test_release_deletes_every_path_and_may_repeat(tree):
    devices = [tree.disk(name, UID, link=False) for name in ("sdb", "sdc")]
    other = tree.disk("sdd", UID2)
    h = host(tree)
    assert h.release(UID) is True
    assert [(d / "delete").read_text() for d in devices] == ["1", "1"]
    assert (other / "delete").read_text() == ""
    for d in devices:  # the kernel removes them
        (d / "wwid").unlink()
    assert h.release(UID) is False


def test_bring_online_sets_offline_paths_running(tree):
    device = tree.disk("sdb", UID, state="offline")
    assert host(tree).bring_online(UID).number_or_device == str(tree.dev / "sdb")
    assert (device / "state").read_text() == "running"


def test_bring_online_missing(tree):
    with pytest.raises(HostError, match=UID):
        host(tree).bring_online(UID)


def test_wait_for_disk_rescans_until_it_arrives(tree, clock):
    h = host(tree, clock=clock)
    polls = []

    def rescan():
        polls.append(1)
        if len(polls) == 2:  # the LUN shows up after the second scan
            tree.disk("sde", UID)
    h.rescan = rescan
    assert h.wait_for_disk(UID, 30, rescan_once=False).number_or_device == str(tree.dev / "sde")
    assert len(polls) == 2


def test_vpd_serial():
    assert read_vpd_serial(bytes([0, 0x80, 0, 8]) + b"75A1B2C3") == "75A1B2C3"
    assert read_vpd_serial(bytes([0, 0x80, 0, 10]) + b"  ABC123\0\0") == "ABC123"
    assert read_vpd_serial(bytes([0, 0x83, 0, 4]) + b"abcd") is None
    assert read_vpd_serial(b"") is None


FINDMNT_DATA = {"filesystems": [{"target": "/srv/data", "source": "/dev/sdb1"}]}
LSBLK_PART = {"blockdevices": [
    {"name": "/dev/sdb1", "type": "part", "wwn": "0x60050760008d89c0d000000000000001",
     "serial": "60050760008D89C0D000000000000001",
     "children": [
         {"name": "/dev/sdb", "type": "disk", "wwn": "0x60050760008d89c0d000000000000001",
          "serial": "60050760008D89C0D000000000000001"}]}]}
LSBLK = ("lsblk", "-J", "-p", "-s", "-o", "NAME,TYPE,WWN,SERIAL")
FINDMNT = ("findmnt", "-J", "-T")


def test_volume_to_disk_from_a_mount_path(tree):
    run = Replay({(*FINDMNT, "/srv/data", "-o", "TARGET,SOURCE"): FINDMNT_DATA,
                  (*LSBLK, "/dev/sdb1"): LSBLK_PART})
    assert host(tree, run).volume_to_disk("/srv/data") == DiskId("/dev/sdb", UID, UID)
    assert [c[0] for c in run.calls] == ["findmnt", "lsblk"]


def test_volume_to_disk_from_a_device(tree):
    device = str(tree.dev / "sdb1")
    lsblk = json.loads(json.dumps(LSBLK_PART).replace("/dev/sdb1", device))
    run = Replay({(*LSBLK, device): lsblk})
    assert host(tree, run).volume_to_disk(device) == DiskId("/dev/sdb", UID, UID)
    assert [c[0] for c in run.calls] == ["lsblk"]


def test_volume_to_disk_of_a_bind_mount(tree):
    run = Replay({(*FINDMNT, "/srv/data/sub", "-o", "TARGET,SOURCE"):
                  {"filesystems": [{"target": "/srv/bind", "source": "/dev/sdb1[/sub]"}]},
                  (*LSBLK, "/dev/sdb1"): LSBLK_PART})
    assert host(tree, run).volume_to_disk("/srv/data/sub").naa_uid == UID


def test_volume_to_disk_on_multipath(tree):
    path = {"type": "disk", "wwn": "0x60050760008d89c0d000000000000001",
            "serial": "60050760008D89C0D000000000000001"}
    run = Replay({(*FINDMNT, "/srv/data", "-o", "TARGET,SOURCE"):
                  {"filesystems": [{"target": "/srv/data", "source": "/dev/mapper/mpatha-part1"}]},
                  (*LSBLK, "/dev/mapper/mpatha-part1"): {"blockdevices": [
                      {"name": "/dev/mapper/mpatha-part1", "type": "part", "wwn": None,
                       "serial": None, "children": [
                           {"name": "/dev/mapper/mpatha", "type": "mpath", "wwn": None,
                            "serial": None, "children": [
                                {"name": "/dev/sdb", **path}, {"name": "/dev/sdc", **path}]}]}]}})
    assert host(tree, run).volume_to_disk("/srv/data") == DiskId("/dev/mapper/mpatha", UID, None)


def test_volume_spanning_two_disks_is_refused(tree):
    run = Replay({(*FINDMNT, "/srv/lv", "-o", "TARGET,SOURCE"):
                  {"filesystems": [{"target": "/srv/lv", "source": "/dev/mapper/vg0-lv0"}]},
                  (*LSBLK, "/dev/mapper/vg0-lv0"): {"blockdevices": [
                      {"name": "/dev/mapper/vg0-lv0", "type": "lvm", "wwn": None, "serial": None,
                       "children": [
                           {"name": "/dev/sdb", "type": "disk", "wwn": "0x" + UID.lower(),
                            "serial": None},
                           {"name": "/dev/sdc", "type": "disk", "wwn": "0x" + UID2.lower(),
                            "serial": None}]}]}})
    with pytest.raises(UnsupportedVolume, match="/dev/sdb, /dev/sdc"):
        host(tree, run).volume_to_disk("/srv/lv")


def test_volume_on_a_loop_device_is_refused(tree):
    run = Replay({(*FINDMNT, "/mnt/img", "-o", "TARGET,SOURCE"):
                  {"filesystems": [{"target": "/mnt/img", "source": "/dev/loop0"}]},
                  (*LSBLK, "/dev/loop0"): {"blockdevices": [
                      {"name": "/dev/loop0", "type": "loop", "wwn": None, "serial": None}]}})
    with pytest.raises(UnsupportedVolume, match="no SCSI disk"):
        host(tree, run).volume_to_disk("/mnt/img")


def test_volume_not_mounted(tree):
    argv = (*FINDMNT, "/nowhere", "-o", "TARGET,SOURCE")
    run = Replay({argv: CommandFailed(list(argv), 1, "")})
    with pytest.raises(VolumeNotFound, match="/nowhere"):
        host(tree, run).volume_to_disk("/nowhere")


def test_thaw_of_a_volume_that_is_not_frozen_does_nothing(tree):
    argv = ("fsfreeze", "-u", "/srv/data")
    run = Replay({argv: CommandFailed(list(argv), 1, "fsfreeze: /srv/data: unfreeze failed: "
                                                     "Invalid argument\n")})
    host(tree, run).thaw("/srv/data")


def test_thaw_reports_other_failures(tree):
    argv = ("fsfreeze", "-u", "/srv/data")
    run = Replay({argv: CommandFailed(list(argv), 1, "fsfreeze: cannot open /srv/data: "
                                                     "No such file or directory\n")})
    with pytest.raises(CommandFailed, match="No such file"):
        host(tree, run).thaw("/srv/data")
