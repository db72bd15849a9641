"""Each copy-service method's refusals over CIM: wrong parameter types (CIM errors),
references to nothing (return codes), wrong states, and Job polling. A refusal
changes nothing: the mappings read back are the same before and after."""
import pytest
from pywbem import CIMError, CIMInstanceName, Uint16

from tests.support.fccim import CHUNK, OP_DETACH, OP_PREPARE, OP_QUIESCE, OP_RESYNC, OP_UNPREPARE, FcCim

SIZE = 4 * CHUNK
INVALID_PARAMETER, IN_USE, NOT_IN_SET = 5, 6, 7
COPYTYPE_NOT_SUPPORTED, INVALID_SOURCE, INVALID_STATE, INVALID_SET = 0x8000, 0x8001, 0x8002, 0x8005
INVALID_OPERATION, STOP_DEPENDENT_INVALID, MUTUALLY_EXCLUSIVE = 0x8001, 0x8104, 0x8105
# device errors: 36864 + n, the CMMVC messages of the agent's deviceerrors.txt
TARGET_IS_TARGET, SIZE_MISMATCH = 38869, 38844                 # CMMVC6247E, CMMVC5924E
NOT_STARTED_IDLE, NOT_STARTED_STOPPED = 38825, 38828           # CMMVC5905E, CMMVC5908E
NOT_STARTED_PREPARING, ALREADY_PREPARING = 38826, 38821        # CMMVC5906E, CMMVC5901E
NOT_STOPPED_IDLE, NOT_DELETED_PREPARING = 38830, 38816         # CMMVC5910E, CMMVC5896E
GROUP_EMPTY_START = 38859                                      # CMMVC6001E


@pytest.fixture(scope="module")
def vols(fc: FcCim):
    return [fc.volume(SIZE, tag=i)[0] for i in range(4)]


@pytest.fixture
def clean(fc):
    yield
    for m in fc.conn.EnumerateInstanceNames("IBMTSSVC_LocalStorageSynchronized"):
        fc.modify(m, OP_DETACH, Force=True)


def test_attach_replica_refusals(fc, vols, clean):
    a, b, c, _ = vols
    ghost = a.copy()
    ghost.keybindings["DeviceID"] = "99999"
    assert fc.attach(ghost, b)[0] == INVALID_SOURCE
    assert fc.attach(a, b, copy_type=9)[0] == COPYTYPE_NOT_SUPPORTED
    assert fc.attach(a, b, rate=101)[0] == INVALID_PARAMETER
    assert fc.attach(a, b, grain=128)[0] == INVALID_PARAMETER
    assert fc.mappings() == {}
    assert fc.attach(a, b)[0] == 0
    assert fc.attach(c, b)[0] == TARGET_IS_TARGET              # b is a target already
    small = fc.volume(SIZE - 512)[0]
    assert fc.attach(a, small)[0] == SIZE_MISMATCH
    assert list(fc.mappings()) == [(a.keybindings["DeviceID"], b.keybindings["DeviceID"])]
    fc.drop_volume(small)


def test_wrong_types_are_cim_errors(fc, vols, clean):
    a, b, _, _ = vols
    with pytest.raises(CIMError) as err:      # a string where a reference is declared
        fc.call("AttachReplica", SourceElement="not a path", TargetElement=b, CopyType=Uint16(4))
    assert err.value.status_code == 4
    with pytest.raises(CIMError) as err:
        fc.call("ModifySynchronization", Synchronization=a, Operation=Uint16(6), NoSuchParameter=True)
    assert err.value.status_code == 4
    with pytest.raises(CIMError) as err:
        fc.call("NoSuchMethod")
    assert err.value.status_code == 17
    # A required reference left out is the array's refusal, not a CIM error.
    assert fc.call("AttachReplica", TargetElement=b, CopyType=Uint16(4))[0] == INVALID_PARAMETER


