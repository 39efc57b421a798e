#!/usr/bin/env bash
# The installed package as a transport author uses it (docs/packaging.md): installs a Release
# build tree into a fresh prefix, builds examples/spsc_ring against it in a separate build
# (find_package(ipcbench CONFIG)), runs the conformance suite on the example, runs it in a small
# report twice (its own program, and the installed ipcbench with the example as a --plugin),
# compares the two reports, and makes the .deb (cpack) and checks what it holds and depends on.
# Usage: scripts/check_package.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:?usage: check_package.sh BUILD_DIR}" && pwd)"
# "ipcbench-<pid>-": if this script is killed, the next run's sweep removes the directory.
work="$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-$$-package-XXXXXX")"
trap 'rm -rf "$work"' EXIT
say() { echo "check_package.sh: $*"; }
fail() { echo "check_package.sh: FAIL: $*" >&2; exit 1; }

prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/ipcbench bin/ipcbench-compare bin/ipcbench-probe include/ipcbench/ipcbench.hpp \
         include/ipcbench/conformance.hpp include/ipcbench/version.hpp; do
  [ -e "$prefix/$f" ] || fail "the install has no $f"
done
"$prefix/bin/ipcbench" --help >/dev/null || fail "the installed ipcbench --help failed"
"$prefix/bin/ipcbench-compare" --help >/dev/null || fail "the installed ipcbench-compare --help failed"

example="$work/example"
lines="$(grep -c . "$here/examples/spsc_ring/CMakeLists.txt")"
[ "$lines" -le 15 ] || fail "examples/spsc_ring/CMakeLists.txt has $lines lines (at most 15)"
cmake -S "$here/examples/spsc_ring" -B "$example" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$example" -j "$(nproc)" >/dev/null
say "examples/spsc_ring built against the installed package"

"$example/spsc_ring_conformance" > "$work/conformance.txt" ||
  { cat "$work/conformance.txt"; fail "the example failed the conformance suite"; }
cat "$work/conformance.txt"

run=(--sizes 64,4096,1048576 --target-time 0.02 --benchmark_repetitions=3 --progress
     "--benchmark_filter=^example.spsc_ring/(latency|throughput)/")
"$example/spsc_ring_bench" "${run[@]}" "--benchmark_out=$work/program.json" 2>/dev/null ||
  fail "spsc_ring_bench failed"
"$prefix/bin/ipcbench" --plugin "$example/libspsc_ring_plugin.so" "${run[@]}" \
  "--benchmark_out=$work/plugin.json" 2>/dev/null || fail "ipcbench --plugin failed"
for r in program plugin; do
  n="$(grep -c '"name": "example.spsc_ring/' "$work/$r.json" || true)"
  [ "$n" -ge 6 ] || fail "the $r report has $n example.spsc_ring entries"
done
status=0
"$prefix/bin/ipcbench-compare" "$work/program.json" "$work/plugin.json" --allow-untested \
  > "$work/compare.txt" || status=$?
[ "$status" -le 1 ] || { cat "$work/compare.txt"; fail "ipcbench-compare exited $status"; }
grep -Eq '^example.spsc_ring +latency +64 B' "$work/compare.txt" ||
  { cat "$work/compare.txt"; fail "the comparison does not show example.spsc_ring"; }
say "example.spsc_ring reported by its own program and as a plug-in, and compared"

(cd "$work" && cpack --config "$build/CPackConfig.cmake" -B "$work/deb" >/dev/null)
deb="$(ls "$work"/deb/ipcbench_*.deb)"
dpkg-deb -c "$deb" > "$work/deb.txt"
grep -q '\./usr/bin/ipcbench$' "$work/deb.txt" || fail "$deb has no /usr/bin/ipcbench"
grep -q 'cmake/ipcbench/ipcbench-config.cmake$' "$work/deb.txt" ||
  fail "$deb has no CMake package config"
depends="$(dpkg-deb -f "$deb" Depends)"
for d in nlohmann-json3-dev libbenchmark; do
  [[ "$depends" == *"$d"* ]] || fail "$deb does not depend on $d: $depends"
done
say "$(basename "$deb"): Depends: $depends"
