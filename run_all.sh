#!/usr/bin/env bash
# ipcbench: installs what is missing, builds, checks the textbook claims (ipcbench-probe), runs the
# sweep, writes results/<host>-<time>.json and renders plots/<report>/index.html. See --help.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/ensure_deps.sh
source "$here/scripts/ensure_deps.sh"

usage() {
  cat <<'TXT'
usage: ./run_all.sh [options]

Builds ipcbench (Release), checks the textbook claims about Linux IPC on this machine and prints
them as a table (build/probe/ipcbench-probe), runs every mechanism x pattern x message size, writes
the JSON report (with the claims as its `probes` array) to results/<host>-<yyyymmdd-hhmmss>.json
and renders charts to plots/<report>/index.html.

Options:
  --quick              CI-sized sweep: sizes 1 64 4095 4096 4097 65535 65536 65537 1048576,
                       0.01 s per timed batch, each benchmark once and again (up to 5 times)
                       while a 45 s budget lasts (its first repetitions first)
  --filter REGEX       run only benchmarks whose name matches (names: <mechanism>/<pattern>/<size>/<placement>,
                       e.g. 'pipe|fifo' or '/latency/')
  --repetitions N      run every benchmark exactly N times instead of the stop rule (by default
                       each benchmark repeats, in shuffled rounds, until the 90 % interval of
                       its median is within 10 % (5 to 12 repetitions; quick 3 to 5) or the
                       budget ends the rounds; see docs/methodology.md)
  --budget S           seconds after which no new repetition starts (default 600; quick 45;
                       0: none); every benchmark runs once whatever the budget
  --max-repetitions N  the stop rule's cap: a benchmark stops after N repetitions whatever its
                       interval (default 12; quick 5; at least the minimum, 5; quick 3), so a
                       longer budget can go on narrowing it
  --twice              run the sweep twice, back to back, and print how far the two reports
                       agree (ipcbench-compare --same-answer): the reproducibility check
  --out FILE           write the report to FILE instead of results/<host>-<time>.json
  --placement P        cross (peers on two different CPUs, default), same (one CPU), none (unpinned);
                       the CPUs come from the topology in sysfs: two that are not SMT siblings,
                       sharing an L3 where possible, CPU 0 left out when more than two are allowed
  --cpus A,B           pin the producer to CPU A and the consumer to CPU B instead (A = B: both on
                       one CPU, placement same; otherwise cross); both must be CPUs this process
                       may run on
  --process M          fork (peers forked from the coordinator, default) or spawn (peers launched
                       as separate programs that open the channel by name; names end in .spawn,
                       e.g. fifo/latency/64/cross.spawn; pipes and other inherited-descriptor
                       mechanisms are skipped)
  --peers P            processes (default), threads (the two peers as threads of one process;
                       names end in .threads) or processes,threads (both, interleaved; the
                       report's process_tax says what process isolation costs per channel)
  --sizes LIST         comma-separated message sizes in bytes, replacing the sweep's
  --fan LIST           the N of the topology benchmarks (pairs/N: N pairs at once; fan_in/N: N
                       producers into one consumer; fan_out/N: one producer to N consumers),
                       comma-separated, 1..64, or none (default 1,2,4,8, each only where its
                       processes fit the CPUs: name N here to oversubscribe); each runs only at the
                       sizes that answer its question (fan_in over pipes and FIFOs across
                       PIPE_BUF: 64,4095,4096,4097,65536; see build/bench/ipcbench --help)
  --library-threads M  pinned (default): a library's own threads (ZeroMQ's I/O thread, nng's
                       pollers, gRPC's) stay on their peer's CPU, as under taskset; free: they
                       may run on every CPU, only the peer's own thread pinned
  --idle-states M      held (default): keep the CPUs out of deep idle states for the whole run
                       (PM QoS, /dev/cpu_dma_latency = 0; needs root, otherwise the run goes
                       on with them allowed and the report says why; a kernel without a
                       cpuidle driver ignores it, and the report says that); allowed: leave them be
  --target-time S      seconds per timed batch (default 0.015; quick 0.01; --ab: 0.03, quick 0.02,
                       on both sides whatever either build's default)
  --baseline FILE      gate this tree against the build that wrote the report FILE: a stored
                       report's repetitions and a new run's are not exchangeable (the host
                       moves between runs), so both sides are run again, as --ab with the
                       commit FILE records (context.ipcbench.git_commit); refused (exit 2)
                       when that commit is not in this repository
  --ab REF             gate a code change in one job: build git REF in its own worktree and
                       build folder (build/ab-<commit>/), then run both bench programs round
                       by round, in a balanced order (pairs of rounds, ABBA; scripts/ab.sh),
                       and gate the pair round by round with ipcbench-compare --paired (Holm
                       over the gate family: 64 B, 64 KiB, 1 MiB, not oversubscribed); a
                       benchmark that fails, is skipped or disappears in the contender fails
                       the gate; --repetitions is the number of rounds, raised to what the
                       family needs (at least 8). REF must take the same options. No charts;
                       the rounds' reports go to <report>-ab/
  --ab-binary FILE     the same with a baseline bench program that is already built
  --no-probes          do not run the textbook-claim probes before the sweep
  --no-plots           do not render charts
  --build-dir DIR      where to build (default build/)
  --no-build           use the programs already built in the build folder as they are
  -h, --help           this text
Exit status: 0 success, 1 a benchmark failed (or the gate found a regression), 2 bad input. UDP
losing datagrams is reported (status `failed`, with the counts) but does not set the exit status.
TXT
}

die() { echo "run_all.sh: $*" >&2; exit 2; }

twice=0 budget="" max_repetitions="" quick=0 filter="" repetitions="" out="" placement="cross" placement_given=0 cpus="" sizes="" target_time="" baseline="" plots=1
fan=""
process="fork" idle_states="held" peers="processes" library_threads=""
probes=1 probes_json="" ab_ref="" ab_binary="" build=1
build_dir="$here/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --filter) [ $# -ge 2 ] || die "--filter needs a value"; filter="$2"; shift ;;
    --repetitions) [ -n "${2:-}" ] || die "--repetitions needs a value"; repetitions="$2"; shift ;;
    --out) [ -n "${2:-}" ] || die "--out needs a value"; out="$2"; shift ;;
    --placement) [ -n "${2:-}" ] || die "--placement needs a value"; placement="$2"; placement_given=1; shift ;;
    --cpus) [ -n "${2:-}" ] || die "--cpus needs a value"; cpus="$2"; shift ;;
    --process) [ -n "${2:-}" ] || die "--process needs a value"; process="$2"; shift ;;
    --peers) [ -n "${2:-}" ] || die "--peers needs a value"; peers="$2"; shift ;;
    --idle-states) [ -n "${2:-}" ] || die "--idle-states needs a value"; idle_states="$2"; shift ;;
    --library-threads) [ -n "${2:-}" ] || die "--library-threads needs a value"; library_threads="$2"; shift ;;
    --sizes) [ -n "${2:-}" ] || die "--sizes needs a value"; sizes="$2"; shift ;;
    --fan) [ -n "${2:-}" ] || die "--fan needs a value"; fan="$2"; shift ;;
    --target-time) [ -n "${2:-}" ] || die "--target-time needs a value"; target_time="$2"; shift ;;
    --baseline) [ -n "${2:-}" ] || die "--baseline needs a value"; baseline="$2"; shift ;;
    --ab) [ -n "${2:-}" ] || die "--ab needs a git ref"; ab_ref="$2"; shift ;;
    --ab-binary) [ -n "${2:-}" ] || die "--ab-binary needs a value"; ab_binary="$2"; shift ;;
    --no-probes) probes=0 ;;
    --budget) [ -n "${2:-}" ] || die "--budget needs a value"; budget="$2"; shift ;;
    --max-repetitions) [ -n "${2:-}" ] || die "--max-repetitions needs a value"; max_repetitions="$2"; shift ;;
    --twice) twice=1 ;;
    --no-plots) plots=0 ;;
    --build-dir) [ -n "${2:-}" ] || die "--build-dir needs a value"; build_dir="$2"; shift ;;
    --no-build) build=0 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

