#!/usr/bin/env bash
# One host's part of the nightly fleet run (docs/fleet.md), shared by the Ansible playbook and
# the Slurm batch script: run the sweep of the checkout this script lies in, bounded by a timeout,
# into OUT/HOST.json (its output in OUT/HOST.log), then write OUT/HOST.run.json whatever happened.
#
# usage: fleet/run_host.sh HOST OUT BUILD_DIR TIMEOUT_S [RUN_ALL_ARGS...]
#
# BUILD_DIR is taken from the checkout when relative. The run record's binary_sha256 is the SHA-256
# of sha256sum's lines for bench/ipcbench and libipcbench.so.*, run in the build folder with names
# in the C locale's order: equal wherever the hosts built; null without the program. The exit
# status is run_all.sh's, or 3 when it timed out.
#
# A night's run gets --budget 2400 --max-repetitions 24 (four times run_all.sh's 600 s, and twice
# its cap of 12 repetitions) unless RUN_ALL_ARGS name --budget, --quick or --repetitions, which
# then decide alone; the cap is left out where they name --max-repetitions, --ab, --ab-binary or
# --baseline. Its values move less from night to night, so the history finds more steps
# (history/README.md#how-well-it-finds-steps).
set -u
[ $# -ge 4 ] || { echo "usage: fleet/run_host.sh HOST OUT BUILD_DIR TIMEOUT_S [RUN_ALL_ARGS...]" >&2; exit 2; }
host="$1" out="$2" build="$3" timeout_s="$4"
shift 4
night_budget=(--budget 2400) night_cap=(--max-repetitions 24)
for a in "$@"; do
  case "$a" in
    --budget|--quick|--repetitions) night_budget=() night_cap=() ;;
    --max-repetitions|--ab|--ab-binary|--baseline) night_cap=() ;;
  esac
done
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "$build" in /*) ;; *) build="$repo/$build" ;; esac
mkdir -p "$out" || exit 3
rm -f "$out/$host.json" "$out/$host.run.json"
start=$(date +%s)
(cd "$repo" && timeout --kill-after=60 "$timeout_s" ./run_all.sh --no-plots --build-dir "$build" \
   --out "$out/$host.json" "${night_budget[@]}" "${night_cap[@]}" "$@") >"$out/$host.log" 2>&1
rc=$?
taken=$(( $(date +%s) - start ))
timed_out=false
# 124 or 137 before the timeout is something else (an out-of-memory kill, say), not a timeout.
if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ "$taken" -ge "$timeout_s" ]; then
  timed_out=true
fi
commit="$(git -C "$repo" rev-parse --verify --quiet HEAD 2>/dev/null)"
sha="$(cd "$build" 2>/dev/null && [ -f bench/ipcbench ] && LC_ALL=C && shopt -s nullglob &&
       sha256sum bench/ipcbench libipcbench.so.* | sha256sum | cut -d' ' -f1)"
HOST="$host" COMMIT="$commit" SHA="$sha" RC="$rc" TIMED_OUT="$timed_out" TAKEN="$taken" \
  /usr/bin/python3 - >"$out/$host.run.json" <<'PY'
import json, os
e = os.environ
print(json.dumps({"host": e["HOST"], "commit": e["COMMIT"] or None,
                  "binary_sha256": e["SHA"] or None,
                  "exit": None if e["TIMED_OUT"] == "true" else int(e["RC"]),
                  "timed_out": e["TIMED_OUT"] == "true", "seconds": int(e["TAKEN"])}))
PY
if [ "$timed_out" = true ]; then exit 3; fi
exit "$rc"
