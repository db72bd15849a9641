import pytest

from adapters.host.base import DiskTimeout, HostError, PollingWaits, normalize_wwpn
from core.ports import DiskId

UID = "60050760008D89C0D000000000000001"


@pytest.mark.parametrize("text", ["50000000000000001", "iqn.1994-05.com.redhat:x", ""])
def test_normalize_wwpn_refuses(text):
    """The spellings are core.ids' (tests/core/test_ids.py); a host adapter refuses the rest."""
    with pytest.raises(HostError):
        normalize_wwpn(text)


class Host(PollingWaits):
    """find_disk answers from `present_polls` in turn, then `present_default`."""

    def __init__(self, clock, present_polls, present_default=False):
        self.clock, self.poll_s = clock, 2.0
        self.present = list(present_polls)
        self.present_default = present_default
        self.rescans = 0

    def find_disk(self, uid):
        present = self.present.pop(0) if self.present else self.present_default
        return DiskId(3, uid, None) if present else None

    def rescan(self):
        self.rescans += 1


def test_wait_for_disk_rescans_before_each_poll_unless_once(clock):
    host = Host(clock, [False, False, True])
    assert host.wait_for_disk(UID, 30, rescan_once=False) == DiskId(3, UID, None)
    assert host.rescans == 2 and clock.sleeps == [2.0, 2.0]

    host = Host(clock, [False, False, True])
    host.wait_for_disk(UID, 30, rescan_once=True)
    assert host.rescans == 0


def test_wait_for_disk_times_out(clock):
    host = Host(clock, [])
    with pytest.raises(DiskTimeout, match=UID):
        host.wait_for_disk(UID, 5, rescan_once=True)
    assert sum(clock.sleeps) == 5  # the last sleep is cut to the deadline


def test_wait_for_removal_waits_the_minimum_first(clock):
    host = Host(clock, [False])
    assert host.wait_for_removal(UID, min_s=10, max_s=45, rescan_once=True) is True
    assert clock.sleeps == [10]


def test_wait_for_removal_gives_up_at_the_maximum(clock):
    host = Host(clock, [], present_default=True)
    start = clock.now
    assert host.wait_for_removal(UID, min_s=0, max_s=45, rescan_once=False) is False
    assert clock.now - start == 45
    assert host.rescans == len(clock.sleeps)


def test_every_host_has_every_method_of_the_interface():
    from core.ports import FilesystemFreezer, HostStorage
    from adapters.host.linux import LinuxHost
    from adapters.host.simulated import SimulatedHost
    from adapters.host.windows import WindowsHost

    wanted = [n for n in vars(HostStorage) if not n.startswith("_")]
    assert len(wanted) == 9
    for cls in (WindowsHost, LinuxHost, SimulatedHost):
        assert all(callable(getattr(cls, n, None)) for n in wanted), cls
    assert all(hasattr(LinuxHost, n) for n in vars(FilesystemFreezer) if not n.startswith("_"))
