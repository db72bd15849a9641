"""The lifecycles with a consumer on the embedded array: this host (the simulated host),
and a Hyper-V guest whose parent is a fake with HyperVParent's surface (nothing real runs
Hyper-V here) over the same array. Order checks: the disk is attached after the array
maps it and detached before the array unmaps it."""
from __future__ import annotations

import pytest

from adapters.host.simulated import SimulatedHost
from orchestrator.consumers import HyperVVm, PhysicalHost, Rescans
from core.errors import VssError
from core.records import SetOptions
from tests.support.arrayproc import PASSWORD, USER
from tests.support.hyperv import FakeParent, PassThroughGuest

from .conftest import BACKUP_IQN, HOST_IQN, MiB, SRC1, SRC2, fill, give_sources_to

PARENT_PORT = BACKUP_IQN      # the demo seed's backup_host stands in for the Hyper-V parent


def host(array, initiator, folder):
    return SimulatedHost(array.url, initiator, folder, auth=(USER, PASSWORD))


def test_this_host_sees_the_image_and_loses_the_disk_on_delete(array, view, make_orch, tmp_path):
    orch = make_orch("h")
    here = orch.ctx.consumer.storage
    images = {SRC1: fill(array, SRC1, b"alpha "), SRC2: fill(array, SRC2, b"beta ")}
    baseline = view.snapshot()
    record = orch.create([SRC1, SRC2])
    fill(array, SRC1, b"later ")
    for s in record.shadows:
        assert s.device.startswith("/dev/sim") and here.is_online(s.target_uid)
        assert here.read(s.target_uid, 0, 4 * MiB) == images[s.source_uid]
    # D: and E: are the sources (SCSI ids 0, 1); the targets come next
    assert here.volume_to_disk("D:").naa_uid == SRC1
    orch.delete(set_id=record.set_id)
    assert all(here.find_disk(s.target_uid) is None for s in record.shadows)
    assert view.snapshot() == baseline


def test_a_protocol_this_host_has_no_port_for_is_205_before_anything_changes(array, view, make_orch):
    orch = make_orch("p")
    orch.ctx.consumer.protocol = "fc"        # the simulated host has only an iSCSI initiator
    before = view.snapshot()
    with pytest.raises(VssError) as err:
        orch.create([SRC1])
    assert err.value.code == 205
    assert view.snapshot() == before and orch.sets() == []


def test_rescan_once_finds_the_disk_with_one_scan(array, make_orch):
    orch = make_orch("r")
    calls = []
    storage = orch.ctx.consumer.storage
    real = storage.rescan
    storage.rescan = lambda: (calls.append(1), real())[1]
    orch.ctx.consumer.rescans = Rescans(once_on_arrival=True)
    record = orch.create([SRC1])
    assert len(calls) == 1 and storage.find_disk(record.shadows[0].target_uid) is not None


def test_hyperv_guest_gets_pass_through_disks_attached_after_mapping_and_detached_before_unmapping(
        array, view, make_orch, tmp_path):
    orch = make_orch("hv", consumer=None)
    parent = FakeParent(array, PARENT_PORT, tmp_path / "parent")
    # the guest sees its pass-through disks (the LUNs mapped to the parent's port) and
    # has no initiator of its own
    guest = PassThroughGuest(array.url, PARENT_PORT, tmp_path / "guest", auth=(USER, PASSWORD))
    orch.ctx.consumer = HyperVVm(guest, lambda: parent, arrival_timeout_s=5)
    give_sources_to(orch.array, PARENT_PORT, [SRC1])
    images = {SRC1: fill(array, SRC1, b"alpha ")}
    record = orch.create([SRC1], SetOptions())
    uid = record.shadows[0].target_uid
    assert parent.attached == [uid]
    assert guest.read(uid, 0, 4 * MiB) == images[SRC1]
    orch.delete(set_id=record.set_id)
    assert parent.attached == []
    assert [e[0] for e in parent.events] == ["offline", "attach", "detach"]
    assert all(mapped for _, _, mapped in parent.events)        # all while the array maps it
    assert guest.find_disk(uid) is None and parent.disks.find_disk(uid) is None


