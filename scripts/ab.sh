#!/usr/bin/env bash
# Same-job A/B: runs two bench programs (the baseline's and the contender's) round by round, each
# round both of them once over the same benchmarks, so that a drift of the machine falls on both
# sides alike and their samples are exchangeable when nothing changed. The order is balanced:
# rounds go in pairs, the first of a pair in a random order and the second in the other (ABBA),
# so neither side runs first more often. Each run writes DIR/baseline/round-NNN.json or
# DIR/contender/round-NNN.json, and DIR/order.txt records which side ran first in each round.
# With --compare BIN it then gates the pair, round by round:
# BIN --paired --baseline DIR/baseline --contender DIR/contender, and exits with its status.
# Usage: scripts/ab.sh [--rounds N] [--compare BIN] [--quiet] DIR BASELINE_BIN CONTENDER_BIN [BENCH ARGS...]
# Exit: the gate's status with --compare (0 no regression, 1 a regression or a benchmark that
# failed, was skipped or went missing in the contender, 2 bad input or samples that cannot
# decide), 0 without; 2 bad input or a bench run that failed to produce its report.
set -euo pipefail

die() { echo "ab.sh: $*" >&2; exit 2; }
rounds=10 compare="" quiet=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) [ -n "${2:-}" ] || die "--rounds needs a value"; rounds="$2"; shift 2 ;;
    --compare) [ -n "${2:-}" ] || die "--compare needs a value"; compare="$2"; shift 2 ;;
    --quiet) quiet=1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option '$1'" ;;
    *) break ;;
  esac
done
[ $# -ge 3 ] || die "usage: ab.sh [--rounds N] [--compare BIN] DIR BASELINE_BIN CONTENDER_BIN [BENCH ARGS...]"
dir="$1" base_bin="$2" cont_bin="$3"
shift 3
if ! [[ "$rounds" =~ ^[0-9]{1,4}$ ]] || [ "$rounds" -lt 1 ] || [ "$rounds" -gt 1000 ]; then
  die "--rounds must be a whole number from 1 to 1000, not '$rounds'"
fi
[ -x "$base_bin" ] || die "baseline bench program '$base_bin' is not executable"
[ -x "$cont_bin" ] || die "contender bench program '$cont_bin' is not executable"
[ -z "$compare" ] || [ -x "$compare" ] || die "compare program '$compare' is not executable"
mkdir -p "$dir/baseline" "$dir/contender" || die "cannot make '$dir'"
rm -f "$dir"/baseline/round-*.json "$dir"/contender/round-*.json "$dir/order.txt" \
  "$dir/baseline.log" "$dir/contender.log"

run_side() {  # side round
  local side="$1" round="$2" bin out
  bin="$base_bin"
  [ "$side" = contender ] && bin="$cont_bin"
  out="$dir/$side/round-$(printf '%03d' "$round").json"
  local status=0
  if [ "$quiet" -eq 1 ]; then
    "$bin" "${@:3}" "--benchmark_repetitions=1" "--benchmark_out=$out" >/dev/null 2>&1 || status=$?
  else
    # The bench program's own chatter (context, warnings) goes to DIR/<side>.log.
    "$bin" "${@:3}" "--benchmark_repetitions=1" "--benchmark_out=$out" >/dev/null \
      2>>"$dir/$side.log" || status=$?
  fi
  # Exit 1 is a benchmark that failed: the report says which, and the gate fails a benchmark
  # that failed in any contender round after it was ok in every baseline round. Anything else,
  # or no report, ends the job.
  if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then die "$side run $round exited $status"; fi
  [ -s "$out" ] || die "$side run $round wrote no report"
}

start=$(date +%s)
for ((r = 1; r <= rounds; r++)); do
  if [ $((r % 2)) -eq 1 ]; then
    if [ $((RANDOM % 2)) -eq 0 ]; then order=(baseline contender); else order=(contender baseline); fi
  else
    order=("${order[1]}" "${order[0]}")  # the second of a pair: the other way round
  fi
  echo "$r ${order[0]} ${order[1]}" >>"$dir/order.txt"
  for side in "${order[@]}"; do run_side "$side" "$r" "$@"; done
  [ "$quiet" -eq 1 ] || echo "ab.sh: round $r/$rounds done (${order[0]} first, $(( $(date +%s) - start )) s)" >&2
done

[ -n "$compare" ] || exit 0
status=0
"$compare" --paired --baseline "$dir/baseline" --contender "$dir/contender" || status=$?
exit "$status"
