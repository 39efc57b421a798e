#!/usr/bin/env bash
# shellcheck disable=SC2034  # the package lists are read by the scripts that source this file
# Sourced by run_all.sh and run_tests.sh: installs the Debian/Ubuntu packages that are missing.
# As root it runs apt-get; otherwise sudo when it needs no password; otherwise it prints the exact
# apt-get line and exits 2.

# ensure_packages PKG... : install whichever of PKG are not installed.
ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "ipcbench: not a Debian/Ubuntu system (no dpkg-query); make sure these are installed: $*" >&2
    return 0
  fi
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "ipcbench: installing missing packages: ${missing[*]}" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo)
    else
      echo "ipcbench: missing packages; run: sudo apt-get install -y ${missing[*]}" >&2
      exit 2
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2 || true
  if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    echo "ipcbench: apt-get could not install: ${missing[*]}" >&2
    exit 2
  fi
}

# ensure_optional_packages PKG... : like ensure_packages, but a failure is only a warning (the
# tests that need them skip themselves with a message).
ensure_optional_packages() {
  ( ensure_packages "$@" ) || echo "ipcbench: could not install optional packages: $*" >&2
}

# What building and running the suite needs (read by the scripts that source this file).

IPCBENCH_BUILD_PACKAGES=(g++ make cmake libbenchmark-dev nlohmann-json3-dev libboost-dev
                         libboost-filesystem-dev)
IPCBENCH_PLOT_PACKAGES=(python3 python3-matplotlib)
# What the tests need on top (dpkg-dev and file: cpack makes the .deb, scripts/check_package.sh;
# python3-scipy: ipcbench-history's change points); Chromium loads the HTML report in the browser
# test; ansible-core (ansible.builtin is all the playbook uses) runs the fleet playbook against
# localhost (tests/scripts/fleet_ansible_test.sh).
IPCBENCH_TEST_PACKAGES=(libgtest-dev dpkg-dev file python3-scipy)
IPCBENCH_OPTIONAL_TEST_PACKAGES=(chromium ansible-core)
# The middleware family's messaging libraries (ZeroMQ, nng, gRPC with protobuf and its code
# generators); each missing one makes its mechanisms `unavailable`, with the reason, not a failed
# build. Boost.Interprocess comes with libboost-dev above.
IPCBENCH_OPTIONAL_MESSAGING_PACKAGES=(libzmq3-dev libnng-dev libgrpc++-dev libprotobuf-dev
                                      protobuf-compiler protobuf-compiler-grpc)

# Middleware that needs a daemon, optional (a missing one makes its mechanisms unavailable, with
# the reason): sd-bus and dbus-daemon for dbus.bus and dbus.p2p; iceoryx's headers, CMake
# package and iox-roudi for iceoryx.copy and iceoryx.zerocopy.
IPCBENCH_OPTIONAL_DAEMON_MIDDLEWARE_PACKAGES=(libsystemd-dev dbus-daemon libiceoryx-posh-dev
                                              libiceoryx-hoofs-dev iceoryx)

# Kernel interfaces reached through a library, optional (a missing one makes its mechanisms
# unavailable, with the reason): liburing for the io_uring family (pipe.io_uring,
# unix_stream.io_uring, their .sqpoll variants, io_uring.msg_ring).
IPCBENCH_OPTIONAL_KERNEL_PACKAGES=(liburing-dev)
