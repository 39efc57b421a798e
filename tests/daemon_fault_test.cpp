// Mechanisms with a helper daemon (dbus.bus and its dbus-daemon): the daemon killed mid-run fails
// the benchmark with the daemon named as the cause, and leaves no process, socket or directory
// behind; its CPU time is counted in a run that completes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/process.hpp>

#include <chrono>
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
    std::ifstream in(de.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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

TEST(DaemonFaults, KilledDbusDaemonFailsTheRunWithTheReason) {
  const mechanism_entry* m = available("dbus.bus");
  if (m == nullptr) GTEST_SKIP() << "dbus.bus unavailable in this build or on this machine";
  for (pattern p : {pattern::latency, pattern::throughput}) {
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
      daemons = children_named("dbus-daemon");
      killer = std::thread([&daemons] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        for (pid_t d : daemons) ::kill(d, SIGKILL);
      });
    };
    const auto t0 = std::chrono::steady_clock::now();
    const run_result r = m->run(req);
    if (killer.joinable()) killer.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15)) << to_string(p);
    ASSERT_EQ(daemons.size(), 1u) << "the run's dbus-daemon is the coordinator's child";
    EXPECT_EQ(r.status, run_status::failed) << to_string(p);
    EXPECT_NE(
        r.reason.find("dbus-daemon (pid " + std::to_string(daemons[0]) + ") killed by SIGKILL"),
        std::string::npos)
        << r.reason;
    EXPECT_TRUE(test::no_children());
    EXPECT_TRUE(test::leftovers().empty());
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
  EXPECT_DOUBLE_EQ(
      r.cpu_ns_per_message(),
      static_cast<double>(r.producer_cpu.total_ns + r.consumer_cpu.total_ns + *r.helper_cpu_ns) /
          static_cast<double>(r.messages));
  EXPECT_TRUE(children_named("dbus-daemon").empty());
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

// pids of dbus-daemon processes whose command line names this test's scratch directory (their
// configuration file lies in a private directory there).
std::vector<pid_t> our_daemons() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = de.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(de.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find("dbus-daemon") != std::string::npos &&
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
    for (int i = 0; i < 100 && our_daemons().empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(our_daemons().size(), 1u) << strsignal(sig);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the peers are connected
    ::kill(c.id(), sig);
    c.wait();
    for (int i = 0; i < 40 && !our_daemons().empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(our_daemons().empty()) << strsignal(sig);
    if (sig == SIGKILL) {
      const cleanup::sweep_result swept = cleanup::sweep_stale();
      EXPECT_FALSE(swept.empty());
    }
    EXPECT_TRUE(test::leftovers().empty()) << strsignal(sig) << ": " << test::leftovers().front();
  }
}

TEST(DaemonFaults, UnavailableMiddlewareIsSkippedWithTheReason) {
  for (const char* id : {"dbus.bus", "dbus.p2p"}) {
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
