#!/usr/bin/env bash
# The same-job A/B driver (scripts/ab.sh) with two stub bench programs: both sides run in every
# round, in a random order, and the gate's exit status comes back (0 for A/A, 1 for a contender
# that is clearly slower); a side that fails to report ends the job with 2.
# Usage: ab_test.sh COMPARE_BIN
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
compare="$1"
work="$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-$$-abtest-XXXXXX")"
trap 'rm -rf "$work"' EXIT
failures=0 passed=0
check() {  # description, then a command that must succeed
  local what="$1"; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

# stub NAME FACTOR [EXIT]: a bench program that logs its side and writes a plain Google Benchmark
# report of two benchmarks whose real_time is 1000 * FACTOR ns (plus the round's small offset).
stub() {
  cat >"$work/$1" <<STUB
#!/usr/bin/env bash
out=""
for a in "\$@"; do case "\$a" in --benchmark_out=*) out="\${a#--benchmark_out=}" ;; esac; done
echo "$1 \$*" >>"$work/log"
[ "${3:-0}" -eq 0 ] || exit "${3:-0}"
n=\$(wc -l <"$work/log")
v=\$(awk -v f="$2" -v n="\$n" 'BEGIN { printf "%.3f", 1000 * f + (n % 7) * 0.1 }')
cat >"\$out" <<JSON
{"context": {}, "benchmarks": [
 {"name": "x/1", "run_name": "x/1", "run_type": "iteration", "real_time": \$v, "time_unit": "ns"},
 {"name": "y/1", "run_name": "y/1", "run_type": "iteration", "real_time": \$v, "time_unit": "ns"}]}
JSON
STUB
  chmod +x "$work/$1"
}
stub same_a 1.0
stub same_b 1.0
stub slower 1.5
stub broken 1.0 3

# A/A over 20 rounds: exit 0; every round ran both sides, back to back; both orders occur.
: >"$work/log"
"$here/scripts/ab.sh" --quiet --rounds 20 --compare "$compare" "$work/aa" "$work/same_a" "$work/same_b" --quick >/dev/null 2>&1
check "A/A exits 0" [ $? -eq 0 ]
check "20 baseline reports" [ "$(find "$work/aa/baseline" -name 'round-*.json' | wc -l)" -eq 20 ]
check "20 contender reports" [ "$(find "$work/aa/contender" -name 'round-*.json' | wc -l)" -eq 20 ]
check "order has 20 rounds" [ "$(wc -l <"$work/aa/order.txt")" -eq 20 ]
check "baseline first in some round" grep -q ' baseline contender$' "$work/aa/order.txt"
check "contender first in some round" grep -q ' contender baseline$' "$work/aa/order.txt"
check "the bench arguments reach both sides" [ "$(grep -c -- '--quick --benchmark_repetitions=1' "$work/log")" -eq 40 ]
# The log follows order.txt: round r's two runs are lines 2r-1 and 2r, in the recorded order.
mapfile -t runs < <(awk '{print ($1 == "same_a" ? "baseline" : "contender")}' "$work/log")
mapfile -t firsts < <(awk '{print $2}' "$work/aa/order.txt")
ok=1
for ((r = 0; r < 20; r++)); do
  [ "${runs[2 * r]}" = "${firsts[r]}" ] && [ "${runs[2 * r]}" != "${runs[2 * r + 1]}" ] || ok=0
done
check "each round runs both sides in the recorded order" [ "$ok" -eq 1 ]

# A contender 50 % slower, 10 rounds: the gate finds it (exit 1).
"$here/scripts/ab.sh" --quiet --rounds 10 --compare "$compare" "$work/ab" "$work/same_a" "$work/slower" >/dev/null 2>&1
check "a slower contender exits 1" [ $? -eq 1 ]

# A side that cannot report ends the job with 2 and says which.
err="$("$here/scripts/ab.sh" --quiet --rounds 3 "$work/bad" "$work/same_a" "$work/broken" 2>&1 >/dev/null)"
status=$?
check "a broken side exits 2" [ "$status" -eq 2 ]
check "the message names the side" grep -q 'contender run 1 exited 3' <<<"$err"
"$here/scripts/ab.sh" --rounds 0 "$work/x" "$work/same_a" "$work/same_b" 2>/dev/null
check "--rounds 0 is bad input" [ $? -eq 2 ]
"$here/scripts/ab.sh" "$work/x" "$work/missing" "$work/same_b" 2>/dev/null
check "a missing program is bad input" [ $? -eq 2 ]

echo "ab.sh: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
