"""HTTPS: the array's own certificate as the CA file works; verification is on by
default, so another CA (or none) is 3002 before anything is sent."""
from __future__ import annotations

import pytest

from core.errors import ArrayCallError, OutcomeUnknown
from tests.support.arrayproc import ArrayProcess

from .conftest import DEMO, SRC1, adapter


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory):
    """Two HTTPS arrays, each with its own self-signed certificate."""
    procs = [ArrayProcess(state=tmp_path_factory.mktemp(f"tls{n}"), seed=DEMO, time_scale=1000).start()
             for n in range(2)]
    yield procs
    for proc in procs:
        proc.stop()


def test_https_with_the_arrays_certificate(tls_pair):
    sim = tls_pair[0]
    cim = adapter(sim)
    assert cim.url.startswith("https://")
    assert SRC1 in cim.volumes_by_uid([SRC1])
    group = cim.create_group("cim-tls")
    assert [g.id for g in cim.groups_named("cim-tls")] == [group.id]
    cim.delete_group(group.id)


def test_another_ca_is_refused(tls_pair):
    sim, other = tls_pair
    for ca in (other.cafile, None):             # the other array's certificate; the system store
        cim = adapter(sim, ca_file=ca)
        with pytest.raises(ArrayCallError) as err:
            cim.identity()
        assert err.value.code == 3002 and "certificate" in str(err.value).lower()
        assert not isinstance(err.value, OutcomeUnknown)
        assert cim.requests == 1                 # a bad certificate stays bad: not retried


def test_verification_can_be_turned_off(tls_pair):
    sim, other = tls_pair
    assert adapter(sim, ca_file=other.cafile, verify=False).identity().cluster_id


def test_missing_ca_file_is_3002(tls_pair, tmp_path):
    with pytest.raises(ArrayCallError) as err:
        adapter(tls_pair[0], ca_file=str(tmp_path / "nope.pem"))
    assert err.value.code == 3002
