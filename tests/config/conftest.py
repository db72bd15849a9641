"""Helpers for the configuration tests: the example file and the installed console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.yaml"


def _command() -> list[str]:
    # The console script exists once the project is installed (pip install -e); before
    # that, the module runs the same main().
    script = shutil.which("inspurvcfg", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "orchestrator.cli.inspurvcfg"]


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
    command = _command()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VSSORCH_")}
    env["VSSORCH_SET_CHECK"] = "0"     # no array here: skip the connection test after `set`

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*command, *args], cwd=tmp_path, env={**env, **(extra_env or {})},
                              capture_output=True, text=True, timeout=60)
    return run
