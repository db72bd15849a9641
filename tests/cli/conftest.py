"""The product's commands run as a user runs them: console scripts in child processes,
against a real embedded-array process (tests/conftest.py's demo `array`)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.commands import clean_env, script
from tests.support.configfile import write_config
from tests.support.demo import HOST_IQN


@pytest.fixture
def config(tmp_path, array) -> Path:
    """A configuration for the array, with this host as the demo's application host."""
    return write_config(tmp_path / "config.yaml", array, hostAdapter="sim", simInitiator=HOST_IQN)


@pytest.fixture
def run(tmp_path):
    """run("inspurvcfg", args...) -> CompletedProcess, from tmp_path, no VSSORCH_* inherited."""
    env = clean_env()

    def call(name: str, *args: str, extra_env: dict | None = None, timeout: float = 120,
             input: str | None = None):
        return subprocess.run([*script(name), *args], cwd=tmp_path, env={**env, **(extra_env or {})},
                              capture_output=True, text=True, timeout=timeout, input=input)
    return call
