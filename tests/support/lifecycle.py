"""Crash and recovery helpers for lifecycle tests on the demo array: map sources to another
host, a create that reports the manual's code, and what must hold after `cleanup`."""
from __future__ import annotations

from orchestrator.engine import Orchestrator
from core.errors import MESSAGES, VssError
from tests.support.arrayproc import ArrayProcess
from tests.support.data import MiB
from tests.support.view import ArrayView


def give_sources_to(array, port: str, uids) -> None:
    """Map source volumes to the host owning `port` as well (`array`: the product's
    CimArray): a host may shadow-copy only its own volumes, and a VM's source disks are
    LUNs of its hypervisor host."""
    host = array.host_with_initiator(port)
    array.map_volumes(host.id, [v.id for v in array.volumes_by_uid(list(uids)).values()])


def try_create(orch: Orchestrator, uids: list[str], set_id: str = "s"):
    """'created', or the manual's code the create failed with."""
    try:
        orch.create(uids, set_id=set_id)
        return "created"
    except VssError as err:
        assert err.code in MESSAGES, err
        return err.code


def assert_clean_after_cleanup(array: ArrayProcess, orch: Orchestrator, view: ArrayView, baseline, outcome,
                               label: str) -> None:
    """cleanup; then no group is left, a set that remains is finished and its targets hold
    their (unchanged) sources' bytes, and once it is deleted the array is as before."""
    orch.cleanup()
    sets = orch.sets()
    assert view.groups() == [], label
    if sets:
        assert outcome == "created" or sets[0].state == "done", label
        for s in sets[0].shadows:
            assert array.read(s.target_uid, 0, MiB) == array.read(s.source_uid, 0, MiB), label
        orch.delete(set_id=sets[0].set_id)
    assert view.snapshot() == baseline, label
