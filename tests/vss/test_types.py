"""The interface's structures without an array: LUN information, contexts, order table."""
from __future__ import annotations

import pytest

from orchestrator.service_schema import BadRequest, arguments
from orchestrator.vss_phases import STEPS, Phase, allowed
from orchestrator.vss_types import CONTEXTS, Attr, LunInfo, clean_uid, context_problem, options_of

UID = "60050760008D89C0D000000000000001"


def test_lun_information_round_trip_and_uid():
    lun = LunInfo.for_uid("naa." + UID.lower(), vendor="IBM", product="2145")
    assert lun.uid == UID
    assert LunInfo.from_json(lun.to_json()) == lun
    assert LunInfo(identifiers=[]).uid is None
    assert clean_uid("6005-0760") is None


@pytest.mark.parametrize("data", [
    {"vendor": 1}, {"identifiers": {}}, {"identifiers": [{"id": 5}]}, {"unknown": ""}, [], {"device_type": True}])
def test_malformed_lun_information_is_refused(data):
    with pytest.raises((ValueError, TypeError)):
        LunInfo.from_json(data)


@pytest.mark.parametrize("vendor,product,bus,virtual", [
    ("VMware", "Virtual disk", "scsi", True), ("Msft", "Virtual Disk", "unknown", True),
    ("IBM", "2145", "filebackedvirtual", True), ("IBM", "2145", "iscsi", False)])
def test_virtual_disks(vendor, product, bus, virtual):
    assert LunInfo.for_uid(UID, vendor=vendor, product=product, bus_type=bus).virtual is virtual


def test_contexts_map_to_options():
    assert options_of(CONTEXTS["backup"]).persistent is False
    opts = options_of(CONTEXTS["app_rollback"] | Attr.TRANSPORTABLE | Attr.DIFFERENTIAL)
    assert opts.persistent and opts.transportable and opts.copy_rate == 0
    assert options_of(int(Attr.PLEX)).copy_rate is None
    assert context_problem(CONTEXTS["client_accessible"]) is None
    for bad in (1 << 30, int(Attr.IMPORTED), int(Attr.DIFFERENTIAL | Attr.PLEX), -1, True):
        assert context_problem(bad)


def test_every_creation_call_has_one_place_in_the_order():
    assert allowed("CommitSnapshots") == (Phase.PRECOMMITTED,)
    rows = {(s.source, s.trigger) for s in STEPS}
    assert len(rows) == len(STEPS), "one row per (phase, trigger)"
    # only AbortSnapshots is taken once aborted; only the first BeginPrepareSnapshot finds no set
    assert {s.trigger for s in STEPS if s.source is Phase.ABORTED} == {"AbortSnapshots"}
    assert [s.trigger for s in STEPS if s.source is Phase.NEW] == ["BeginPrepareSnapshot"]


def test_schema_checks_arguments():
    assert arguments("PostCommitSnapshots", {"set_id": "s", "snapshots_count": 2}) == \
        {"set_id": "s", "snapshots_count": 2}
    for body in ({"set_id": "s"}, {"set_id": "s", "snapshots_count": -1}, {"set_id": "a\nb", "snapshots_count": 1},
                 {"set_id": "s", "snapshots_count": 1, "x": 1}):
        with pytest.raises(BadRequest):
            arguments("PostCommitSnapshots", body)
    assert arguments("GetTargetLuns", {"source_luns": [], "set_id": None})["set_id"] is None
