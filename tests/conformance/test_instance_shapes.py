"""Instances held against a real 8.2.1 cluster's dump: key formats, constant values,
properties sent as NULL, object ids from 0 (the facts are in dump_shapes.json)."""
import json
import re
from pathlib import Path

import pytest

from tests.support.arrayproc import ArrayProcess
from tests.support.demo import DEMO

SHAPES = json.loads((Path(__file__).parent / "dump_shapes.json").read_text())["classes"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    proc = ArrayProcess(tmp_path_factory.mktemp("shapes"), seed=DEMO).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def instances(demo):
    conn = demo.conn()
    return {cls: conn.EnumerateInstances(cls) for cls in SHAPES}


@pytest.fixture(scope="module")
def cid(demo):
    return demo.admin("GET", "identity")["cluster_id"]


def _expected(template, inst, cid):
    """A dump value with its placeholders filled from this instance."""
    if not isinstance(template, str):
        return template
    text = template.replace("{cid}", cid)
    whole = re.fullmatch(r"\{prop:(\w+)\}", text)
    if whole:  # the other property's value, whatever its type
        return inst[whole.group(1)]
    return re.sub(r"\{prop:(\w+)\}", lambda m: str(inst[m.group(1)]), text)


def _pattern(template, inst, cid) -> re.Pattern:
    parts = re.split(r"(\{n\})", str(_expected(template, inst, cid)))
    return re.compile("".join(r"(0|[1-9]\d*)" if p == "{n}" else re.escape(p) for p in parts))


@pytest.mark.parametrize("classname", sorted(SHAPES))
def test_instances_have_the_dump_shapes(classname, instances, cid):
    shape = SHAPES[classname]
    found = instances[classname]
    assert found, f"no {classname} instances to check"
    for inst in found:
        keys = dict(inst.path.keybindings)
        assert set(keys) == set(shape["keys"]), inst.path
        for key, template in shape["keys"].items():
            assert _pattern(template, inst, cid).fullmatch(str(keys[key])), (key, keys[key])
        for prop, template in shape["values"].items():
            assert inst[prop] == _expected(template, inst, cid), (inst.path, prop, inst[prop])
        for prop in shape.get("hex32", []):
            assert re.fullmatch(r"[0-9A-F]{32}", inst[prop]), (prop, inst[prop])
        # a property without a value is sent, as NULL (not left out)
        for prop in shape["null"]:
            assert prop in inst.properties and inst[prop] is None, (inst.path, prop)
    if "first_names" in shape:
        assert [i["ElementName"] for i in found[:len(shape["first_names"])]] == shape["first_names"]


def test_object_ids_start_at_zero(instances, demo):
    conn = demo.conn()
    volume_ids = sorted(int(v.path.keybindings["DeviceID"]) for v in instances["IBMTSSVC_StorageVolume"])
    host_ids = sorted(int(c.path.keybindings["DeviceID"].rsplit(":", 1)[1])
                      for c in instances["IBMTSSVC_ProtocolController"])
    pool_ids = sorted(int(p["PoolID"]) for p in instances["IBMTSSVC_ConcreteStoragePool"])
    assert volume_ids == list(range(len(volume_ids))) and host_ids == list(range(len(host_ids)))
    assert pool_ids[0] == 0
    # the seed's first volume and first host are object 0, as on a new cluster
    first = conn.ExecQuery("WQL", "SELECT ElementName FROM IBMTSSVC_StorageVolume WHERE DeviceID = '0'")
    assert [v["ElementName"] for v in first] == ["vss_src_vol"]
    hwid = [h for h in conn.EnumerateInstances("IBMTSSVC_StorageHardwareID") if h["HostID"] == "0"]
    assert [h["ElementName"] for h in hwid] == ["vss_free_host"]


def test_hardware_id_and_volume_keys_name_their_owners(instances, demo, cid):
    conn = demo.conn()
    for vol in instances["IBMTSSVC_StorageVolume"]:
        assert vol.path.keybindings["SystemName"] == f"{cid}:{vol['GroupID']}"
    for hw in conn.EnumerateInstances("IBMTSSVC_StorageHardwareID"):
        ports = hw["PortWWN"] or hw["iSCSIName"]
        # the MOF's format: IBMTSSVC:<cluster id>-<host id>-<wwpn or iqn>; StorageID <cluster id>:<host id>
        assert hw.path.keybindings["InstanceID"] == f"IBMTSSVC:{cid}-{hw['HostID']}-{ports[0]}"
        assert hw["StorageID"] == f"{cid}:{hw['HostID']}"
