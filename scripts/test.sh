#!/usr/bin/env bash
# Set up (if needed) and run every test. Extra arguments go to pytest (e.g. --long).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
exec .venv/bin/python -m pytest -n 2 "$@"
