"""Helpers for the configuration tests: the example file and the installed console script."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.commands import clean_env, script

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.yaml"


@pytest.fixture
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A copy of config.example.yaml in a fresh folder."""
    path = tmp_path / "config.yaml"
    shutil.copyfile(EXAMPLE, path)
    return path


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run the real inspurvcfg in a child process, from tmp_path, with no config or
    password variables inherited from the caller."""
    command = script("inspurvcfg")
    env = clean_env()
    env["VSSORCH_SET_CHECK"] = "0"     # no array here: skip the connection test after `set`

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*command, *args], cwd=tmp_path, env={**env, **(extra_env or {})},
                              capture_output=True, text=True, timeout=60)
    return run