def test_modify_synchronization_states_and_job(fc, vols, clean):
    a, b, _, _ = vols
    rc, sync = fc.attach(a, b, rate=0)
    nothing = CIMInstanceName(sync.classname, namespace=sync.namespace,
                              keybindings={"SystemElement": b, "SyncedElement": a})
    assert fc.modify(nothing, OP_PREPARE)[0] == INVALID_PARAMETER
    assert fc.modify(sync, 99)[0] == INVALID_OPERATION
    assert fc.modify(sync, 3)[0] == INVALID_OPERATION            # Fracture: not for FlashCopy
    assert fc.modify(sync, OP_QUIESCE)[0] == NOT_STOPPED_IDLE    # idle: nothing to stop
    assert fc.modify(sync, OP_UNPREPARE)[0] == INVALID_STATE     # only a prepared state
    assert fc.modify(sync, OP_RESYNC)[0] == NOT_STARTED_IDLE     # must be prepared first
    rc, out = fc.modify(sync, OP_PREPARE)
    assert rc == 4096
    job = out["Job"]
    polled = fc.conn.GetInstance(job)
    assert (polled["JobState"], polled["PercentComplete"]) == (4, 0)
    assert fc.state(sync) == "preparing"
    assert fc.modify(sync, OP_PREPARE)[0] == ALREADY_PREPARING
    assert fc.modify(sync, OP_RESYNC)[0] == NOT_STARTED_PREPARING
    assert fc.modify(sync, OP_DETACH)[0] == NOT_DELETED_PREPARING  # busy without Force
    fc.advance(2)
    polled = fc.conn.GetInstance(job)
    assert (polled["JobState"], polled["PercentComplete"], list(polled["OperationalStatus"])) == (7, 100, [2, 17])
    assert fc.conn.AssociatorNames(job, AssocClass="CIM_AffectedJobElement") != []
    assert fc.state(sync) == "prepared"
    assert fc.modify(sync, OP_RESYNC)[0] == 0
    inst = fc.conn.GetInstance(sync)
    assert inst["SyncState"] == 5 and len(inst["StartTime"]) == 12     # the CLI's YYMMDDHHMMSS
    fc.conn.DeleteInstance(job)
    with pytest.raises(CIMError) as err:
        fc.conn.GetInstance(job)
    assert err.value.status_code == 6


def test_a_prepare_job_ends_in_exception_when_the_mapping_goes(fc, vols, clean):
    a, b, _, _ = vols
    sync = fc.attach(a, b)[1]
    job = fc.modify(sync, OP_PREPARE)[1]["Job"]
    assert fc.modify(sync, OP_DETACH, Force=True)[0] == 0
    polled = fc.conn.GetInstance(job)
    assert polled["JobState"] == 10 and polled["ErrorDescription"]


def test_synchronized_set_refusals(fc, vols, clean):
    a, b, c, d = vols
    assert fc.call("CreateSynchronizedSet", ElementName="refusals", CopyType=Uint16(9))[0] == COPYTYPE_NOT_SUPPORTED
    rc, out = fc.call("CreateSynchronizedSet", ElementName="refusals", CopyType=Uint16(4))
    group = out["Set"]
    ghost = group.copy()
    ghost.keybindings["InstanceID"] = ghost.keybindings["InstanceID"].rsplit(":", 1)[0] + ":9999"
    assert fc.modify_set(ghost, OP_PREPARE)[0] == INVALID_SET
    with pytest.raises(CIMError) as err:   # an unknown set is NOT_FOUND to intrinsic calls
        fc.conn.GetInstance(ghost)
    assert err.value.status_code == 6
    assert fc.modify_set(group, OP_PREPARE)[0] == INVALID_STATE   # empty
    assert fc.modify_set(group, OP_RESYNC, Force=True)[0] == GROUP_EMPTY_START
    rc, out = fc.call("AttachReplicas", SourceElements=[a, c], TargetElements=[b, d], CopyType=Uint16(4), Set=group)
    assert rc == 0 and list(out["ReturnValues"]) == [0, 0] and set(out) <= {"ReturnValues", "Job"}
    first = fc.sync_of(a, b)
    assert fc.modify(first, OP_PREPARE)[0] == IN_USE               # members go through the group
    assert fc.call("DeleteSynchronizedSet", Set=group)[0] == IN_USE
    assert fc.modify_set(group, 1, Synchronization=first)[0] == 0  # remove
    assert fc.modify_set(group, 1, Synchronization=first)[0] != 0  # not a member any more
    assert fc.call("DeleteSynchronizedSet", Set=group, Force=True)[0] == 0
    with pytest.raises(CIMError):
        fc.conn.GetInstance(group)


