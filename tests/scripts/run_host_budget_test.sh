#!/usr/bin/env bash
# fleet/run_host.sh gives a night's run --budget 2400 --max-repetitions 24 unless its run_all.sh
# options name --budget, --quick or --repetitions, which then decide alone; the cap is left out
# where they name --max-repetitions (theirs is kept). Run over a stub build folder: the
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

# expect BUDGET CAP ARGS...: the budget and the repetitions' cap run_all.sh passed to the bench
# program (empty: none at all).
expect() {
  local want_budget="$1" want_cap="$2"; shift 2
  rm -f "$work/args"
  local rc=0
  "$here/fleet/run_host.sh" h1 "$work/out" "$build" 60 --no-build --no-probes --no-plots "$@" \
    || rc=$?
  local got want
  got="$(grep -- '^--budget=\|^--max-repetitions=' "$work/args" 2>/dev/null | tr '\n' ' ' |
         sed 's/ $//')"
  [ -f "$work/args" ] || got="(the sweep never ran: exit $rc; $(tail -n 1 "$work/out/h1.log"))"
  want="${want_budget:+--budget=$want_budget}${want_budget:+${want_cap:+ }}"
  want="$want${want_cap:+--max-repetitions=$want_cap}"
  if [ "$got" = "$want" ] && [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    echo "FAIL run_host.sh $*: '${got}', exit $rc; want '${want}', exit 0"
    failures=$((failures + 1))
  fi
}

expect 2400 24
expect 2400 24 --sizes 64
expect 2400 8 --max-repetitions 8
expect 30 "" --budget 30
expect 0 "" --budget 0
expect 30 8 --budget 30 --max-repetitions 8
expect "" "" --quick
expect "" "" --repetitions 2

echo "run_host.sh budget: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
