#!/usr/bin/env bash
# The README's first command: set up, start the embedded array on a free port with its
# state in .state/, run examples/demo-batch.yaml against it, print what happened, and
# stop the array (also when the batch fails).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
py=.venv/bin/python
state=.state/demo
rm -rf "$state"
mkdir -p "$state"

# Port 0: the array picks a free port and prints it on its first line.
"$py" -m orchestrator.cli.main sim serve --state "$state/array" --seed simulator/seeds/demo.yaml \
  --port 0 --time-scale 1000 >"$state/array.out" 2>"$state/array.log" &
array_pid=$!
trap 'kill "$array_pid" 2>/dev/null; wait "$array_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$state/array.out" 2>/dev/null && break
  kill -0 "$array_pid" 2>/dev/null || { cat "$state/array.log" >&2; exit 1; }
  sleep 0.1
done
url="$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$state/array.out")"
port="${url##*:}"
echo "embedded array: $url (state in $state/array)"

# The example configuration, pointed at this array and at the demo's application host.
config="$state/config.yaml"
cp config.example.yaml "$config"
export VSSORCH_SET_CHECK=0      # connection settings are tested once, below
inspurvcfg=.venv/bin/inspurvcfg
"$inspurvcfg" --config "$config" set cimomPort "$port" >/dev/null
"$inspurvcfg" --config "$config" set caFile "$here/$state/array/tls/cert.pem" >/dev/null
"$inspurvcfg" --config "$config" set stateDir "$here/$state/orchestrator" >/dev/null
"$inspurvcfg" --config "$config" set hostAdapter sim >/dev/null
"$inspurvcfg" --config "$config" set simInitiator iqn.1991-05.com.microsoft:win-abuutepnmf >/dev/null
VSSORCH_SET_CHECK=1 "$inspurvcfg" --config "$config" set cimomHost 127.0.0.1

echo
echo "== the free pool of target volumes (inspurvcfg listvols free)"
"$inspurvcfg" --config "$config" listvols free
echo
echo "== vssorch batch examples/demo-batch.yaml"
status=0
.venv/bin/vssorch batch examples/demo-batch.yaml --config "$config" --report "$state/report.json" || status=$?
echo
echo "== shadow copies left (vssorch list)"
.venv/bin/vssorch list --config "$config"
echo
echo "report: $state/report.json"
exit "$status"