def test_attach_replicas_answers_per_pair(fc, vols, clean):
    """Not all or nothing: the pairs the array takes are made, ReturnValues says which
    were refused and why; the method's code is the first refusal's."""
    a, b, c, d = vols
    small = fc.volume(SIZE - 512)[0]
    rc, out = fc.call("AttachReplicas", SourceElements=[a, c, a], TargetElements=[b, b, small],
                      ElementNames=["pp0", "pp1", "pp2"], CopyType=Uint16(4))
    assert rc == TARGET_IS_TARGET
    assert list(out["ReturnValues"]) == [0, TARGET_IS_TARGET, SIZE_MISMATCH]
    made = fc.mappings("ElementName")
    assert [m["ElementName"] for m in made.values()] == ["pp0"]
    assert list(made) == [(a.keybindings["DeviceID"], b.keybindings["DeviceID"])]
    fc.drop_volume(small)


def test_start_needs_prepare_unless_forced(fc, vols, clean):
    """Resync of an idle or stopped mapping is refused (CMMVC5905E / CMMVC5908E);
    with Force the agent prepares first and then starts, on the array's clock."""
    a, b, _, _ = vols
    _, sync = fc.attach(a, b, rate=0)
    assert fc.modify(sync, OP_RESYNC)[0] == NOT_STARTED_IDLE
    assert fc.state(sync) == "idle_or_copied"
    assert fc.modify(sync, OP_RESYNC, Force=True)[0] == 0
    assert fc.state(sync) == "preparing"
    fc.advance(2)
    assert fc.state(sync) == "copying"
    assert fc.modify(sync, OP_QUIESCE, Force=True)[0] == 0
    assert fc.state(sync) == "stopped"
    assert fc.modify(sync, OP_RESYNC)[0] == NOT_STARTED_STOPPED
    assert fc.modify(sync, OP_RESYNC, Force=True)[0] == 0


def test_unprepare_clears_only_a_prepared_state(fc, vols, clean):
    a, b, _, _ = vols
    _, sync = fc.attach(a, b, rate=0)
    fc.modify(sync, OP_PREPARE)
    assert fc.modify(sync, OP_UNPREPARE)[0] == INVALID_STATE      # preparing
    fc.advance(2)
    assert fc.modify(sync, OP_UNPREPARE)[0] == 0
    assert fc.state(sync) == "stopped"
    fc.modify(sync, OP_RESYNC, Force=True)
    fc.advance(2)
    assert fc.modify(sync, OP_UNPREPARE)[0] == INVALID_STATE      # copying: that is a stop
    assert fc.state(sync) == "copying"


@pytest.mark.parametrize("op, extra, ok", [
    (OP_QUIESCE, {"StopDependentMaps": 4}, True),                  # stop older: a stop option
    (OP_QUIESCE, {"StopDependentMaps": 5}, True),
    (OP_DETACH, {"StopDependentMaps": 4, "Force": True}, False),   # not on a delete
    (OP_QUIESCE, {"StopDependentMaps": 2}, False),                 # restore options need Restore
    (OP_QUIESCE, {"StopDependentMaps": 2, "Restore": True}, True),
    (OP_DETACH, {"StopDependentMaps": 1, "Restore": True, "Force": True}, True),
    (OP_PREPARE, {"StopDependentMaps": 4}, False),
    (OP_QUIESCE, {"StopDependentMaps": 9}, False),
])
def test_stop_dependent_maps_only_in_the_combinations_the_mof_allows(fc, vols, clean, op, extra, ok):
    a, b, _, _ = vols
    sync = fc.snapshot(a, b)
    params = {k: Uint16(v) if k == "StopDependentMaps" else v for k, v in extra.items()}
    rc = fc.modify(sync, op, **params)[0]
    assert rc == (0 if ok else STOP_DEPENDENT_INVALID)
    if not ok:
        assert fc.state(sync) == "copying"                         # nothing changed


def test_split_and_force_are_mutually_exclusive(fc, vols, clean):
    a, b, _, _ = vols
    sync = fc.snapshot(a, b)
    assert fc.modify(sync, OP_QUIESCE, Split=True, Force=True)[0] == MUTUALLY_EXCLUSIVE
    assert fc.state(sync) == "copying"
