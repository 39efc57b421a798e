#!/usr/bin/env bash
# fleet/ansible/nightly.yml run for real with `ansible-playbook -c local` against localhost, on a
# sweep of one benchmark with the programs already built in $1: the report and the run record are
# fetched, the history holds the run, the history page is rendered. Then again with an
# unreachable host beside localhost and that host's record of an earlier night left in the
# folder, the build folder reached from outside the checkout: localhost's report is still added,
# the other host is named as never reporting, and the play fails at the end (exit 2). Exit 77
# (skipped) without ansible-playbook.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:?usage: fleet_ansible_test.sh BUILD_DIR}" && pwd)" || exit 1
if ! command -v ansible-playbook >/dev/null 2>&1; then
  echo "skipped: ansible-playbook is not installed (apt-get install ansible-core)"
  exit 77
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-$$-ansible-XXXXXX")"
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work" ANSIBLE_LOCAL_TEMP="$work/ansible-local" ANSIBLE_REMOTE_TEMP="$work/ansible-remote"
export ANSIBLE_ASYNC_DIR="$work/ansible-async" ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOWS=1
export ANSIBLE_HOME="$work/ansible-home" ANSIBLE_HOST_KEY_CHECKING=false
export ANSIBLE_SSH_CONTROL_PATH_DIR="$work/ansible-cp"
failures=0 passed=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

play() {  # name, inventory text, build folder: runs the playbook into $work/name
  local name="$1"
  mkdir -p "$work/$name"
  printf '%s\n' "$2" >"$work/$name/inventory.ini"
  /usr/bin/python3 - "$work/$name/vars.json" "$here" "$3" "$work/$name" <<'PY'
import json, sys
path, repo, build, out = sys.argv[1:]
json.dump({"ipcbench_dir": repo, "ipcbench_build_dir": build, "ipcbench_no_build": True,
           "ipcbench_args": "--no-probes --repetitions 1 --sizes 64 "
                            "--filter '^pipe/latency/64/cross$'",
           "ipcbench_timeout_s": 300, "ipcbench_poll_s": 2, "ipcbench_remote_out": out + "/remote",
           "fleet_out": out + "/fleet", "history_db": out + "/history.sqlite"},
          open(path, "w"))
PY
  ansible-playbook -c local -i "$work/$name/inventory.ini" -e "@$work/$name/vars.json" \
    "$here/fleet/ansible/nightly.yml" >"$work/$name/play.log" 2>&1
}

runs_in() {
  /usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(
      "SELECT COUNT(*) FROM runs").fetchone()[0])' "$1" 2>/dev/null || echo 0
}

local_host='localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3'
play good "[fleet]
$local_host" "$build"
rc=$?
out="$work/good/fleet"
if [ "$rc" -ne 0 ]; then fail "one host: ansible-playbook exit $rc"; cat "$work/good/play.log"
elif [ ! -s "$out/localhost.json" ]; then fail "one host: no report fetched"
elif ! /usr/bin/python3 - "$out/localhost.run.json" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
assert r["host"] == "localhost" and r["exit"] == 0 and r["timed_out"] is False, r
assert re.fullmatch(r"[0-9a-f]{40}", r["commit"] or ""), r
assert re.fullmatch(r"[0-9a-f]{64}", r["binary_sha256"] or ""), r
PY
then fail "one host: the run record $(cat "$out/localhost.run.json")"
elif [ "$(runs_in "$work/good/history.sqlite")" != 1 ]; then fail "one host: the history lacks the run"
elif [ ! -s "$out/history/index.html" ]; then fail "one host: no history page"
else passed=$((passed + 1)); fi

# The ghost's good record of an earlier night must not count for tonight.
mkdir -p "$work/ghost/fleet"
echo '{"host": "ghost", "commit": null, "binary_sha256": null, "exit": 0, "timed_out": false,
       "seconds": 1}' >"$work/ghost/fleet/ghost.run.json"
ln -s "$build" "$work/build-elsewhere"
play ghost "[fleet]
$local_host
ghost ansible_host=192.0.2.1 ansible_connection=ssh ansible_ssh_common_args='-o ConnectTimeout=3'" \
  "$work/build-elsewhere"
rc=$?
out="$work/ghost/fleet"
if [ "$rc" -ne 2 ]; then fail "unreachable host: ansible-playbook exit $rc, not 2"; cat "$work/ghost/play.log"
elif [ ! -s "$out/localhost.json" ]; then fail "unreachable host: localhost's report was lost"
elif [ "$(runs_in "$work/ghost/history.sqlite")" != 1 ]; then fail "unreachable host: localhost not added"
elif ! grep -q "ghost: no run record" "$work/ghost/play.log"; then
  fail "unreachable host: not named"; cat "$work/ghost/play.log"
elif [ ! -s "$out/history/index.html" ]; then fail "unreachable host: no history page"
else passed=$((passed + 1)); fi

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
