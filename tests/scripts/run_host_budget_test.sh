#!/usr/bin/env bash
# fleet/run_host.sh gives a night's run --budget 1200 unless its run_all.sh options name
# --budget, --quick or --repetitions, which then decide alone. Run over a stub build folder: the
# stub bench program records the options run_all.sh hands it and writes an empty report.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-$$-nightbudget-XXXXXX")"
trap 'rm -rf "$work"' EXIT
build="$work/build"
mkdir -p "$build/bench" "$build/compare" "$work/out"
cat >"$build/bench/ipcbench" <<EOF
#!/bin/sh
# --benchmark_list_tests: run_all.sh's check of the filter; anything else is the sweep.
for a in "\$@"; do
  case "\$a" in --benchmark_list_tests=true) exit 0 ;; esac
done
printf '%s\n' "\$@" >"$work/args"
for a in "\$@"; do
  case "\$a" in --benchmark_out=*) printf '{"benchmarks": []}\n' >"\${a#--benchmark_out=}" ;; esac
done
EOF
printf '#!/bin/sh\nexit 0\n' >"$build/compare/ipcbench-compare"
chmod +x "$build/bench/ipcbench" "$build/compare/ipcbench-compare"
failures=0 passed=0

# expect WANT ARGS...: the budget run_all.sh passed (none: no --budget at all).
expect() {
  local want="$1"; shift
  rm -f "$work/args"
  local rc=0
  "$here/fleet/run_host.sh" h1 "$work/out" "$build" 60 --no-build --no-probes --no-plots "$@" \
    || rc=$?
  local got
  got="$(grep -- '^--budget=' "$work/args" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
  [ -f "$work/args" ] || got="(the sweep never ran: exit $rc; $(tail -n 1 "$work/out/h1.log"))"
  if [ "$got" = "${want:+--budget=$want}" ] && [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    echo "FAIL run_host.sh $*: budget '${got}', exit $rc; want '${want:+--budget=$want}', exit 0"
    failures=$((failures + 1))
  fi
}

expect 1200
expect 1200 --sizes 64
expect 30 --budget 30
expect 0 --budget 0
expect "" --quick
expect "" --repetitions 2

echo "run_host.sh budget: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
