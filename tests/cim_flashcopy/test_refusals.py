"""Each copy-service method's refusals over CIM: wrong parameter types (CIM errors),
references to nothing (return codes), wrong states, and Job polling. A refusal
changes nothing: the mappings read back are the same before and after."""
import pytest
from pywbem import CIMError, CIMInstanceName, Uint16

from .conftest import CHUNK, OP_DETACH, OP_PREPARE, OP_QUIESCE, OP_RESYNC, FcCim

SIZE = 4 * CHUNK
INVALID_PARAMETER, IN_USE, NOT_IN_SET = 5, 6, 7
COPYTYPE_NOT_SUPPORTED, INVALID_SOURCE, INVALID_STATE, INVALID_SET = 0x8000, 0x8001, 0x8002, 0x8005
ALREADY_IN_LOCALCOPY = 32816


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
    assert fc.attach(c, b)[0] == ALREADY_IN_LOCALCOPY          # b is a target already
    small = fc.volume(SIZE - 512)[0]
    assert fc.attach(a, small)[0] != 0                         # sizes differ
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
    rc, out = fc.attach(a, b, rate=0)
    sync = out["Synchronization"]
    nothing = CIMInstanceName(sync.classname, namespace=sync.namespace,
                              keybindings={"SystemElement": b, "SyncedElement": a})
    assert fc.modify(nothing, OP_PREPARE)[0] == INVALID_PARAMETER
    assert fc.modify(sync, 99)[0] != 0
    assert fc.modify(sync, OP_QUIESCE)[0] == INVALID_STATE       # idle: nothing to stop
    rc, out = fc.modify(sync, OP_PREPARE)
    assert rc == 4096
    job = out["Job"]
    polled = fc.conn.GetInstance(job)
    assert (polled["JobState"], polled["PercentComplete"]) == (4, 0)
    assert fc.state(sync) == "preparing"
    assert fc.modify(sync, OP_PREPARE)[0] == INVALID_STATE        # already preparing
    assert fc.modify(sync, OP_DETACH)[0] == INVALID_STATE         # busy without Force
    fc.advance(2)
    polled = fc.conn.GetInstance(job)
    assert (polled["JobState"], polled["PercentComplete"], list(polled["OperationalStatus"])) == (7, 100, [2, 17])
    assert fc.conn.AssociatorNames(job, AssocClass="CIM_AffectedJobElement") != []
    assert fc.state(sync) == "prepared"
    assert fc.modify(sync, OP_RESYNC)[0] == 0
    inst = fc.conn.GetInstance(sync)
    assert inst["Status"] == "copying" and inst["StartTime"].datetime.year >= 2024
    fc.conn.DeleteInstance(job)
    with pytest.raises(CIMError) as err:
        fc.conn.GetInstance(job)
    assert err.value.status_code == 6


def test_a_prepare_job_ends_in_exception_when_the_mapping_goes(fc, vols, clean):
    a, b, _, _ = vols
    sync = fc.attach(a, b)[1]["Synchronization"]
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
    rc, out = fc.call("AttachReplicas", SourceElements=[a, c], TargetElements=[b, b], CopyType=Uint16(4), Set=group)
    assert rc == ALREADY_IN_LOCALCOPY and list(out["ReturnValues"]) == [0, ALREADY_IN_LOCALCOPY]
    assert fc.mappings() == {}                                     # all or nothing
    rc, out = fc.call("AttachReplicas", SourceElements=[a, c], TargetElements=[b, d], CopyType=Uint16(4), Set=group)
    assert rc == 0
    first = out["Synchronizations"][0]
    assert fc.modify(first, OP_PREPARE)[0] == IN_USE               # members go through the group
    assert fc.call("DeleteSynchronizedSet", Set=group)[0] == IN_USE
    assert fc.modify_set(group, 1, Synchronization=first)[0] == 0  # remove
    assert fc.modify_set(group, 1, Synchronization=first)[0] != 0  # not a member any more
    assert fc.call("DeleteSynchronizedSet", Set=group, Force=True)[0] == 0
    with pytest.raises(CIMError):
        fc.conn.GetInstance(group)
