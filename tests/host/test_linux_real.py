"""fsfreeze, findmnt and lsblk for real, on an ext4 image mounted through a loop device.

Needs root, losetup, mkfs.ext4, mount and fsfreeze. Only the loop file system is ever
frozen, and the test thaws it itself in `finally`: a write to a frozen file system
blocks in D state, which nothing can interrupt.
"""

import os
import shutil
import subprocess

import pytest

from adapters.host.base import UnsupportedVolume
from adapters.host.linux import CommandFailed, LinuxHost, run_command

TOOLS = ("losetup", "mkfs.ext4", "mount", "umount", "fsfreeze", "findmnt", "lsblk")


def _sh(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture
def loop_mount(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to attach a loop device and mount it")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    image, mount = tmp_path / "fs.img", tmp_path / "mnt"
    mount.mkdir()
    with open(image, "wb") as f:
        f.truncate(32 * 1024 * 1024)
    _sh("mkfs.ext4", "-q", "-F", str(image))
    try:
        device = _sh("losetup", "--find", "--show", str(image)).strip()
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"no loop device available: {exc.stderr.strip()}")
    try:
        _sh("mount", device, str(mount))
    except subprocess.CalledProcessError as exc:
        _sh("losetup", "-d", device)
        pytest.skip(f"cannot mount the image: {exc.stderr.strip()}")
    try:
        yield device, mount
    finally:
        subprocess.run(["fsfreeze", "-u", str(mount)], capture_output=True, timeout=60)
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=60)
        subprocess.run(["losetup", "-d", device], capture_output=True, timeout=60)


def test_freeze_and_thaw(loop_mount):
    _, mount = loop_mount
    # Never the root file system or the one holding the temporary directory.
    assert os.stat(mount).st_dev not in (os.stat("/").st_dev, os.stat(mount.parent).st_dev)
    host = LinuxHost()
    try:
        host.freeze(str(mount))
        # A second freeze is refused with EBUSY only while the first one holds.
        with pytest.raises(CommandFailed, match="Device or resource busy"):
            run_command(["fsfreeze", "-f", str(mount)])
    finally:
        subprocess.run(["fsfreeze", "-u", str(mount)], capture_output=True, timeout=60)
    host.thaw(str(mount))  # already thawed: nothing to do
    (mount / "after-thaw").write_text("writable again")


def test_volume_on_a_loop_device_is_unsupported(loop_mount):
    device, mount = loop_mount
    with pytest.raises(UnsupportedVolume, match=device):
        LinuxHost().volume_to_disk(str(mount))
