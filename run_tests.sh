#!/usr/bin/env bash
# Builds ipcbench with its tests and runs the whole suite: a Release build with warnings as
# errors, the installed package with the example adapter (scripts/check_package.sh), then the
# same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
# Installs missing Debian packages first. Usage: ./run_tests.sh [--no-sanitizers]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/ensure_deps.sh
source "$here/scripts/ensure_deps.sh"

sanitizers=1
case "${1:-}" in
  "") ;;
  --no-sanitizers) sanitizers=0 ;;
  -h|--help) echo "usage: ./run_tests.sh [--no-sanitizers]"; exit 0 ;;
  *) echo "run_tests.sh: unknown option '$1'" >&2; exit 2 ;;
esac

ensure_packages "${IPCBENCH_BUILD_PACKAGES[@]}" "${IPCBENCH_PLOT_PACKAGES[@]}" "${IPCBENCH_TEST_PACKAGES[@]}"
ensure_optional_packages "${IPCBENCH_OPTIONAL_TEST_PACKAGES[@]}"
ensure_optional_packages "${IPCBENCH_OPTIONAL_MESSAGING_PACKAGES[@]}"
ensure_optional_packages "${IPCBENCH_OPTIONAL_DAEMON_MIDDLEWARE_PACKAGES[@]}"
ensure_optional_packages "${IPCBENCH_OPTIONAL_KERNEL_PACKAGES[@]}"
jobs="$(nproc)"

run_suite() {  # build dir, extra cmake args...
  local dir="$1"; shift
  # Tests on, whatever the cache says: run_all.sh --build-dir DIR configures DIR without them,
  # and ctest would then run the test programs an earlier build left there.
  # A unity build: each target's sources compiled a batch at a time, so the headers every file
  # includes (gtest, nlohmann/json, Boost) are parsed once a batch. On 2 CPUs the Release build
  # took 6 minutes instead of 12-14 and the sanitizer build 6 instead of about 25.
  cmake -S "$here" -B "$dir" -DIPCBENCH_WERROR=ON -DIPCBENCH_BUILD_TESTS=ON -DCMAKE_UNITY_BUILD=ON \
    "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  TMPDIR="$test_tmp" ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 600
}

# The tests run with a TMPDIR of their own, so what they leave behind is theirs alone.
base_tmp="${TMPDIR:-/tmp}"
# "ipcbench-<pid>-": if this script is killed, the next run's sweep removes the directory.
test_tmp="$(mktemp -d "$base_tmp/ipcbench-$$-run-tests-XXXXXX")"
trap 'rm -rf "$test_tmp"' EXIT

# The leak checks count each test's own objects by name; where a test may not have a private IPC
# namespace too, say so once.
if ! unshare --ipc --mount true 2>/dev/null; then
  echo "run_tests.sh: no private IPC namespaces here (not root, or a container that forbids" \
       "unshare); each test's leak check counts the objects of its own scope" >&2
fi

run_suite "$here/build-tests" -DCMAKE_BUILD_TYPE=Release
# The installed package: the example adapter built against it, conformance, a report, the .deb.
TMPDIR="$test_tmp" "$here/scripts/check_package.sh" "$here/build-tests"
if [ "$sanitizers" -eq 1 ]; then
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite "$here/build-asan" -DCMAKE_BUILD_TYPE=Debug -DIPCBENCH_SANITIZE=ON
fi

# Nothing of ours may outlive the tests.
leaks="$(find "$test_tmp" -mindepth 1 -maxdepth 1 2>/dev/null | head -5)"
if [ -n "$leaks" ]; then
  echo "run_tests.sh: tests left files behind: $leaks" >&2
  exit 1
fi
echo "run_tests.sh: all tests passed"
