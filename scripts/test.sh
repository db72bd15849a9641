#!/usr/bin/env bash
# Set up (if needed), run the static checks, then every test. Extra arguments go to pytest
# (e.g. --long). The checks take seconds and fail the run on any finding.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
.venv/bin/ruff check --quiet .            # rules: [tool.ruff] in pyproject.toml
.venv/bin/mypy                            # modules and exclusions: [tool.mypy]
.venv-tools/bin/lint-imports --no-logo --no-cache  # contracts: [tool.importlinter]
exec .venv/bin/python -m pytest -n 2 "$@"
