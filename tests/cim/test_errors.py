"""Failures as typed errors with the manual's codes: credentials, closed ports,
refused pairs, offline volumes, return codes injected by the array, cut replies,
slow replies, failed and endless jobs. Nothing is repeated that may have happened."""
from __future__ import annotations

import socket

import pytest
from pywbem import Uint16

from adapters.cim.array import CimArray
from core.errors import ArrayCallError, AttachRefused, OutcomeUnknown
from core.model import PREPARED

from tests.support.arrayproc import ArrayProcess

from .conftest import DEMO, MiB, SRC1, SRC2, View, adapter

SECRET = "passw0rd"


def pairs_to_free(cim, uids, names):
    sources = cim.volumes_by_uid(uids)
    free = next(h for h in cim.hosts() if h.name == "vss_free_host")
    targets = sorted(cim.host_volumes(free.id), key=lambda v: int(v.id))
    return [(sources[u].id, t.id, n) for u, t, n in zip(uids, targets, names)]


def test_wrong_password_is_5_and_never_shown(sim, capsys):
    cim = adapter(sim, password="not-the-" + SECRET)
    with pytest.raises(ArrayCallError) as err:
        cim.hosts()
    assert err.value.code == 5 and "\n" not in str(err.value)
    right = adapter(sim)
    right.identity()
    shown = [str(err.value), repr(err.value), repr(cim), repr(right), repr(right._wire.conn),
             capsys.readouterr().out]
    assert not any(SECRET in text for text in shown)


def test_closed_port_is_3002(sim):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    cim = CimArray.connect("127.0.0.1", closed, ssl=False, ca_file=None, username="superuser", password=SECRET,
                           namespace="root/ibm", sleep=lambda s: None)
    with pytest.raises(ArrayCallError) as err:
        cim.volumes_by_uid([SRC1])
    assert err.value.code == 3002 and not isinstance(err.value, OutcomeUnknown)
    assert cim.requests == 3                     # a read is tried three times
    # a method whose connection is refused never left: it may be tried again too
    live = adapter(sim)
    live.groups_named("")                        # service known
    live.identity()
    sim.stop()
    sent = live.requests
    with pytest.raises(ArrayCallError) as err:
        live.create_group("cim-never")
    assert err.value.code == 3002 and not isinstance(err.value, OutcomeUnknown)
    assert live.requests - sent == 3


def test_attach_onto_a_taken_target_is_refused_whole(cim, view):
    (s1, t1, _), (s2, t2, _) = pairs_to_free(cim, [SRC1, SRC2], ["a", "b"])
    cim.attach([(s1, t1, "cim-first")], copy_rate=0, incremental=False, group_id=None)
    before = view.fcmaps()
    with pytest.raises(AttachRefused) as err:
        cim.attach([(s2, t2, "cim-ok"), (s2, t1, "cim-taken")], copy_rate=0, incremental=False, group_id=None)
    assert err.value.code == 32816 and err.value.refused == {1: 32816}
    assert view.fcmaps() == before               # all or nothing


def test_attach_of_unequal_sizes_is_refused(cim, view):
    small = cim.create_volume("cim-small", 4 * MiB, "Pool0", None, thin=False, compressed=False, deduped=False)
    src = cim.volumes_by_uid([SRC1])[SRC1]
    with pytest.raises(AttachRefused) as err:
        cim.attach([(src.id, small.id, "cim-unequal")], copy_rate=0, incremental=False, group_id=None)
    assert err.value.code == 402 and err.value.refused == {0: 38844}     # CMMVC5924E sizes differ
    assert view.fcmaps() == {}
    with pytest.raises(ArrayCallError) as err:
        cim.attach([], copy_rate=0, incremental=False, group_id=None)
    assert err.value.code == 400


def test_offline_volume_is_512(sim, cim, view):
    pair = pairs_to_free(cim, [SRC1], ["cim-off"])
    fcmap, = cim.attach(pair, copy_rate=0, incremental=False, group_id=None)
    sim.admin("PUT", f"volumes/{SRC1}/online", {"online": False})
    assert not cim.volumes_by_uid([SRC1])[SRC1].online
    with pytest.raises(ArrayCallError) as err:
        cim.prepare_fcmap(fcmap.id)
    assert err.value.code == 512 and err.value.rc == 37161          # CMMVC5782E object offline
    assert view.fcmaps()["cim-off"]["state"] == "idle_or_copied"


@pytest.mark.parametrize("method, code", [("ModifySynchronizedSet", 3009), ("ExposePaths", 3008),
                                          ("CreateSynchronizedSet", 402), ("AttachReplicas", 402),
                                          ("ReturnToStoragePool", 4001)])
