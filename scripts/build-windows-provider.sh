#!/usr/bin/env bash
# Builds the native VSS hardware provider (windows/provider/) with Debian's mingw-w64
# cross compiler: build/windows/vssorch_provider.dll and the test harness
# build/windows/vssprov_harness.exe. Statically linked (libstdc++, libgcc, winpthread):
# they import only system DLLs. Skips the build when the sources are unchanged (a stamp
# named after their hash). Prints the two paths.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$here/windows/provider"
out="$here/build/windows"
cxx="${VSSORCH_MINGW_CXX:-x86_64-w64-mingw32-g++-posix}"
command -v "$cxx" >/dev/null 2>&1 || { echo "build-windows-provider: $cxx not found (bash scripts/setup.sh as root installs it)" >&2; exit 3; }

hash="$(cat "$src"/*.h "$src"/*.cpp "$src"/*.def "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"
stamp="$out/.built-$hash"
if [ ! -f "$stamp" ] || [ ! -f "$out/vssorch_provider.dll" ] || [ ! -f "$out/vssprov_harness.exe" ]; then
  mkdir -p "$out"
  rm -f "$out"/.built-*
  flags=(-std=c++17 -O2 -Wall -Wextra -Werror -municode -I"$src")
  link=(-static -static-libgcc -static-libstdc++ -s)
  obj="$out/obj"
  mkdir -p "$obj"
  # one object per source, two compilers at a time (windows.h makes each one slow)
  running=()
  for f in "$src"/*.cpp; do
    "$cxx" "${flags[@]}" -c "$f" -o "$obj/$(basename "$f" .cpp).o" &
    running+=($!)
    if [ "${#running[@]}" -ge 2 ]; then wait "${running[0]}"; running=("${running[@]:1}"); fi
  done
  for pid in "${running[@]}"; do wait "$pid"; done
  o() { for n in "$@"; do printf '%s\n' "$obj/$n.o"; done; }
  "$cxx" -shared "${link[@]}" -o "$out/vssorch_provider.dll" $(o json lun client async provider module guids) \
    "$src"/vssorch_provider.def -lwinhttp -lole32 -ladvapi32 -luuid
  "$cxx" -municode "${link[@]}" -o "$out/vssprov_harness.exe" $(o json lun harness guids) -lole32 -luuid
  touch "$stamp"
fi
echo "$out/vssorch_provider.dll"
echo "$out/vssprov_harness.exe"
