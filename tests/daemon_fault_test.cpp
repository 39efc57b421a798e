// Mechanisms with a helper daemon (dbus.bus and its dbus-daemon, iceoryx.* and iox-roudi): the
// daemon killed mid-run fails the benchmark with the daemon named as the cause, and leaves no
// process, socket, shared memory or directory behind; its CPU time is counted in a run that
// completes. RouDi's shared memory outlives it, so its peers would go on without it: the
// coordinator watches it (a pidfd) and fails the run at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/process.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "registry/registry.hpp"
#include "sys/cleanup.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

// This process's children whose command is `comm` (/proc/<pid>/stat: "pid (comm) state ppid").
std::vector<pid_t> children_named(const std::string& comm) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = de.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string text = test::read_proc_file(de.path() / "stat");
    const auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 >= text.size())
      continue;
    const int ppid = std::atoi(text.c_str() + close + 4);
    if (ppid == ::getpid() && text.substr(open + 1, close - open - 1) == comm)
      out.push_back(std::stoi(name));
  }
  return out;
}

const mechanism_entry* available(const char* id) {
  const mechanism_entry* m = find_mechanism(id);
  return m != nullptr && m->unavailable.empty() ? m : nullptr;
}

// Runs a long batch of `m` and SIGKILLs its daemon (the coordinator's child named `daemon`) once
// the timed batch runs; the run must fail at once, the daemon named first in the reason, with
// nothing left behind.
void expect_killed_daemon_fails_the_run(const mechanism_entry& m, pattern p, const char* daemon) {
  const std::string what = m.traits.id + " " + to_string(p);
  run_request req;
  req.pat = p;
  req.message_size = 64;
  req.place = placement::none;
  req.fixed_messages = 100'000'000;  // far longer than the test waits
  req.warmup_messages = 10;
  req.timeout = std::chrono::seconds(20);
  std::thread killer;
  std::vector<pid_t> daemons;
  req.on_go = [&](pid_t, pid_t) {
    daemons = children_named(daemon);
    killer = std::thread([&daemons] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      for (pid_t d : daemons) ::kill(d, SIGKILL);
    });
  };
  const auto t0 = std::chrono::steady_clock::now();
  const run_result r = m.run(req);
  if (killer.joinable()) killer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15)) << what;
  ASSERT_EQ(daemons.size(), 1u) << what << ": the run's " << daemon
                                << " is the coordinator's child";
  EXPECT_EQ(r.status, run_status::failed) << what;
  EXPECT_NE(r.reason.find(std::string(daemon) + " (pid " + std::to_string(daemons[0]) +
                          ") killed by SIGKILL"),
            std::string::npos)
      << r.reason;
  EXPECT_TRUE(test::no_children()) << what;
  EXPECT_TRUE(test::leftovers().empty()) << what;
}

TEST(DaemonFaults, KilledDbusDaemonFailsTheRunWithTheReason) {
  const mechanism_entry* m = available("dbus.bus");
  if (m == nullptr) GTEST_SKIP() << "dbus.bus unavailable in this build or on this machine";
  for (pattern p : {pattern::latency, pattern::throughput})
    expect_killed_daemon_fails_the_run(*m, p, "dbus-daemon");
}

// The relay of pipe.relay and pipe.relay.splice is the channel's helper as a daemon is: killed,
// it fails the run with the reason, and the peers and it are reaped.
TEST(DaemonFaults, KilledRelayFailsTheRunWithTheReason) {
  for (const char* id : {"pipe.relay", "pipe.relay.splice"}) {
    const mechanism_entry* m = available(id);
    ASSERT_NE(m, nullptr) << id;
    for (pattern p : {pattern::latency, pattern::throughput})
      expect_killed_daemon_fails_the_run(*m, p, "ipcbench-relay");
  }
}

// RouDi's shared memory outlives it: the coordinator's pidfd watch, not the peers, ends the run.
TEST(DaemonFaults, KilledRoudiFailsTheRunWithTheReasonAndLeavesNothing) {
  for (const char* id : {"iceoryx.copy", "iceoryx.zerocopy", "iceoryx.zerocopy.busy"}) {
    const mechanism_entry* m = available(id);
    if (m == nullptr) GTEST_SKIP() << id << " unavailable in this build or on this machine";
    for (pattern p : {pattern::latency, pattern::throughput}) {
      expect_killed_daemon_fails_the_run(*m, p, "iox-roudi");
      EXPECT_EQ(test::iceoryx_leftovers(), std::vector<std::string>{}) << id;
    }
  }
}