# Every argument is checked here, before packages, the build and the probes: a bad one costs
# nothing but its one-line error.
rounds_given=0
[ -n "$repetitions" ] && rounds_given=1
if [ -n "$repetitions" ]; then
  if ! [[ "$repetitions" =~ ^[0-9]{1,4}$ ]] || [ "$repetitions" -lt 1 ] || [ "$repetitions" -gt 1000 ]; then
    die "--repetitions must be a whole number from 1 to 1000, not '$repetitions'"
  fi
fi
if [ -n "$budget" ] && { ! [[ "$budget" =~ ^[0-9]{1,5}$ ]] || [ "$budget" -gt 86400 ]; }; then
  die "--budget must be a whole number of seconds, 0 to 86400, not '$budget'"
fi
if [ -n "$max_repetitions" ]; then
  if ! [[ "$max_repetitions" =~ ^[0-9]{1,4}$ ]] || [ "$max_repetitions" -lt 1 ] || [ "$max_repetitions" -gt 1000 ]; then
    die "--max-repetitions must be a whole number from 1 to 1000, not '$max_repetitions'"
  fi
  least=5; [ "$quick" -eq 1 ] && least=3
  [ "$max_repetitions" -ge "$least" ] ||
    die "--max-repetitions $max_repetitions is below the stop rule's minimum of $least repetitions"
  [ -n "$repetitions" ] && die "--max-repetitions caps the stop rule; --repetitions replaces it: give one of them"
  [ -n "$ab_ref$ab_binary$baseline" ] && die "--max-repetitions caps the stop rule of a sweep; an A/B runs a fixed number of rounds (--repetitions)"
