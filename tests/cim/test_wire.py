"""The wire over HTTPS: refusals (certificate, password, port, cluster id) are one-line
errors with the manual's codes and never show the password; cut and slow replies are
read again or reported as unknown outcomes, as the array's own counters confirm."""
from __future__ import annotations

import base64
import logging
import socket

import pytest
import structlog

from adapters.cim import errors as E
from adapters.cim.array import CimArray
from core.errors import MESSAGES, ArrayCallError, OutcomeUnknown
from core.model import COPYING, PREPARED
from simulator.tls import ensure_certificate
from tests.support.arrayproc import PASSWORD, USER, ArrayProcess

from .conftest import DEMO, SRC1, SRC2, View, adapter

SECRET = "Sesame-0pen"


@pytest.fixture(scope="module")
def tls_sim(tmp_path_factory):
    proc = ArrayProcess(state=tmp_path_factory.mktemp("wire"), seed=DEMO, time_scale=1000).start()
    yield proc
    proc.stop()


@pytest.fixture
def sim(tls_sim):
    yield tls_sim
    tls_sim.clear_faults()


@pytest.fixture
def events():
    """Every structlog event (whatever the configured level) and standard logging record
    while the test runs, as text."""
    wrapper = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    with structlog.testing.capture_logs() as captured:
        handler = logging.Handler()
        records: list[logging.LogRecord] = []
        handler.emit = records.append
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            yield lambda: [repr(e) for e in captured] + [r.getMessage() for r in records]
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            structlog.configure(wrapper_class=wrapper)


def assert_one_line(err: ArrayCallError, code: int):
    text = str(err)
    assert err.code == code and code in MESSAGES
    assert "\n" not in text and len(text) < 300 and text.endswith(f"(code {code})")


def test_every_code_the_adapter_raises_is_the_manuals():
    codes = {v for k, v in vars(E).items() if k.isupper() and not k.startswith("RC_") and isinstance(v, int)}
    assert codes and codes <= set(MESSAGES)


def test_the_arrays_certificate_is_trusted_and_no_other(sim, tmp_path):
    assert adapter(sim).identity().cluster_id == sim.admin("GET", "identity")["cluster_id"]
    stranger, _ = ensure_certificate(tmp_path)
    for ca in (str(stranger), None):
        cim = adapter(sim, ca_file=ca)
        with pytest.raises(ArrayCallError) as err:
            cim.hosts()
        assert_one_line(err.value, 3002)
        assert "certificate" in str(err.value) and cim.requests == 1


def test_wrong_password_is_5_and_never_shown(sim, events, capfd):
    before = sim.stats()
    cim = adapter(sim, password=SECRET)
    with pytest.raises(ArrayCallError) as err:
        cim.volumes_by_uid([SRC1])
    assert_one_line(err.value, 5)
    assert cim.requests == 1                     # a refused password is not tried again
    assert sim.stats() == before                 # refused at the door: no CIM operation ran
    out, errs = capfd.readouterr()
    basic = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    for text in [str(err.value), repr(err.value), repr(cim), out, errs, *events()]:
        assert SECRET not in text and basic not in text


def test_closed_port_and_unknown_cluster(sim):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    cim = CimArray.connect("127.0.0.1", closed, ssl=True, ca_file=sim.cafile, username=USER, password=PASSWORD,
                           namespace="root/ibm", sleep=lambda s: None)
    with pytest.raises(ArrayCallError) as err:
        cim.identity()
    assert_one_line(err.value, 3002)
    assert cim.requests == 3                     # never connected: safe to try again
    with pytest.raises(ArrayCallError) as err:
        adapter(sim, target_mcs="00000200DEADBEEF").identity()
    assert_one_line(err.value, 702)


def test_a_host_name_with_ssl_in_it_is_not_a_certificate_failure():
    """Failures are told apart by what happened, not by words in the message (which
    holds the host name)."""
    cim = CimArray.connect("cimom-ssl.invalid", 5989, ssl=True, ca_file=None, username=USER, password=SECRET,
                           namespace="root/ibm", sleep=lambda s: None)
    with pytest.raises(ArrayCallError) as err:
        cim.hosts()
    assert_one_line(err.value, 3002)
    assert cim.requests == 3 and not isinstance(err.value, OutcomeUnknown)


def test_latency_slows_but_costs_no_request(sim):
    cim = adapter(sim, timeout_ms=2000)
    sim.faults([], latency=0.05)
    sent = cim.requests
    assert SRC1 in cim.volumes_by_uid([SRC1])
    assert cim.requests - sent == 1
    slow = adapter(sim, timeout_ms=150)
    sim.faults([], latency=0.4)
    before = sim.stats().get("EnumerateInstances", 0)
    with pytest.raises(ArrayCallError) as err:
        slow.hosts()
    assert_one_line(err.value, 3002)
    assert not isinstance(err.value, OutcomeUnknown)
    assert slow.requests == 3 and sim.stats()["EnumerateInstances"] - before == 3


@pytest.mark.parametrize("drops, found", [(2, True), (3, False)])
def test_cut_reads_are_read_again_three_times_at_most(sim, events, drops, found):
    cim = adapter(sim)
    before = sim.stats().get("ExecQuery", 0)
    sim.faults([{"method": "ExecQuery", "action": "drop", "count": drops}])
    if found:
        assert SRC2 in cim.volumes_by_uid([SRC2])
    else:
        with pytest.raises(ArrayCallError) as err:
            cim.volumes_by_uid([SRC2])
        assert_one_line(err.value, 3002)
    assert cim.requests == 3 and sim.stats()["ExecQuery"] - before == 3
    retried = [e for e in events() if "cim read retried" in e]
    assert len(retried) == 2 and not any(PASSWORD in e for e in events())


def test_cut_start_is_an_unknown_outcome_and_the_array_tells(sim, events):
    cim = adapter(sim)
    view = View(sim)
    sources = cim.volumes_by_uid([SRC1, SRC2])
    free = cim.host_named("vss_free_host")
    targets = sorted(cim.host_volumes(free.id), key=lambda v: int(v.id))[-2:]
    group = cim.create_group("cim-wire-g")
    cim.attach([(sources[u].id, t.id, f"cim-wire-{n}") for n, (u, t) in enumerate(zip((SRC1, SRC2), targets))],
               copy_rate=0, incremental=False, group_id=group.id)
    sim.faults([{"method": "GetInstance", "action": "drop"}])      # a look at the prepare job is cut
    cim.prepare_group(group.id)
    assert view.groups()["cim-wire-g"]["status"] == 4 and cim.group(group.id).state == PREPARED
    sim.faults([{"method": "ModifySynchronizedSet", "action": "drop"}])
    sent = cim.requests
    with pytest.raises(OutcomeUnknown) as err:
        cim.start_group(group.id)
    assert cim.requests - sent == 1 and err.value.code == 911 and "\n" not in str(err.value)
    sim.clear_faults()
    assert cim.group(group.id).state == COPYING                    # it did start
    assert any("outcome unknown" in e for e in events())
    cim.delete_group(group.id, force=True)
    for m in cim.fcmaps_named("cim-wire-"):
        cim.delete_fcmap(m.id, force=True)
    assert not any(name.startswith("cim-wire") for name in view.fcmaps())