TEST(DaemonFaults, RoudiIsStoppedAndItsCpuCountedInACompleteRun) {
  for (const char* id : {"iceoryx.copy", "iceoryx.zerocopy"}) {
    const mechanism_entry* m = available(id);
    if (m == nullptr) GTEST_SKIP() << id << " unavailable in this build or on this machine";
    for (pattern p : {pattern::latency, pattern::throughput}) {
      run_request req;
      req.pat = p;
      req.message_size = 4097;
      req.place = placement::none;
      req.fixed_messages = 2000;
      req.warmup_messages = 10;
      req.timeout = std::chrono::seconds(20);
      const run_result r = m->run(req);
      ASSERT_EQ(r.status, run_status::ok) << id << ": " << r.reason;
      EXPECT_EQ(r.integrity_errors, 0u);
      ASSERT_TRUE(r.helper_cpu_ns.has_value()) << id;
      EXPECT_DOUBLE_EQ(r.cpu_ns_per_message(),
                       static_cast<double>(r.producer_cpu.total_ns + r.consumer_cpu.total_ns +
                                           *r.helper_cpu_ns) /
                           static_cast<double>(r.messages));
      EXPECT_TRUE(children_named("iox-roudi").empty());
      EXPECT_TRUE(test::no_children());
      EXPECT_TRUE(test::leftovers().empty());
      EXPECT_EQ(test::iceoryx_leftovers(), std::vector<std::string>{}) << id;
    }
  }
}

TEST(DaemonFaults, DaemonIsStoppedAndItsCpuCountedInACompleteRun) {
  const mechanism_entry* m = available("dbus.bus");
  if (m == nullptr) GTEST_SKIP() << "dbus.bus unavailable in this build or on this machine";
  run_request req;
  req.pat = pattern::latency;
  req.message_size = 64;
  req.place = placement::none;
  req.fixed_messages = 200;
  req.warmup_messages = 10;
  req.timeout = std::chrono::seconds(20);
  const run_result r = m->run(req);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  ASSERT_TRUE(r.helper_cpu_ns.has_value());
  EXPECT_GE(*r.helper_cpu_ns, 0);
  // The run says it had a helper (the estimates do not put the peers' waits for their CPUs down
  // to another task), and each peer's wait was read.
  EXPECT_TRUE(r.helpers);
  ASSERT_TRUE(r.producer_waited_ns.has_value());
  ASSERT_TRUE(r.consumer_waited_ns.has_value());
  EXPECT_GE(*r.producer_waited_ns, 0);
  EXPECT_GE(*r.consumer_waited_ns, 0);
  EXPECT_DOUBLE_EQ(
      r.cpu_ns_per_message(),
      static_cast<double>(r.producer_cpu.total_ns + r.consumer_cpu.total_ns + *r.helper_cpu_ns) /
          static_cast<double>(r.messages));
  EXPECT_TRUE(children_named("dbus-daemon").empty());
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

// pids of `program` processes whose command line names this test's scratch directory (their
// configuration file lies in a private directory there).
std::vector<pid_t> our_daemons(const std::string& program) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = de.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmd = test::read_proc_file(de.path() / "cmdline");
    if (cmd.find(program) != std::string::npos &&
        cmd.find(test::scratch_dir().string()) != std::string::npos)
      out.push_back(std::stoi(name));
  }
  return out;
}

