"""The CIM adapter against a real embedded-array process (demo seed), with the array view
(tests/support/view.py) as an independent view of what is on the array."""
from __future__ import annotations

import pytest

from tests.support.cimadapter import adapter
from tests.support.demo import start_seeded


@pytest.fixture
def sim(array):
    """tests/conftest.py's demo array, under the name these tests give the array."""
    return array


@pytest.fixture(scope="module")
def shared_sim(tmp_path_factory):
    """One array for tests that only read (or put back what they change)."""
    proc = start_seeded(tmp_path_factory.mktemp("array"))
    yield proc
    proc.stop()


@pytest.fixture
def cim(sim):
    return adapter(sim)
