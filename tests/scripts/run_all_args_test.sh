#!/usr/bin/env bash
# Every bad argument of run_all.sh stops it with exit 2 and one line naming the problem, before
# it installs packages, builds or runs the probes: the build directory it was given is never made.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-$$-args-XXXXXX")"
trap 'rm -rf "$work"' EXIT
build="$work/never-built"
fixtures="$here/plots/tests/fixtures"
failures=0 passed=0

expect_bad() {  # expected words in the message, then the arguments
  local want="$1"; shift
  local err rc start elapsed
  start=$(date +%s%N)
  # The build directory goes first, so a case's own --build-dir wins; a cmake that only leaves a
  # mark stands in for the real one, so a bad argument that slipped through costs no build.
  err="$(PATH="$stubs:$PATH" "$here/run_all.sh" --build-dir "$build" "$@" 2>&1 >/dev/null </dev/null)"
  rc=$?
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  local problem=""
  [ "$rc" -eq 2 ] || problem="exit $rc, not 2"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || problem="$problem; not one line"
  [[ "$err" == "run_all.sh: "*"$want"* ]] || problem="$problem; message lacks '$want'"
  [ -e "$build" ] || [ -e "$work/cmake-ran" ] && problem="$problem; the build started"
  [ "$elapsed" -lt 10000 ] || problem="$problem; took ${elapsed} ms"
  if [ -n "$problem" ]; then
    echo "FAIL run_all.sh $*: $problem"
    printf '  stderr: %s\n' "$err"
    failures=$((failures + 1))
  else
    passed=$((passed + 1))
  fi
  rm -rf "$build" "$work/cmake-ran"
}

stubs="$work/stubs"
mkdir "$work/a-directory" "$stubs"
printf '#!/bin/sh\ntouch "%s/cmake-ran"\nexit 3\n' "$work" >"$stubs/cmake"
chmod +x "$stubs/cmake"
expect_bad "unknown option '--bogus'" --bogus
expect_bad "--filter needs a value" --filter
expect_bad "not a valid regular expression" --filter '(pipe'
expect_bad "--repetitions" --repetitions 0
expect_bad "--repetitions" --repetitions abc
expect_bad "--repetitions" --repetitions 1001
expect_bad "--max-repetitions must be a whole number from 1 to 1000, not '0'" --max-repetitions 0
expect_bad "--max-repetitions must be a whole number" --max-repetitions many
expect_bad "--max-repetitions needs a value" --max-repetitions
expect_bad "--max-repetitions 4 is below the stop rule's minimum of 5 repetitions" --max-repetitions 4
expect_bad "--max-repetitions 2 is below the stop rule's minimum of 3 repetitions" --quick --max-repetitions 2
expect_bad "--repetitions replaces it" --max-repetitions 20 --repetitions 3
expect_bad "an A/B runs a fixed number of rounds" --max-repetitions 20 --ab HEAD
expect_bad "--placement must be" --placement diagonal
expect_bad "--process must be" --process thread
expect_bad "--fan needs a value" --fan
expect_bad "--fan: 0 is outside 1..64" --fan 0
expect_bad "--fan: 65 is outside 1..64" --fan 1,65
expect_bad "--fan: 'x' is not a number" --fan 2,x
expect_bad "--fan has an empty item" --fan 1,,2
expect_bad "--fan: 2 appears twice" --fan 2,4,2
expect_bad "--cpus needs exactly two CPU numbers" --cpus 1
expect_bad "--cpus needs exactly two CPU numbers" --cpus 0,1,2
expect_bad "'x' in '0,x' is not a CPU number" --cpus 0,x
expect_bad "'' in '0,' is not a CPU number" --cpus 0,
expect_bad "CPU 100000 is not one this process may run on" --cpus 0,100000
expect_bad "--cpus 0,0 means placement same, not --placement cross" --cpus 0,0 --placement cross
expect_bad "--cpus needs a value" --cpus
expect_bad "--idle-states must be held or allowed" --idle-states off
expect_bad "--idle-states needs a value" --idle-states
expect_bad "--library-threads must be pinned or free" --library-threads loose
expect_bad "--library-threads needs a value" --library-threads
expect_bad "message size 0 is invalid" --sizes 0
expect_bad "message size 0 is invalid" --sizes 64,000
expect_bad "empty item" --sizes 1,,64
expect_bad "empty item" --sizes 64,
expect_bad "is not a number" --sizes 4k
expect_bad "larger than the limit" --sizes 1073741825
expect_bad "larger than the limit" --sizes 99999999999999999999
expect_bad "--sizes needs a value" --sizes ""
expect_bad "--target-time" --target-time 0
expect_bad "--target-time" --target-time -1
expect_bad "--target-time" --target-time fast
expect_bad "--target-time" --target-time 61
expect_bad "no directory" --out "$work/missing/report.json"
expect_bad "a directory" --out "$work/a-directory"
expect_bad "cannot read baseline" --baseline "$work/missing.json"
expect_bad "is a directory" --baseline "$work/a-directory"
if command -v python3 >/dev/null 2>&1; then
  expect_bad "malformed JSON" --baseline "$fixtures/malformed.json"
  expect_bad "not a benchmark report" --baseline "$fixtures/not-a-report.json"
fi
# What needs git (the commits of this repository) is checked where git is; elsewhere the case is
# skipped, with the reason, and the error without git is checked instead.
if command -v git >/dev/null 2>&1; then
  if command -v python3 >/dev/null 2>&1; then
    # A stored report whose commit this repository does not have cannot be gated against a new run.
    expect_bad "records no commit of this repository ('0123456789ab')" --baseline "$fixtures/report-a.json"
  fi
  expect_bad "is not a commit of this repository" --ab no-such-ref-anywhere
else
  echo "SKIP: --ab and --baseline against a commit need git, which this machine lacks"
  expect_bad "--ab needs git" --ab HEAD
fi
expect_bad "not a directory" --build-dir "$fixtures/malformed.json"
expect_bad "--ab and --baseline exclude each other" --ab HEAD --baseline "$fixtures/report-a.json"
expect_bad "is not an executable program" --ab-binary "$work/missing-bench"
expect_bad "--ab needs a git ref" --ab
if [ "$(id -u)" -ne 0 ]; then
  expect_bad "not writable" --out /proc/report.json
fi

echo "run_all.sh arguments: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
