"""FlashCopy driven over CIM only (tests/support/fccim.py): a real simulator process, a
plain pywbem connection (no product adapter), the admin endpoint for the clock and the data
endpoint for bytes. The clock is all but frozen (scale 1e-9) and moved on explicitly,
so a test decides exactly when prepares end and copies progress."""
from __future__ import annotations

import pytest

from tests.support.arrayproc import ArrayProcess
from tests.support.fccim import FcCim


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    proc = ArrayProcess(tmp_path_factory.mktemp("cimfc"), http=True).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def fc(sim) -> FcCim:
    f = FcCim(sim)
    f.freeze()
    return f
