#!/usr/bin/env bash
# fleet/slurm/ipcbench.sbatch without Slurm: --help, every bad argument (exit 2, one line naming
# it, nothing started), no allocation without --local (ctest SlurmScriptArguments); given a
# build folder ($1), also the whole flow once with --local on a sweep of one benchmark: the
# report, the run record, the history and its page (ctest SlurmScriptLocal).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
script="$here/fleet/slurm/ipcbench.sbatch"
build="${1:+$(cd "$1" && pwd)}"
work="$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-$$-slurm-XXXXXX")"
trap 'rm -rf "$work"' EXIT
failures=0 passed=0 job_id=""
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

expect_bad() {  # expected words, then the arguments
  local want="$1"; shift
  local err rc
  err="$(env -u SLURM_JOB_ID ${job_id:+SLURM_JOB_ID="$job_id"} PATH="/usr/bin:/bin" \
         bash "$script" "$@" 2>&1 >/dev/null </dev/null)"
  rc=$?
  if [ "$rc" -ne 2 ]; then fail "$*: exit $rc, not 2 ($err)"
  elif [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then fail "$*: not one line: $err"
  elif [[ "$err" != "ipcbench.sbatch: "*"$want"* ]]; then fail "$*: '$err' lacks '$want'"
  elif [ -n "$(ls -A "$work/out" 2>/dev/null)" ]; then fail "$*: it wrote into --out"
  else passed=$((passed + 1)); fi
}

mkdir "$work/not-a-repo"
expect_bad "unknown option '--bogus'" --repo "$here" --bogus
expect_bad "--repo needs a value" --repo
expect_bad "--out needs a value" --repo "$here" --out
expect_bad "--db needs a value" --repo "$here" --db
expect_bad "--build-dir needs a value" --repo "$here" --build-dir
expect_bad "--timeout needs a value" --repo "$here" --timeout
expect_bad "--timeout must be a whole number" --repo "$here" --timeout 0
expect_bad "--timeout must be a whole number" --repo "$here" --timeout 10m
expect_bad "--repo is required" --local
expect_bad "is not an ipcbench checkout" --repo "$work/not-a-repo" --local
expect_bad "is not an ipcbench checkout" --repo "$work/missing" --local
expect_bad "no Slurm allocation" --repo "$here" --out "$work/out"
# A job id without srun (a copy of the script run outside the job) is no allocation either.
if ! PATH="/usr/bin:/bin" command -v srun >/dev/null 2>&1; then
  job_id=1 expect_bad "no Slurm allocation" --repo "$here" --out "$work/out"
fi

if help="$(bash "$script" --help)" && [[ "$help" == usage:* ]]; then passed=$((passed + 1))
else fail "--help: not exit 0 with the usage"; fi

if [ -n "$build" ]; then
  out="$work/job" db="$work/history.sqlite"
  TMPDIR="$work" bash "$script" --local --repo "$here" --out "$out" --db "$db" --timeout 300 \
    --build-dir "$build" -- --no-build --no-probes --repetitions 1 --sizes 64 \
    --filter '^pipe/latency/64/cross$' >"$work/local.log" 2>&1
  rc=$?
  host="${SLURMD_NODENAME:-$(hostname -s 2>/dev/null || hostname)}"
  if [ "$rc" -ne 0 ]; then fail "--local: exit $rc"; sed 's/^/  /' "$work/local.log" "$out/$host.log"
  elif [ ! -s "$out/$host.json" ]; then fail "--local: no report $out/$host.json"
  elif ! /usr/bin/python3 - "$out/$host.run.json" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
assert r["exit"] == 0 and r["timed_out"] is False, r
assert re.fullmatch(r"[0-9a-f]{40}", r["commit"] or ""), r
assert re.fullmatch(r"[0-9a-f]{64}", r["binary_sha256"] or ""), r
PY
  then fail "--local: the run record $(cat "$out/$host.run.json")"
  elif ! grep -q "1 of 1 hosts added" "$work/local.log"; then fail "--local: not added"; cat "$work/local.log"
  elif [ ! -s "$out/history/index.html" ]; then fail "--local: no history page"
  else passed=$((passed + 1)); fi
fi

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
