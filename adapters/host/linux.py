"""Linux disk discovery through sysfs, udev's /dev/disk/by-id and util-linux tools.

The roots (sysfs, dev, etc) are parameters so that tests build a fake tree under a
temporary directory; lsblk, findmnt and fsfreeze go through an injectable command
runner so that tests can replay their real JSON output.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from core.log import get_logger
from adapters.host.base import HostError, PollingWaits, UnsupportedVolume, VolumeNotFound, normalize_wwpn
from core.ids import volume_uid
from core.ports import Clock, DiskId, Initiators, SystemClock

log = get_logger(__name__)


class CommandFailed(HostError):
    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv)}: exit {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


CommandRunner = Callable[[list[str]], str]


def run_command(argv: list[str], timeout_s: float = 60.0) -> str:
    """stdout of argv; CommandFailed on a non-zero exit. C locale: messages are matched."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False,
                              env={**os.environ, "LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        raise HostError(f"{' '.join(argv)}: no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise HostError(f"{argv[0]}: {exc}") from None
    if done.returncode != 0:
        raise CommandFailed(argv, done.returncode, done.stderr)
    return done.stdout


def read_vpd_serial(page: bytes) -> str | None:
    """VPD page 0x80: 4-byte header whose bytes 2-3 give the length, then the ASCII serial."""
    if len(page) < 4 or page[1] != 0x80:
        return None
    length = int.from_bytes(page[2:4], "big")
    return page[4:4 + length].decode("ascii", "replace").strip(" \0") or None


class LinuxHost(PollingWaits):
    def __init__(self, sysfs_root: Path = Path("/sys"), dev_root: Path = Path("/dev"),
                 etc_root: Path = Path("/etc"), run: CommandRunner = run_command,
                 clock: Clock | None = None, poll_s: float = 1.0) -> None:
        self.sysfs = Path(sysfs_root)
        self.dev = Path(dev_root)
        self.etc = Path(etc_root)
        self.run = run
        self.clock = clock or SystemClock()
        self.poll_s = poll_s

    def initiators(self) -> Initiators:
        fc = [normalize_wwpn(p.read_text())
              for p in sorted(self.sysfs.glob("class/fc_host/host*/port_name"))]
        return Initiators(tuple(dict.fromkeys(fc)), self._iqns())

    def bios_uuid(self) -> str | None:
        try:
            return (self.sysfs / "class" / "dmi" / "id" / "product_uuid").read_text().strip() or None
        except OSError:         # readable by root only
            return None

    def _iqns(self) -> tuple[str, ...]:
        path = self.etc / "iscsi" / "initiatorname.iscsi"
        if not path.exists():
            return ()
        names = [line.split("=", 1)[1].strip() for line in path.read_text().splitlines()
                 if line.strip().startswith("InitiatorName=")]
        return tuple(n for n in names if n)

    def rescan(self) -> None:
        # "- - -": every channel, target and LUN of the host adapter.
        for scan in sorted(self.sysfs.glob("class/scsi_host/host*/scan")):
            try:
                scan.write_text("- - -")
            except OSError as exc:
                # One adapter refusing must not hide the LUNs behind the others.
                log.warning("scsi host rescan failed", host=scan.parent.name, error=str(exc))

    def find_disk(self, uid: str) -> DiskId | None:
        # udev's link names the node to use (the multipath map when there is one); sysfs
        # knows a new LUN before udev has made its links.
        link = self.dev / "disk" / "by-id" / f"wwn-0x{uid.lower()}"
        if link.is_symlink():
            node = link.resolve()
            return DiskId(str(node), uid.upper(), self._serial(node.name))
        paths = self._scsi_devices(uid)
        if not paths:
            return None
        if len(paths) > 1:
            raise HostError(f"devices {', '.join(paths)} all carry {uid} and no multipath "
                            "map is linked to it: multipath is not set up (manual 2.1)")
        return DiskId(str(self.dev / paths[0]), uid.upper(), self._serial(paths[0]))

    def bring_online(self, uid: str) -> DiskId:
        disk = self.find_disk(uid)
        if disk is None:
            raise HostError(f"no disk carries {uid}")
        # SCSI devices arrive running; error handling may have set a path offline.
        for name in self._scsi_devices(uid):
            state = self.sysfs / "block" / name / "device" / "state"
            if state.read_text().strip() == "offline":
                state.write_text("running")
        return disk

    def release(self, uid: str) -> bool:
        paths = self._scsi_devices(uid)
        for name in paths:
            log.info("deleting scsi device", device=name, uid=uid)
            (self.sysfs / "block" / name / "device" / "delete").write_text("1")
        return bool(paths)

    def _scsi_devices(self, uid: str) -> list[str]:
        """sdX whose page 0x83 id (device/wwid, e.g. naa.6005…) is uid."""
        found = []
        for wwid in sorted(self.sysfs.glob("block/sd*/device/wwid")):
            try:
                text = wwid.read_text()
            except FileNotFoundError:  # deleted since the glob: it is going away anyway
                continue
            if volume_uid(text) == uid.upper():
                found.append(wwid.parent.parent.name)
        return found

    def _serial(self, name: str) -> str | None:
        block = self.sysfs / "block" / name
        # A multipath map has no VPD of its own; its paths (slaves) do.
        for device in [block / "device", *sorted(block.glob("slaves/*/device"))]:
            page = device / "vpd_pg80"
            if page.exists():
                return read_vpd_serial(page.read_bytes())
        return None

    def volume_to_disk(self, volume: str) -> DiskId:
        source = volume if Path(volume).is_relative_to(self.dev) else self._mount_source(volume)
        tree = json.loads(self.run(["lsblk", "-J", "-p", "-s", "-o", "NAME,TYPE,WWN,SERIAL",
                                    source]))
        disks = list({d["name"]: d for d in _disks_under(tree["blockdevices"])}.values())
        if len(disks) != 1:
            what = ", ".join(d["name"] for d in disks) or "no SCSI disk"
            raise UnsupportedVolume(f"{volume} ({source}) is on {what}: only a volume on one "
                                    "array disk can be copied")
        disk = disks[0]
        naa = disk.get("wwn") or next((c.get("wwn") for c in disk.get("children", ())
                                       if c.get("wwn")), None)
        return DiskId(disk["name"], volume_uid(naa) if naa else None, disk.get("serial") or None)

    def _mount_source(self, path: str) -> str:
        try:
            out = json.loads(self.run(["findmnt", "-J", "-T", path, "-o", "TARGET,SOURCE"]))
        except CommandFailed:
            raise VolumeNotFound(f"{path} is not on a mounted file system") from None
        source = out["filesystems"][0]["source"]
        # A bind mount shows as /dev/sdb1[/sub/dir].
        return source.split("[", 1)[0]

    def freeze(self, volume: str) -> None:
        log.info("fsfreeze", mount=volume)
        self.run(["fsfreeze", "-f", volume])

    def thaw(self, volume: str) -> None:
        log.info("fsfreeze thaw", mount=volume)
        try:
            self.run(["fsfreeze", "-u", volume])
        except CommandFailed as exc:
            # The kernel answers EINVAL when the file system is not frozen.
            if "Invalid argument" not in exc.stderr:
                raise
            log.info("was not frozen", mount=volume)


def _disks_under(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The disks (or multipath maps) a volume sits on, from `lsblk -s`'s inverted tree."""
    for node in nodes:
        if node["type"] in ("disk", "mpath"):
            yield node
        else:
            yield from _disks_under(node.get("children", []))
