"""Fuzzed callback payloads through the running service: whatever JSON the shim sends,
the reply is JSON with a status the schema documents (200 with an HRESULT, 400, 404),
never a 500, and the array is unchanged."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from orchestrator.service_schema import CALLS
from orchestrator.vss_types import HResult

from tests.support.demo import SRC1
from tests.support.service import client_of

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                    st.text(max_size=40), st.sampled_from([SRC1, "{set}", "E:", "60050760", ""]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=12)


def bodies():
    def for_call(call):
        names = sorted(CALLS[call])
        known = st.dictionaries(st.sampled_from(names), values, max_size=len(names)) if names else st.just({})
        return st.tuples(st.just(call), st.one_of(known, values))
    return st.sampled_from(sorted(CALLS)).flatmap(for_call)


def test_any_payload_gets_a_documented_answer_and_changes_nothing(service, view):
    client = client_of(service)
    before = view.snapshot()
    statuses = set()

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.function_scoped_fixture])
    @given(bodies())
    def check(case):
        call, body = case
        status, reply = client.request("POST", f"/v1/{call}", json.dumps(body).encode())
        statuses.add(status)
        assert status in (200, 400), (call, body, status, reply)
        assert isinstance(reply, dict) and ("hresult" in reply or "error" in reply)
        if status == 200 and not reply["ok"]:
            assert reply["hresult"] in HResult.__members__ and reply["hresult"] != "VSS_E_UNEXPECTED_PROVIDER_ERROR"

    try:
        check()
    finally:
        client.close()
    assert 400 in statuses
    assert view.snapshot() == before