def test_transportable_import_on_a_second_host_reads_the_image(array, view, make_orch, tmp_path):
    """Manual chapter 4: a transportable set is created on one host and imported on the
    backup server, which reads the point-in-time bytes."""
    orch = make_orch("t")
    image = fill(array, SRC1, b"alpha ")
    record = orch.create([SRC1], SetOptions(transportable=True))
    uid = record.shadows[0].target_uid
    assert orch.ctx.consumer.storage.find_disk(uid) is None          # not shown here
    backup = make_orch("b", initiator=BACKUP_IQN)
    backup.store = orch.store                                        # the set's file travels with it
    backup.import_set(record.set_id)
    server = backup.ctx.consumer.storage
    fill(array, SRC1, b"later ")
    assert server.is_online(uid) and server.read(uid, 0, 4 * MiB) == image
    backup.delete(set_id=record.set_id)
    assert server.find_disk(uid) is None
    assert {lun["uid"] for lun in array.host_luns(BACKUP_IQN)} == set()
    assert {lun["uid"] for lun in array.host_luns(HOST_IQN)} == {SRC1, SRC2}


def test_protocol_changed_between_create_and_delete(array, view, make_orch):
    """Manual 5.2: storageProtocol changed while a shadow copy exists. The new setting
    finds no path (205) for a new create, but the delete still lets go of the disk on
    this host before the array unmaps it, and leaves nothing behind."""
    orch = make_orch("p52")
    here = orch.ctx.consumer.storage
    baseline = view.snapshot()
    record = orch.create([SRC1])
    uid = record.shadows[0].target_uid
    assert here.is_online(uid)
    orch.ctx.consumer.protocol = "fc"            # this host has only an iSCSI initiator
    with pytest.raises(VssError) as err:
        orch.create([SRC2])
    assert err.value.code == 205
    released = []
    real = here.release
    here.release = lambda u: (released.append((u, u in {lun["uid"] for lun in array.host_luns(HOST_IQN)})),
                              real(u))[1]
    orch.delete(set_id=record.set_id)
    assert released == [(uid, True)]            # let go while still mapped
    assert here.find_disk(uid) is None and view.snapshot() == baseline


def test_a_disk_that_never_arrives_rolls_the_create_back(array, view, make_orch):
    """The host side fails after the array mapped the targets (the disk never shows up):
    3008, and every step is undone, the host side first."""
    orch = make_orch("never")
    orch.ctx.consumer.arrival_timeout_s = 0.2
    orch.ctx.consumer.storage.rescan = lambda: None          # the host never sees new LUNs
    baseline = view.snapshot()
    with pytest.raises(VssError) as err:
        orch.create([SRC1, SRC2])
    assert err.value.code == 3008 and "did not arrive" in err.value.detail
    assert view.snapshot() == baseline and orch.sets() == []


def test_removal_waits_share_one_rescan_rem_max_for_the_whole_set(monkeypatch):
    """Disks that linger after unmapping: rescanRemMax bounds the wait for the set, not
    for each disk in turn (64 lingering disks must not cost 64 x 45 s). The waits run on
    a fake clock: each one lets exactly its bound pass."""
    from types import SimpleNamespace

    from orchestrator import consumers
    now = [0.0]
    monkeypatch.setattr(consumers, "time", SimpleNamespace(monotonic=lambda: now[0]))

    class Lingering:
        calls: list[tuple[float, float]] = []

        def rescan(self):
            pass

        def wait_for_removal(self, uid, min_s, max_s, rescan_once):
            self.calls.append((min_s, max_s))
            now[0] += max_s
            return False

    storage = Lingering()
    PhysicalHost(storage, Rescans(removal_min_s=0.1, removal_max_s=0.3)).after_unmap(["A", "B", "C"])
    (first_min, first_max), *rest = storage.calls
    assert (first_min, first_max) == (0.1, 0.3)
    assert rest == [(0.0, 0.0), (0.0, 0.0)]      # the set's 0.3 s went to the first disk
