import pytest

from tests.support.arrayproc import ArrayProcess
from tests.support.smis import Cim


@pytest.fixture
def array_factory(tmp_path_factory):
    """Start embedded-array processes; all are stopped at the end of the test."""
    started = []

    def make(http: bool = False, seed=None, time_scale: float = 1.0, state=None, extra=()):
        proc = ArrayProcess(state or tmp_path_factory.mktemp("array"), http=http, seed=seed,
                            time_scale=time_scale, extra=list(extra)).start()
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()


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
