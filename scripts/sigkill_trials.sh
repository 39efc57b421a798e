#!/usr/bin/env bash
# Kills a random process of a running ./run_all.sh (the script, the probe program, the bench
# coordinator or a peer) with SIGKILL at a random moment, N times, and reports after each trial
# what was left (System V objects, /dev/shm, /dev/mqueue, TMPDIR entries, processes) once the run
# ended, and again once the next run had started. Needs a built tree (build/ or --build-dir).
# Usage: scripts/sigkill_trials.sh [TRIALS] [BUILD_DIR]     (prints one line per trial)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
trials="${1:-20}"
build_dir="${2:-$here/build}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-$$-trials-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export TMPDIR="$tmp/tmp"
mkdir -p "$TMPDIR"
filter='^(sysv_shm|posix_shm\.futex|mmap_file|sysv_mq|posix_mq|fifo|unix_stream|tcp|posix_sem|sysv_sem)/'

state() {  # what of ours is on the machine: "sysv=N shm=N mq=N tmp=N procs=N"
  local sysv shm mq tmpn procs
  sysv=$(ipcs -q -m -s 2>/dev/null | grep -cE '^0x[0-9a-f]+ +[0-9]+' || true)
  shm=$(find /dev/shm -mindepth 1 -maxdepth 1 -name '*ipcbench*' 2>/dev/null | wc -l)
  mq=$(find /dev/mqueue -mindepth 1 -maxdepth 1 -name '*ipcbench*' 2>/dev/null | wc -l)
  tmpn=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  procs=$(pgrep -f "$build_dir/(bench|probe)/ipcbench|run_all.sh --build-dir $build_dir" 2>/dev/null | wc -l)
  echo "sysv=$sysv shm=$shm mq=$mq tmp=$tmpn procs=$procs"
}

cmake --build "$build_dir" -j "$(nproc)" >/dev/null || exit 1
for ((t = 1; t <= trials; t++)); do
  setsid "$here/run_all.sh" --build-dir "$build_dir" --quick --no-plots --filter "$filter" \
    --sizes 64,65536 --target-time 0.01 --out "$tmp/report.json" >"$tmp/log" 2>&1 &
  leader=$!
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.1 + rand() * 2.6 }')"
  # The run's own processes, not the compiler of an out-of-date build.
  mapfile -t procs < <(pgrep -s "$leader" -f 'run_all\.sh|/ipcbench' 2>/dev/null)
  if [ "${#procs[@]}" -eq 0 ]; then
    echo "trial $t: the run had ended before the kill; retrying"; t=$((t - 1)); wait "$leader"; continue
  fi
  victim="${procs[RANDOM % ${#procs[@]}]}"
  what="$(tr '\0' ' ' <"/proc/$victim/cmdline" 2>/dev/null | cut -c1-60)"
  kill -9 "$victim" 2>/dev/null
  # Wait for everything of the session (an orphaned coordinator finishes its sweep).
  for _ in $(seq 600); do pgrep -s "$leader" >/dev/null 2>&1 || break; sleep 0.1; done
  wait "$leader" 2>/dev/null
  after="$(state)"
  failed="$(grep -c 'failed' "$tmp/log" || true)"
  # The next run starts (a short one; it sweeps first).
  "$build_dir/bench/ipcbench" --benchmark_filter='^pipe/latency/' --sizes 1 --target-time 0.001 \
    >/dev/null 2>"$tmp/next.log"
  swept="$(grep -o 'left behind: .*' "$tmp/next.log" || true)"
  echo "trial $t: killed pid $victim ($what); after the run: $after; failed lines: $failed;" \
       "after the next run started: $(state); ${swept:-nothing swept}"
  rm -f "$tmp/report.json"
done