// Ctrl-C of the coordinator kills the daemon and removes its socket and configuration; after a
// SIGKILL the daemon dies with the coordinator (PR_SET_PDEATHSIG) and the next run's sweep
// removes the private directory it leaves.
TEST(DaemonFaults, InterruptedOrKilledCoordinatorLeavesNoDaemonBehind) {
  const mechanism_entry* m = available("dbus.bus");
  if (m == nullptr) GTEST_SKIP() << "dbus.bus unavailable in this build or on this machine";
  namespace bp = boost::process;
  for (int sig : {SIGINT, SIGKILL}) {
    bp::child c(IPCBENCH_BIN,
                bp::args({"--benchmark_filter=^dbus.bus/throughput/", "--sizes", "64",
                          "--target-time", "20", "--placement", "none", "--progress"}),
                bp::std_out > bp::null, bp::std_err > bp::null, bp::std_in < bp::null);
    for (int i = 0; i < 100 && our_daemons("dbus-daemon").empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(our_daemons("dbus-daemon").size(), 1u) << strsignal(sig);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the peers are connected
    ::kill(c.id(), sig);
    c.wait();
    for (int i = 0; i < 40 && !our_daemons("dbus-daemon").empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(our_daemons("dbus-daemon").empty()) << strsignal(sig);
    if (sig == SIGKILL) {
      const cleanup::sweep_result swept = cleanup::sweep_stale();
      EXPECT_FALSE(swept.empty());
    }
    EXPECT_TRUE(test::leftovers().empty()) << strsignal(sig) << ": " << test::leftovers().front();
  }
}

// Ctrl-C of the coordinator stops RouDi and removes its names; after a SIGKILL RouDi dies with
// the coordinator (PR_SET_PDEATHSIG) and the next run's sweep removes the names it left
// (journalled once RouDi was ready) and the private directory.
TEST(DaemonFaults, InterruptedOrKilledCoordinatorLeavesNoRoudiBehind) {
  const mechanism_entry* m = available("iceoryx.copy");
  if (m == nullptr) GTEST_SKIP() << "iceoryx.copy unavailable in this build or on this machine";
  namespace bp = boost::process;
  // The run's TMPDIR of its own, so that only this test's sweep replays its journal (a program
  // another test starts meanwhile sweeps the shared TMPDIR, from a /dev/shm of its own).
  const auto tmp = test::scratch_dir() / "roudi-run";
  std::filesystem::create_directory(tmp);
  auto env = boost::this_process::environment();
  env["TMPDIR"] = tmp.string();
  for (int sig : {SIGINT, SIGKILL}) {
    bp::child c(IPCBENCH_BIN,
                bp::args({"--benchmark_filter=^iceoryx.copy/throughput/", "--sizes", "64",
                          "--target-time", "20", "--placement", "none", "--progress"}),
                env, bp::std_out > bp::null, bp::std_err > bp::null, bp::std_in < bp::null);
    // Up to 2 minutes: another test's iceoryx run may hold the machine-wide lock.
    for (int i = 0; i < 2400 && our_daemons("iox-roudi").empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(our_daemons("iox-roudi").size(), 1u) << strsignal(sig);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the peers are connected
    ::kill(c.id(), sig);
    c.wait();
    for (int i = 0; i < 40 && !our_daemons("iox-roudi").empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(our_daemons("iox-roudi").empty()) << strsignal(sig);
    // The sweep under the machine-wide lock: a RouDi of another test running meanwhile would
    // make it leave RouDi's names alone (as it must).
    cleanup::sweep_result swept;
    const auto left = test::iceoryx_leftovers([&] {
      if (sig != SIGKILL) return;
      const std::string saved = std::getenv("TMPDIR");
      ::setenv("TMPDIR", tmp.c_str(), 1);
      swept = cleanup::sweep_stale();
      ::setenv("TMPDIR", saved.c_str(), 1);
    });
    if (sig == SIGKILL) {
      EXPECT_GE(swept.objects + swept.entries, 1u) << swept.describe();
    }
    EXPECT_EQ(left, std::vector<std::string>{}) << strsignal(sig);
    EXPECT_TRUE(std::filesystem::is_empty(tmp)) << strsignal(sig);
  }
  std::filesystem::remove(tmp);
  EXPECT_TRUE(test::leftovers().empty()) << test::leftovers().front();
}

TEST(DaemonFaults, UnavailableMiddlewareIsSkippedWithTheReason) {
  for (const char* id : {"dbus.bus", "dbus.p2p", "iceoryx.copy", "iceoryx.zerocopy"}) {
    const mechanism_entry* m = find_mechanism(id);
    ASSERT_NE(m, nullptr) << id << " is registered, available or not";
    EXPECT_EQ(m->traits.family, m->unavailable.empty() ? "middleware" : m->traits.family);
    if (m->unavailable.empty()) continue;
    run_request req;
    const run_result r = m->run(req);
    EXPECT_EQ(r.status, run_status::skipped);
    EXPECT_EQ(r.reason, m->unavailable);
  }
}

}  // namespace
}  // namespace ipcbench
