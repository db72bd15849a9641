import pytest

from tests.support.arrayproc import ArrayProcess
from tests.support.smis import Cim


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """One HTTPS array for a module: tests use their own names so they don't collide."""
    proc = ArrayProcess(tmp_path_factory.mktemp("array")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def conn(sim):
    return sim.conn()


@pytest.fixture(scope="module")
def cim(conn):
    return Cim(conn)