fi
if [ "$twice" -eq 1 ] && [ -n "$ab_ref$ab_binary$baseline" ]; then
  die "--twice runs the sweep twice; it does not take --ab, --ab-binary or --baseline"
fi
case "$placement" in cross|same|none) ;; *) die "--placement must be cross, same or none, not '$placement'" ;; esac
if [ -n "$fan" ] && [ "$fan" != none ]; then
  [[ "$fan" == *,,* || "$fan" == ,* || "$fan" == *, ]] && die "--fan has an empty item in '$fan'"
  IFS=',' read -r -a fan_items <<<"$fan"
  seen=","
  for n in "${fan_items[@]}"; do
    [[ "$n" =~ ^[0-9]{1,3}$ ]] || die "--fan: '$n' is not a number"
    if [ "$((10#$n))" -lt 1 ] || [ "$((10#$n))" -gt 64 ]; then die "--fan: $n is outside 1..64"; fi
    [[ "$seen" == *",$((10#$n)),"* ]] && die "--fan: $n appears twice in '$fan'"
    seen="$seen$((10#$n)),"
  done
fi
if [ -n "$cpus" ]; then
  [[ "$cpus" =~ ^[^,]*,[^,]*$ ]] || die "--cpus needs exactly two CPU numbers A,B (producer, consumer), not '$cpus'"
  allowed_list="$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
  for c in "${cpus%,*}" "${cpus#*,}"; do
    [[ "$c" =~ ^[0-9]{1,6}$ ]] || die "--cpus: '$c' in '$cpus' is not a CPU number"
    found=0
    IFS=, read -r -a ranges <<<"$allowed_list"
    for r in "${ranges[@]}"; do
      lo="${r%-*}" hi="${r#*-}"
      if [ "$((10#$c))" -ge "$lo" ] && [ "$((10#$c))" -le "$hi" ]; then found=1; fi
    done
    [ "$found" -eq 1 ] || die "--cpus: CPU $c is not one this process may run on ($allowed_list)"
  done
  implied=cross
  [ "$((10#${cpus%,*}))" -eq "$((10#${cpus#*,}))" ] && implied=same
  if [ "$placement_given" -eq 1 ] && [ "$placement" != "$implied" ]; then
    die "--cpus $cpus means placement $implied, not --placement $placement"
  fi
  placement="$implied"
fi
case "$process" in fork|spawn) ;; *) die "--process must be fork or spawn, not '$process'" ;; esac
case "$peers" in processes|threads|processes,threads|threads,processes) ;;
  *) die "--peers must be processes, threads or processes,threads, not '$peers'" ;; esac
[ "$peers" = processes ] || [ "$process" = fork ] ||
  die "--peers $peers runs threads of one forked process: not with --process $process"
case "$idle_states" in held|allowed) ;; *) die "--idle-states must be held or allowed, not '$idle_states'" ;; esac
case "$library_threads" in ""|pinned|free) ;;
  *) die "--library-threads must be pinned or free, not '$library_threads'" ;; esac
if [ -n "$filter" ]; then
  # POSIX extended syntax, as the bench program reads it; status 2 means it does not compile.
  re_status=0
  [[ "" =~ $filter ]] || re_status=$?
  [ "$re_status" -eq 2 ] && die "--filter '$filter' is not a valid regular expression"
