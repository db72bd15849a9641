#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian/Ubuntu-like machine: system packages the tests
# use (third-party CIM client, Go toolchain for the vcsim harness, mingw-w64 and Wine
# for the native VSS provider DLL) and a virtualenv
# with the project installed in editable mode.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

want_apt=()
command -v wbemcli >/dev/null 2>&1 || want_apt+=(sblim-wbemcli)
command -v go >/dev/null 2>&1 || want_apt+=(golang-go)
[ -d /usr/share/gocode/src/github.com/vmware/govmomi ] || want_apt+=(golang-github-vmware-govmomi-dev)
command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || want_apt+=(g++-mingw-w64-x86-64-posix)
command -v wine >/dev/null 2>&1 || want_apt+=(wine wine64)
if [ "${#want_apt[@]}" -gt 0 ] && [ "${VSSORCH_NO_APT:-}" != 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want_apt[@]}" >/dev/null
  else
    echo "setup: not root or no apt-get; skipping system packages: ${want_apt[*]}" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e ".[test]"
  # a virtualenv made before import-linter moved out still has it and rich
  if [ -x .venv/bin/lint-imports ]; then .venv/bin/pip uninstall -q -y import-linter rich >/dev/null; fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The import rules' checker in a virtualenv of its own: in the product's, its dependency
# rich would be imported by structlog in every command (and it wants a newer click than
# pywbemtools allows). It reads the packages from the working directory, not installed.
if [ ! -x .venv-tools/bin/lint-imports ]; then
  python3 -m venv .venv-tools
  .venv-tools/bin/pip install -q "import-linter>=2.5,<3"
fi
