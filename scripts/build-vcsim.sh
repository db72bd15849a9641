#!/usr/bin/env bash
# Build the vcsim test harness (tools/vcsim) into build/vcsim/vcsim against Debian's
# govmomi 0.24.2 in GOPATH mode: no modules, no network. Skips the build when the
# sources, the Go version and the govmomi package are unchanged since the last one.
# Safe to run concurrently (pytest-xdist workers each call it): builds are serialised
# by a lock and the binary is replaced atomically.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

gocode=/usr/share/gocode
govmomi="$gocode/src/github.com/vmware/govmomi"
out=build/vcsim
bin="$out/vcsim"

if ! command -v go >/dev/null 2>&1; then
  echo "build-vcsim: 'go' not found; install golang-go (scripts/setup.sh does)" >&2
  exit 1
fi
if [ ! -f "$govmomi/simulator/simulator.go" ]; then
  echo "build-vcsim: govmomi source not found under $govmomi;" \
       "install golang-github-vmware-govmomi-dev (scripts/setup.sh does)" >&2
  exit 1
fi

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

export GO111MODULE=off GOPATH="$gocode" GOFLAGS=
# Go needs a build cache; keep one under build/ when the user has none (no $HOME).
if [ -z "$(go env GOCACHE 2>/dev/null)" ] || [ "$(go env GOCACHE 2>/dev/null)" = off ]; then
  export GOCACHE="$here/$out/go-cache"
fi

# What the binary depends on: our sources, the toolchain, the installed govmomi.
stamp="$( { cat tools/vcsim/*.go; go version;
            dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null ||
              stat -c %Y "$govmomi/simulator/simulator.go"; } | sha1sum | cut -c1-16)"
if [ -x "$bin" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

echo "build-vcsim: building $bin (about a minute while Go's build cache is cold)" >&2
go build -o "$bin.tmp" ./tools/vcsim
mv -f "$bin.tmp" "$bin"
echo "$stamp" >"$out/.stamp"