fi
if [ -n "$sizes" ]; then
  IFS=, read -r -a size_items <<<"$sizes,"
  [ "${#size_items[@]}" -gt 0 ] || die "--sizes is empty"
  [[ "$sizes" == *,,* || "$sizes" == ,* || "$sizes" == *, ]] && die "--sizes has an empty item in '$sizes'"
  for s in "${size_items[@]}"; do
    [[ "$s" =~ ^[0-9]+$ ]] || die "message size '$s' is not a number"
    [[ "$s" =~ ^0+$ ]] && die "message size 0 is invalid (sizes are 1..1073741824 bytes)"
    if [ "${#s}" -gt 10 ] || [ "$((10#$s))" -gt 1073741824 ]; then
      die "message size $s is larger than the limit of 1073741824 bytes"
    fi
  done
fi
if [ -n "$target_time" ]; then
  if ! [[ "$target_time" =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] ||
     ! awk -v t="$target_time" 'BEGIN { exit !(t > 0 && t <= 60) }'; then
    die "--target-time must be a number of seconds in (0, 60], not '$target_time'"
  fi
fi
if [ -n "$ab_ref" ] && [ -n "$ab_binary" ]; then die "--ab and --ab-binary exclude each other"; fi
if [ -n "$ab_ref$ab_binary" ] && [ -n "$baseline" ]; then die "--ab and --baseline exclude each other"; fi
ab_sha="" baseline_commit=""
if [ -n "$ab_ref" ]; then
  command -v git >/dev/null 2>&1 || die "--ab needs git"
  ab_sha="$(git -C "$here" rev-parse --verify --quiet "$ab_ref^{commit}" 2>/dev/null)" ||
    die "--ab: '$ab_ref' is not a commit of this repository"
fi
if [ -n "$ab_binary" ] && { [ -d "$ab_binary" ] || [ ! -x "$ab_binary" ]; }; then
  die "--ab-binary: '$ab_binary' is not an executable program"
fi
if [ -n "$baseline" ]; then
  [ -d "$baseline" ] && die "baseline '$baseline' is a directory, not a report"
  [ -r "$baseline" ] || die "cannot read baseline '$baseline'"
  if command -v python3 >/dev/null 2>&1; then
    why="$(python3 - "$baseline" 2>&1 <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except ValueError as e:
    sys.exit("malformed JSON (%s)" % e)
if not isinstance(d, dict) or not isinstance(d.get("benchmarks"), list):
    sys.exit("not a benchmark report (no 'benchmarks' array)")
ctx = d.get("context") if isinstance(d.get("context"), dict) else {}
ipc = ctx.get("ipcbench") if isinstance(ctx.get("ipcbench"), dict) else {}
commit = ipc.get("git_commit")
print(commit if isinstance(commit, str) else "")
PY
)" || die "baseline '$baseline': ${why##*$'\n'}"
    baseline_commit="$why"
  else
    die "--baseline needs python3 to read the commit the report records"
  fi
  # Its repetitions and a new run's are not exchangeable: the gate runs both sides in one job.
  command -v git >/dev/null 2>&1 || die "--baseline needs git (it rebuilds the baseline's commit)"
  if [ -z "$baseline_commit" ] || [ "$baseline_commit" = unknown ] ||
     ! ab_sha="$(git -C "$here" rev-parse --verify --quiet "$baseline_commit^{commit}" 2>/dev/null)"; then
    die "baseline '$baseline' records no commit of this repository ('${baseline_commit:-none}'): a stored report cannot be gated against a new run (the host moves between runs, so their repetitions are not exchangeable); gate a code change with --ab REF, or compare folders of separate runs with build/compare/ipcbench-compare --baseline DIR --contender DIR"
  fi
  ab_ref="$baseline_commit"
fi
# The nearest existing folder of a path that is to be written.
existing_parent() {
  local d="$1"
  while [ ! -e "$d" ]; do d="$(dirname "$d")"; done
  printf '%s' "$d"
}
if [ -n "$out" ]; then
  [ -d "$out" ] && die "cannot write report '$out': a directory"
  if [ -e "$out" ]; then
    [ -w "$out" ] || die "cannot write report '$out': permission denied"
  else
    out_dir="$(dirname "$out")"
    [ -d "$out_dir" ] || die "cannot write report '$out': no directory '$out_dir'"
    [ -w "$out_dir" ] || die "cannot write report '$out': directory '$out_dir' is not writable"
  fi
fi
if [ -e "$build_dir" ] && [ ! -d "$build_dir" ]; then die "--build-dir '$build_dir' is not a directory"; fi
build_parent="$(existing_parent "$build_dir")"
if [ ! -d "$build_parent" ] || [ ! -w "$build_parent" ]; then
  die "--build-dir '$build_dir': '$build_parent' is not a writable directory"
fi

packages=("${IPCBENCH_BUILD_PACKAGES[@]}")
[ "$plots" -eq 1 ] && packages+=("${IPCBENCH_PLOT_PACKAGES[@]}")
ensure_packages "${packages[@]}"
ensure_optional_packages "${IPCBENCH_OPTIONAL_MESSAGING_PACKAGES[@]}"
ensure_optional_packages "${IPCBENCH_OPTIONAL_DAEMON_MIDDLEWARE_PACKAGES[@]}"
ensure_optional_packages "${IPCBENCH_OPTIONAL_KERNEL_PACKAGES[@]}"

if [ "$build" -eq 1 ]; then
  echo "run_all.sh: building in $build_dir" >&2
  cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DIPCBENCH_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build_dir" -j "$(nproc)" >/dev/null
else
  for program in bench/ipcbench compare/ipcbench-compare; do
    [ -x "$build_dir/$program" ] || die "--no-build: no $build_dir/$program"
  done
fi

# What only the built programs can judge, still before the probes: does the filter match a
# benchmark (with these sizes and this process model), and is the baseline a report compare reads.
filter_check=(--benchmark_list_tests=true "--process=$process" "--peers=$peers")
[ -n "$filter" ] && filter_check+=("--benchmark_filter=$filter")
[ -n "$sizes" ] && filter_check+=("--sizes=$sizes")
[ "$quick" -eq 1 ] && filter_check+=(--quick)
[ -n "$max_repetitions" ] && filter_check+=("--max-repetitions=$max_repetitions")
"$build_dir/bench/ipcbench" "${filter_check[@]}" >/dev/null || exit 2
if [ -n "$baseline" ]; then
  "$build_dir/compare/ipcbench-compare" "$baseline" "$baseline" --allow-untested >/dev/null || exit 2
  echo "run_all.sh: --baseline: '$baseline' was made by commit $baseline_commit; gating against" \
       "it with a same-job A/B (both sides run again, round by round)" >&2
fi

# The repetitions (A/B rounds) a gate over this run's family of metrics needs: the gate family's
# metrics among the benchmarks this run makes, under Holm.
needed=""
if [ -n "$ab_ref$ab_binary" ]; then
  names="$(mktemp "${TMPDIR:-/tmp}/ipcbench-$$-names-XXXXXX")"
  "$build_dir/bench/ipcbench" "${filter_check[@]}" >"$names" 2>/dev/null || true
  needed="$("$build_dir/compare/ipcbench-compare" --repetitions-for-list "$names")" || needed=""
  rm -f "$names"
  [ -n "$needed" ] || die "cannot work out the rounds the gate family needs"
fi

# Same-job A/B: both programs, round by round in a random order, then the gate on the pair.
if [ -n "$ab_ref$ab_binary" ]; then
  if [ -n "$ab_sha" ]; then
    ab_root="$build_dir/ab-${ab_sha:0:12}"
    if [ ! -e "$ab_root/src/CMakeLists.txt" ]; then
      rm -rf "$ab_root/src"
      git -C "$here" worktree prune
      git -C "$here" worktree add --detach --force "$ab_root/src" "$ab_sha" >/dev/null 2>&1 ||
        die "--ab: cannot check out $ab_ref into $ab_root/src"
    fi
    echo "run_all.sh: building the baseline $ab_ref (${ab_sha:0:12}) in $ab_root/build" >&2
    cmake -S "$ab_root/src" -B "$ab_root/build" -DCMAKE_BUILD_TYPE=Release \
      -DIPCBENCH_BUILD_TESTS=OFF >/dev/null
    cmake --build "$ab_root/build" -j "$(nproc)" --target ipcbench >/dev/null
    ab_binary="$ab_root/build/bench/ipcbench"
  fi
  rounds="$repetitions"
  [ "$rounds_given" -eq 1 ] || rounds=8
  if [ "$rounds" -lt "$needed" ]; then
    echo "run_all.sh: --ab: $rounds rounds cannot reach significance over the gate family" \
         "of this run's benchmarks; running $needed" >&2
    rounds="$needed"
  fi
  [ -n "$out" ] || out="$here/results/$(hostname -s 2>/dev/null || hostname)-$(date +%Y%m%d-%H%M%S).json"
  ab_dir="${out%.json}-ab"
  ab_args=("--placement=$placement" "--process=$process" "--peers=$peers" "--idle-states=$idle_states")
  [ -n "$cpus" ] && ab_args+=("--cpus=$cpus")
  [ -n "$library_threads" ] && ab_args+=("--library-threads=$library_threads")
  [ "$quick" -eq 1 ] && ab_args+=(--quick)
  [ -n "$filter" ] && ab_args+=("--benchmark_filter=$filter")
  [ -n "$sizes" ] && ab_args+=("--sizes=$sizes")
  [ -n "$fan" ] && ab_args+=("--fan=$fan")
  # Both sides get the same batch length whatever either build's default: the quick one's was
  # 0.02 s until 0.01, and the gate's A/A and planted slowdowns were measured at 0.02 s.
  if [ -z "$target_time" ]; then
    if [ "$quick" -eq 1 ]; then target_time=0.02; else target_time=0.03; fi
  fi
  ab_args+=("--target-time=$target_time")
  start=$(date +%s)
  gate=0
  "$here/scripts/ab.sh" --rounds "$rounds" --compare "$build_dir/compare/ipcbench-compare" \
    "$ab_dir" "$ab_binary" "$build_dir/bench/ipcbench" "${ab_args[@]}" || gate=$?
  echo "run_all.sh: A/B of $rounds rounds in $(( $(date +%s) - start )) s; reports in $ab_dir" >&2
  exit "$gate"
fi

if [ -z "$out" ]; then
  mkdir -p "$here/results"
  out="$here/results/$(hostname -s 2>/dev/null || hostname)-$(date +%Y%m%d-%H%M%S).json"
fi

args=(--progress "--placement=$placement" "--process=$process" "--peers=$peers" "--idle-states=$idle_states")
[ -n "$repetitions" ] && args+=("--benchmark_repetitions=$repetitions")
[ -n "$budget" ] && args+=("--budget=$budget")
[ -n "$max_repetitions" ] && args+=("--max-repetitions=$max_repetitions")
[ "$quick" -eq 1 ] && args+=(--quick)
[ -n "$filter" ] && args+=("--benchmark_filter=$filter")
[ -n "$sizes" ] && args+=("--sizes=$sizes")
[ -n "$fan" ] && args+=("--fan=$fan")
[ -n "$target_time" ] && args+=("--target-time=$target_time")
[ -n "$cpus" ] && args+=("--cpus=$cpus")
[ -n "$library_threads" ] && args+=("--library-threads=$library_threads")

if [ "$probes" -eq 1 ]; then
  # "ipcbench-<pid>-": if this script is killed, the next run's sweep removes the file.
  probes_json="$(mktemp "${TMPDIR:-/tmp}/ipcbench-$$-probes-XXXXXX")"
  trap 'rm -f "$probes_json"' EXIT
  echo "run_all.sh: checking the textbook claims" >&2
  if "$build_dir/probe/ipcbench-probe" --out "$probes_json"; then
    args+=("--probes=$probes_json")
  else
    echo "run_all.sh: the probes failed; the report carries only the claim computed from the sweep" >&2
  fi
fi

start=$(date +%s)
status=0
"$build_dir/bench/ipcbench" "${args[@]}" "--benchmark_out=$out" || status=$?
[ "$status" -eq 2 ] && exit 2
[ -f "$out" ] || { echo "run_all.sh: no report was written" >&2; exit "${status:-1}"; }
echo "run_all.sh: report: $out ($(( $(date +%s) - start )) s)" >&2
if [ "$twice" -eq 1 ]; then
  # The same sweep again, right after: how far the answer moves from one run to the next.
  second="${out%.json}-second.json"
  start=$(date +%s)
  "$build_dir/bench/ipcbench" "${args[@]}" "--benchmark_out=$second" || status=$?
  [ "$status" -eq 2 ] && exit 2
  echo "run_all.sh: second report: $second ($(( $(date +%s) - start )) s)" >&2
  "$build_dir/compare/ipcbench-compare" --same-answer "$out" "$second" || status=$?
fi

python=/usr/bin/python3
[ -x "$python" ] || python=python3
stem="$(basename "$out" .json)"
if [ "$plots" -eq 1 ] && [ -f "$here/plots/render.py" ]; then
  "$python" "$here/plots/render.py" "$out" --out "$here/plots/$stem" >&2 ||
    echo "run_all.sh: rendering the charts failed (the report is fine)" >&2
fi

exit "$status"
