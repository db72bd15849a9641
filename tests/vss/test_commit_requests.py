"""CommitSnapshots is the flush-and-hold window: exactly one array request and no file
write whatever the set's size (1, 8 and VSS's maximum of 64 volumes), counted by the
engine's CIM adapter and reported by the service, writes counted at os.fsync. The set's
file says "about to commit" before the window and records the outcome after it."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from orchestrator.recordstore import set_key
from orchestrator.vss_types import Attr, LunInfo
from tests.support.configfile import write_config
from tests.support.demo import start_seeded
from tests.support.service import client_of

BIG = Path(__file__).resolve().parent / "big.yaml"


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("big")
    proc = start_seeded(tmp / "array", seed=BIG)
    yield proc, tmp
    proc.stop()


@pytest.mark.parametrize("n", [1, 8, 64])
def test_commit_is_one_request_and_no_write(big, n, monkeypatch):
    from orchestrator.service import Service
    proc, tmp = big
    state = tmp / f"state{n}"
    cfg = write_config(tmp / f"config{n}.yaml", proc, state, backgroundCopy=0)
    svc = Service(cfg, host_name="vss_iscsi_host", listen="127.0.0.1:0").start()
    client = client_of(svc)
    try:
        vols = proc.conn().EnumerateInstances("IBMTSSVC_StorageVolume", PropertyList=["ElementName", "Name"])
        uids = sorted((str(v["ElementName"]), str(v["Name"])) for v in vols if str(v["ElementName"]).startswith("src"))
        luns = [LunInfo.for_uid(u).to_json() for _, u in uids[:n]]
        set_id = f"{{{uuid.uuid4()}}}"
        before_maps = len(proc.conn().EnumerateInstances("IBMTSSVC_LocalStorageSynchronized"))
        ctx = int(Attr.PERSISTENT | Attr.NO_AUTO_RELEASE)
        assert client.call("AreLunsSupported", context=ctx, luns=luns)["result"]["supported"]
        for lun in luns:
            assert client.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id=str(uuid.uuid4()),
                               context=ctx, luns=[lun])["ok"]
        assert client.call("EndPrepareSnapshots", set_id=set_id)["ok"]
        pre = client.call("PreCommitSnapshots", set_id=set_id)
        assert pre["ok"] and pre["array_requests"] == 0
        engine = svc.provider.orch
        key = set_key(set_id)
        ahead = engine.store.load(key)["op"]
        assert (ahead["state"], ahead["pending"]) == ("prepared", "commit")     # written before the window
        fsyncs = []
        real_fsync = os.fsync
        monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
        before = engine.array.requests
        reply = client.call("CommitSnapshots", set_id=set_id)
        monkeypatch.setattr(os, "fsync", real_fsync)
        assert reply["ok"], reply
        assert reply["array_requests"] == 1
        assert engine.array.requests - before == 1
        assert fsyncs == []                                                      # nothing written inside
        assert engine.store.load(key)["op"] == ahead
        assert client.call("PostCommitSnapshots", set_id=set_id, snapshots_count=n)["ok"]
        record = engine.store.load(key)
        assert record["op"] is None and record["set"]["state"] == "done" and record["set"]["commit_time"]
        # the group really started: n more mappings on the array, each copying from its source
        maps = proc.conn().EnumerateInstances("IBMTSSVC_LocalStorageSynchronized")
        assert len(maps) == before_maps + n
    finally:
        client.close()
        svc.stop()