def test_injected_return_codes(sim, cim, view, method, code):
    pair = pairs_to_free(cim, [SRC1], ["cim-inj"])
    group = cim.create_group("cim-inj-g")
    cim.attach(pair, copy_rate=0, incremental=False, group_id=group.id)
    backup = cim.host_named("backup_host")
    calls = {"ModifySynchronizedSet": lambda: cim.prepare_group(group.id),
             "ExposePaths": lambda: cim.map_volumes(backup.id, [pair[0][1]]),
             "CreateSynchronizedSet": lambda: cim.create_group("cim-inj-2"),
             "AttachReplicas": lambda: cim.attach([(pair[0][0], pair[0][1], "x")], copy_rate=0,
                                                  incremental=False, group_id=None),
             "ReturnToStoragePool": lambda: cim.delete_volume(pair[0][1])}
    before = (view.fcmaps(), view.groups(), view.mapped(), view.volumes())
    sim.faults([{"method": method, "action": "fail", "rc": 4}])
    with pytest.raises(ArrayCallError) as err:
        calls[method]()
    assert (err.value.code, err.value.rc) == (code, 4)
    assert (view.fcmaps(), view.groups(), view.mapped(), view.volumes()) == before


def test_agent_errors_on_reads_are_911(sim, cim):
    sim.faults([{"method": "EnumerateInstances", "action": "fail"}])
    with pytest.raises(ArrayCallError) as err:
        cim.hosts()
    assert err.value.code == 911 and "CIM_ERR_FAILED" in str(err.value)
    assert cim.requests == 1                     # the agent's answer is not retried


def test_cut_reply_to_a_read_is_read_again(sim, cim):
    sim.faults([{"method": "EnumerateInstances", "action": "drop"}])
    hosts = cim.hosts()
    assert "vss_free_host" in {h.name for h in hosts}
    assert cim.requests == 2 and sim.stats()["EnumerateInstances"] == 2


def test_cut_reply_to_a_method_is_outcome_unknown(sim, cim, view):
    cim.groups_named("")                         # services and paths first, so only the method is cut
    pair = pairs_to_free(cim, [SRC1], ["cim-cut"])
    cim.create_group("warm")
    sim.faults([{"method": "AttachReplicas", "action": "drop"}])
    sent = cim.requests
    with pytest.raises(OutcomeUnknown):
        cim.attach(pair, copy_rate=0, incremental=False, group_id=None)
    assert cim.requests - sent == 1              # sent once, never again
    assert [m.name for m in cim.fcmaps_named("cim-cut")] == ["cim-cut"]   # it did happen


def test_slow_replies(sim):
    cim = adapter(sim, timeout_ms=300)
    cim.create_group("warm")
    sim.faults([{"method": "EnumerateInstances", "action": "delay", "seconds": 1.0}])
    assert "vss_free_host" in {h.name for h in cim.hosts()}   # the second try is on time
    sim.faults([{"method": "CreateSynchronizedSet", "action": "delay", "seconds": 1.0}])
    sent = cim.requests
    with pytest.raises(OutcomeUnknown) as err:
        cim.create_group("cim-slow")
    assert cim.requests - sent == 1 and err.value.code == 911
    sim.clear_faults()
    assert [g.name for g in cim.groups_named("cim-slow")] == ["cim-slow"]


def test_failed_job_is_a_typed_error(tmp_path):
    sim = ArrayProcess(state=tmp_path / "slow", http=True, seed=DEMO, time_scale=1).start()
    try:
        view = View(sim)
        scs = view.conn.EnumerateInstanceNames("IBMTSSVC_StorageConfigurationService")[0]

        def meanwhile(_seconds):                 # the mapping goes away while it prepares
            path = view.conn.EnumerateInstanceNames("IBMTSSVC_LocalStorageSynchronized")[0]
            view.conn.InvokeMethod("ModifySynchronization", scs, Operation=Uint16(2), Synchronization=path,
                                   Force=True)

        cim = adapter(sim, sleep=meanwhile)
        fcmap, = cim.attach(pairs_to_free(cim, [SRC1], ["cim-job"]), copy_rate=0, incremental=False,
                            group_id=None)
        with pytest.raises(ArrayCallError) as err:
            cim.prepare_fcmap(fcmap.id)
        assert err.value.code == 3009 and "is gone" in str(err.value)
        with pytest.raises(ArrayCallError):
            cim.prepare_fcmap(fcmap.id, restore=True)
        assert view.fcmaps() == {}

        ticks = iter(range(0, 10_000, 100))     # a clock that jumps 100 s per look
        cim = adapter(sim, clock=lambda: next(ticks), job_timeout_s=150)
        fcmap, = cim.attach(pairs_to_free(cim, [SRC1], ["cim-slowjob"]), copy_rate=0, incremental=False,
                            group_id=None)
        sent = cim.requests
        with pytest.raises(ArrayCallError) as err:
            cim.prepare_fcmap(fcmap.id, restore=True)
        assert err.value.code == 720 and "did not finish preparing within 150 s" in str(err.value)
        assert cim.requests - sent == 3          # the method, then two looks at the mapping
    finally:
        sim.stop()


def test_prepare_waits_for_its_job(cim):
    fcmap, = cim.attach(pairs_to_free(cim, [SRC1], ["cim-wait"]), copy_rate=0, incremental=False, group_id=None)
    cim.prepare_fcmap(fcmap.id)
    assert cim.fcmap(fcmap.id).state == PREPARED
