#!/usr/bin/env bash
# The same-job A/B driver (scripts/ab.sh) with stub bench programs: both sides run in every
# round, in a balanced order (ABBA), and the gate's exit status comes back (0 for A/A, 1 for a
# contender that is clearly slower, corrupts data or fails in one round); a side that fails to
# report ends the job with 2. Then run_all.sh --ab-binary over the same stubs (--no-build).
# Usage: ab_test.sh COMPARE_BIN
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
compare="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-$$-abtest-XXXXXX")"
trap 'rm -rf "$work"' EXIT
failures=0 passed=0
check() {  # description, then a command that must succeed
  local what="$1"; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

# stub NAME FACTOR [EXIT] [BREAK]: a bench program that logs its side and writes a plain Google
# Benchmark report of two benchmarks whose real_time is 1000 * FACTOR ns (plus the round's small
# offset). BREAK: "always", x/1 fails its data check in every run (exit 1, as the bench program
# does); a number N, only in its N-th run. --benchmark_list_tests prints the two names.
stub() {
  cat >"$work/$1" <<STUB
#!/usr/bin/env bash
out=""
for a in "\$@"; do
  case "\$a" in
    --benchmark_out=*) out="\${a#--benchmark_out=}" ;;
    --benchmark_list_tests=true) printf 'x/1\ny/1\n'; exit 0 ;;
  esac
done
echo "$1 \$*" >>"$work/log"
[ "${3:-0}" -eq 0 ] || exit "${3:-0}"
echo run >>"$work/$1.runs"
n=\$(wc -l <"$work/log")
v=\$(awk -v f="$2" -v n="\$n" 'BEGIN { printf "%.3f", 1000 * f + (n % 7) * 0.1 }')
x='"real_time": '\$v', "time_unit": "ns"'
status=0
if [ "${4:-}" = always ] || [ "${4:-}" = "\$(wc -l <"$work/$1.runs")" ]; then
  x='"real_time": 0, "time_unit": "ns", "error_occurred": true, "error_message": "failed: data check: 3 corrupted"'
  status=1
fi
cat >"\$out" <<JSON
{"context": {}, "benchmarks": [
 {"name": "x/1", "run_name": "x/1", "run_type": "iteration", \$x},
 {"name": "y/1", "run_name": "y/1", "run_type": "iteration", "real_time": \$v, "time_unit": "ns"}]}
JSON
exit "\$status"
STUB
  chmod +x "$work/$1"
}
stub same_a 1.0
stub same_b 1.0
stub slower 1.5
stub broken 1.0 3
stub corrupt 1.0 0 always
stub flaky 1.0 0 3

# A/A over 20 rounds: exit 0; every round ran both sides, back to back; both orders occur.
: >"$work/log"
"$here/scripts/ab.sh" --quiet --rounds 20 --compare "$compare" "$work/aa" "$work/same_a" "$work/same_b" --quick >/dev/null 2>&1
check "A/A exits 0" [ $? -eq 0 ]
check "20 baseline reports" [ "$(find "$work/aa/baseline" -name 'round-*.json' | wc -l)" -eq 20 ]
check "20 contender reports" [ "$(find "$work/aa/contender" -name 'round-*.json' | wc -l)" -eq 20 ]
check "order has 20 rounds" [ "$(wc -l <"$work/aa/order.txt")" -eq 20 ]
check "baseline first in some round" grep -q ' baseline contender$' "$work/aa/order.txt"
check "contender first in some round" grep -q ' contender baseline$' "$work/aa/order.txt"
# Balanced: rounds 2k-1 and 2k run in opposite orders, so each side runs first in 10 of 20.
mapfile -t order_lines <"$work/aa/order.txt"
balanced=1
for ((r = 0; r < 20; r += 2)); do
  read -r _ a1 b1 <<<"${order_lines[r]}"
  read -r _ a2 b2 <<<"${order_lines[r + 1]}"
  [ "$a1" = "$b2" ] && [ "$b1" = "$a2" ] || balanced=0
done
check "each pair of rounds runs in opposite orders (ABBA)" [ "$balanced" -eq 1 ]
check "baseline first in exactly 10 rounds" [ "$(grep -c ' baseline contender$' "$work/aa/order.txt")" -eq 10 ]
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

# A contender that corrupts data in every round: the gate fails it (exit 1), naming it.
gate_out="$("$here/scripts/ab.sh" --quiet --rounds 8 --compare "$compare" "$work/corrupt-ab" "$work/same_a" "$work/corrupt" 2>&1)"
check "a contender that corrupts data exits 1" [ $? -eq 1 ]
check "the gate names the failed benchmark" grep -q 'FAILED x/1: ok in baseline, failed in contender (failed: data check: 3 corrupted)' <<<"$gate_out"
# One that corrupts data in one round of eight: never silently dropped, exit 1 with the count.
rm -f "$work"/*.runs
gate_out="$("$here/scripts/ab.sh" --quiet --rounds 8 --compare "$compare" "$work/flaky-ab" "$work/same_a" "$work/flaky" 2>&1)"
check "a contender that fails in one round exits 1" [ $? -eq 1 ]
check "the gate counts the failed round" grep -q 'FAILED x/1: ok in baseline, failed in contender in 1 of 8 runs' <<<"$gate_out"

# run_all.sh --ab-binary gates the same way: the planted corruption fails the job with 1. Its
# build folder holds the stub as this tree's bench program and the real gate (--no-build).
mkdir -p "$work/build/bench" "$work/build/compare"
cp "$work/corrupt" "$work/build/bench/ipcbench"
ln -s "$compare" "$work/build/compare/ipcbench-compare"
rm -f "$work"/*.runs
"$here/run_all.sh" --no-build --build-dir "$work/build" --ab-binary "$work/same_a" \
  --out "$work/ab-run.json" --no-probes >"$work/run_all.log" 2>&1
status=$?
check "run_all.sh --ab with a contender that corrupts data exits 1" [ "$status" -eq 1 ]
check "run_all.sh --ab names the failed benchmark" grep -q 'FAILED x/1' "$work/run_all.log"
check "run_all.sh --ab ran the rounds the family needs" [ "$(find "$work/ab-run-ab/contender" -name 'round-*.json' | wc -l)" -eq 8 ]
cp "$work/same_b" "$work/build/bench/ipcbench"
"$here/run_all.sh" --no-build --build-dir "$work/build" --ab-binary "$work/same_a" \
  --out "$work/aa-run.json" --no-probes >"$work/run_all_aa.log" 2>&1
check "run_all.sh --ab of a build against itself exits 0" [ $? -eq 0 ]

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
