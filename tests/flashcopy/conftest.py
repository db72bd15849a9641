"""Fixtures for the FlashCopy engine (tests/support/fcengine.py): a fake clock and an
engine on a bare database."""
from __future__ import annotations

import pytest

from tests.support.clock import FakeClock
from tests.support.fcengine import Array, make_db


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def array(clock) -> Array:
    return Array(make_db(), clock)
