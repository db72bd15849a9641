import os

import pytest

import orchestrator  # noqa: F401 - registers the log settings with core.log
from core import log
from tests.support.demo import start_seeded
from tests.support.view import ArrayView

# structlog is configured at a process's first event (core.log). structlog.testing.capture_logs
# swaps the processors of the configuration in force: configure it now, before any test, or
# a test's first event, inside a capture, would replace the capture.
log.ready()


def pytest_addoption(parser):
    parser.addoption("--long", action="store_true", help="also run the long reliability/property runs")


def pytest_configure(config):
    # modules that size their runs at import time (property tests) read this
    if config.getoption("--long"):
        os.environ["VSSORCH_LONG"] = "1"


def pytest_collection_modifyitems(config, items):
    if config.getoption("--long"):
        return
    skip = pytest.mark.skip(reason="long run: use --long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def array(tmp_path):
    """The demo array (tests/support/demo.py) for one test; tests/flashcopy has its own `array`."""
    proc = start_seeded(tmp_path / "array")
    yield proc
    proc.stop()


@pytest.fixture
def view(array):
    return ArrayView(array)
