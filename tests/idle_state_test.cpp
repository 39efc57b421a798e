// The idle-state request: held for as long as its descriptor is open, released on every exit
// path (the kernel drops a PM QoS request when the descriptor closes), recorded either way, and a
// device that cannot be written is a recorded reason, not a failure. A FIFO stands in for
// /dev/cpu_dma_latency: what the request writes arrives, and its closing is an EOF.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "harness/idle_state.hpp"
#include "sys/child.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

using namespace std::chrono_literals;

struct fake_device {
  fake_device() : path(dir.path() / "cpu_dma_latency") {
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
    reader = unique_fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  }
  // What the writer sent so far, or -1 at EOF (every writer gone), or -2 when nothing yet.
  long read_value() const {
    std::int32_t v = -7;
    const ssize_t n = ::read(reader.get(), &v, sizeof v);
    if (n == 0) return -1;
    if (n < 0) return -2;
    return n == sizeof v ? v : -3;
  }
  private_dir dir;
  std::filesystem::path path;
  unique_fd reader;
};

TEST(IdleStates, HeldWritesZeroAndKeepsTheDescriptorUntilReleased) {
  fake_device dev;
  idle_state_request req(idle_mode::held, dev.path.string());
  EXPECT_EQ(req.in_force(), idle_mode::held);
  EXPECT_TRUE(req.reason().empty());
  EXPECT_EQ(dev.read_value(), 0);   // the request: 0 µs
  EXPECT_EQ(dev.read_value(), -2);  // still open, nothing more
  const auto j = req.to_json();
  EXPECT_EQ(j.at("requested"), "held");
  EXPECT_EQ(j.at("in_force"), "held");
  EXPECT_EQ(j.at("latency_us"), 0);
  req.release();
  EXPECT_EQ(dev.read_value(), -1);  // closed: the kernel would drop the request now
  EXPECT_EQ(req.in_force(), idle_mode::allowed);
}

TEST(IdleStates, ReleasedWhenTheHolderIsKilled) {
  fake_device dev;
  auto child = child_process::fork([&dev]() -> int {
    idle_state_request req(idle_mode::held, dev.path.string());
    if (req.in_force() != idle_mode::held) return 2;
    for (;;) ::pause();
  });
  for (int i = 0; i < 200 && dev.read_value() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(dev.read_value(), -2) << "the request is held while the holder lives";
  ::kill(child.pid(), SIGKILL);
  ASSERT_TRUE(child.wait_for(5s).has_value());
  EXPECT_EQ(dev.read_value(), -1) << "SIGKILL closed the descriptor";
}

TEST(IdleStates, AllowedLeavesTheMachineAlone) {
  fake_device dev;
  idle_state_request req(idle_mode::allowed, dev.path.string());
  EXPECT_EQ(req.in_force(), idle_mode::allowed);
  EXPECT_EQ(req.fd(), -1);
  EXPECT_EQ(dev.read_value(), -1);  // never opened for writing
  EXPECT_FALSE(req.to_json().contains("reason"));
}

TEST(IdleStates, ADeviceThatCannotBeWrittenIsARecordedReason) {
  const auto missing = test::scratch_dir() / "no-such-dir" / "cpu_dma_latency";
  idle_state_request req(idle_mode::held, missing.string());
  EXPECT_EQ(req.in_force(), idle_mode::allowed);
  EXPECT_NE(req.reason().find("open(" + missing.string() + "): No such file"), std::string::npos)
      << req.reason();
  const auto j = req.to_json();
  EXPECT_EQ(j.at("requested"), "held");
  EXPECT_EQ(j.at("in_force"), "allowed");
  EXPECT_EQ(j.at("reason"), req.reason());
}

TEST(IdleStates, AHeldRequestWithoutACpuidleDriverIsRecordedAsTakingNoEffect) {
  fake_device dev;
  const std::string driver = (dev.dir.path() / "current_driver").string();
  const auto with_driver = [&](const char* name) {
    std::ofstream(driver) << name << "\n";
    return std::make_unique<idle_state_request>(idle_mode::held, dev.path.string(), driver);
  };
  // No driver: the request is made (and released as ever), and recorded as reaching nothing.
  auto none = with_driver("none");
  EXPECT_EQ(none->in_force(), idle_mode::held);
  EXPECT_FALSE(none->takes_effect());
  EXPECT_EQ(none->no_effect(),
            "no cpuidle driver (" + driver +
                ": none): idle CPUs take the architecture's default idle (HLT; on a VM a halt to "
                "the host), which a PM QoS request does not reach");
  EXPECT_EQ(none->no_effect_brief(), "no cpuidle driver");
  auto j = none->to_json();
  EXPECT_EQ(j.at("in_force"), "held");
  EXPECT_EQ(j.at("takes_effect"), false);
  EXPECT_EQ(j.at("effect"), "none: " + none->no_effect());
  EXPECT_EQ(dev.read_value(), 0);
  none.reset();
  EXPECT_EQ(dev.read_value(), -1);
  // A driver: its governor honours the request.
  auto haltpoll = with_driver("haltpoll");
  EXPECT_TRUE(haltpoll->takes_effect());
  EXPECT_TRUE(haltpoll->no_effect().empty());
  EXPECT_TRUE(haltpoll->no_effect_brief().empty());
  j = haltpoll->to_json();
  EXPECT_EQ(j.at("takes_effect"), true);
  EXPECT_EQ(j.at("effect"), "idle CPUs poll (cpuidle driver haltpoll)");
  haltpoll.reset();
  // No cpuidle in sysfs at all.
  const std::string missing = (dev.dir.path() / "no-cpuidle" / "current_driver").string();
  const idle_state_request bare(idle_mode::held, dev.path.string(), missing);
  EXPECT_FALSE(bare.takes_effect());
  EXPECT_EQ(bare.no_effect().rfind("this kernel has no cpuidle (no " + missing + "): ", 0), 0u)
      << bare.no_effect();
  EXPECT_EQ(bare.no_effect_brief(), "no cpuidle in this kernel");
  // Allowed asks nothing, and says nothing of an effect.
  const idle_state_request allowed(idle_mode::allowed, dev.path.string(), driver);
  EXPECT_FALSE(allowed.to_json().contains("takes_effect"));
}

TEST(IdleStates, ParsesTheTwoModes) {
  EXPECT_EQ(parse_idle_mode("held"), idle_mode::held);
  EXPECT_EQ(parse_idle_mode("allowed"), idle_mode::allowed);
  EXPECT_FALSE(parse_idle_mode("off").has_value());
}

// Whether process `pid` is gone: reaped, or dead and waiting to be (a zombie, as one whose
// parent died stays until whoever adopts it reaps it).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// Open descriptors of `pid` above 2.
int open_above_stdio(pid_t pid) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    if (std::stoi(e.path().filename().string()) > 2) ++n;
  return n;
}

// Held with nothing to honour the request: a busy loop per CPU, pinned there, at idle priority
// (and nice 19, which /proc/stat counts apart), holding none of the coordinator's descriptors;
// gone once the poller is.
TEST(IdlePoller, RunsPinnedAtIdlePriorityAndGoesWithThePoller) {
  const std::vector<int> cpus = allowed_cpus();
  std::vector<pid_t> pids;
  {
    const idle_poller poller(cpus);
    EXPECT_EQ(poller.cpus(), cpus);
    pids = poller.pids();
    ASSERT_EQ(pids.size(), cpus.size());
    for (std::size_t i = 0; i < pids.size(); ++i) {
      EXPECT_EQ(::sched_getscheduler(pids[i]), SCHED_IDLE);
      errno = 0;
      EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(pids[i])), kPollerNice);
      cpu_set_t set;
      CPU_ZERO(&set);
      ASSERT_EQ(::sched_getaffinity(pids[i], sizeof set, &set), 0);
      EXPECT_EQ(CPU_COUNT(&set), 1);
      EXPECT_TRUE(CPU_ISSET(cpus[i], &set));
      EXPECT_EQ(open_above_stdio(pids[i]), 0);
    }
    EXPECT_NE(poller.effect().find("SCHED_IDLE, nice 19"), std::string::npos) << poller.effect();
  }
  for (pid_t pid : pids) EXPECT_TRUE(gone(pid)) << pid;
}

// A coordinator killed with SIGKILL takes its pollers with it.
TEST(IdlePoller, DiesWithAKilledHolder) {
  int link[2];
  ASSERT_EQ(::pipe2(link, O_CLOEXEC), 0);
  unique_fd rd(link[0]), wr(link[1]);
  const int wfd = wr.get();
  auto holder = child_process::fork([wfd]() -> int {
    const idle_poller poller({allowed_cpus().front()});
    const pid_t pid = poller.pids().front();
    if (::write(wfd, &pid, sizeof pid) != sizeof pid) return 2;
    for (;;) ::pause();
  });
  wr.reset();
  pid_t loop = -1;
  ASSERT_EQ(::read(rd.get(), &loop, sizeof loop), static_cast<ssize_t>(sizeof loop));
  EXPECT_FALSE(gone(loop));
  ::kill(holder.pid(), SIGKILL);
  ASSERT_TRUE(holder.wait_for(5s).has_value());
  // PR_SET_PDEATHSIG: killed at once; init reaps it.
  for (int i = 0; i < 500 && !gone(loop); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(gone(loop));
}

// The bench program's and the probes' hold: pollers only where a held request takes no effect,
// and a poller that cannot start said, not thrown.
TEST(IdleHold, PollersOnlyWhereTheHeldRequestTakesNoEffect) {
  fake_device dev;
  const std::string driver = (dev.dir.path() / "current_driver").string();
  const std::vector<int> one = {allowed_cpus().front()};
  std::ofstream(driver) << "none\n";
  {
    const idle_hold held(idle_mode::held, one, dev.path.string(), driver);
    ASSERT_NE(held.poller(), nullptr);
    EXPECT_EQ(held.poller()->cpus(), one);
    EXPECT_TRUE(held.no_poller().empty());
    EXPECT_EQ(held.to_json().at("held_by"), "poller");
    EXPECT_EQ(held.to_json().at("pm_qos"), "made, to no effect: " + held.request().no_effect());
  }
  {
    const idle_hold allowed(idle_mode::allowed, one, dev.path.string(), driver);
    EXPECT_EQ(allowed.poller(), nullptr);
    EXPECT_TRUE(allowed.no_poller().empty());
    EXPECT_EQ(allowed.to_json().at("in_force"), "allowed");
  }
  {
    // A CPU this process may not run on: the loop cannot be pinned, and the hold says why.
    const idle_hold unpinned(idle_mode::held, {CPU_SETSIZE - 1}, dev.path.string(), driver);
    EXPECT_EQ(unpinned.poller(), nullptr);
    EXPECT_NE(unpinned.no_poller().find("CPU " + std::to_string(CPU_SETSIZE - 1)),
              std::string::npos)
        << unpinned.no_poller();
    EXPECT_EQ(unpinned.to_json().at("held_by"), "pm_qos");
  }
  std::ofstream(driver) << "haltpoll\n";
  const idle_hold honoured(idle_mode::held, one, dev.path.string(), driver);
  EXPECT_TRUE(honoured.request().takes_effect());
  EXPECT_EQ(honoured.poller(), nullptr);
  EXPECT_TRUE(honoured.no_poller().empty());
}

// The report says what held the CPUs, and what became of the PM QoS request.
TEST(IdlePoller, TheReportSaysThePollersHeldTheCpusAndWhy) {
  fake_device dev;
  const std::string driver = (dev.dir.path() / "current_driver").string();
  std::ofstream(driver) << "none\n";
  const idle_poller poller({allowed_cpus().front()});
  const idle_state_request no_effect(idle_mode::held, dev.path.string(), driver);
  auto j = no_effect.to_json(&poller);
  EXPECT_EQ(j.at("in_force"), "held");
  EXPECT_EQ(j.at("held_by"), "poller");
  EXPECT_EQ(j.at("takes_effect"), true);
  EXPECT_EQ(j.at("effect"), poller.effect());
  EXPECT_EQ(j.at("poller").at("cpus"), nlohmann::json(poller.cpus()));
  EXPECT_EQ(j.at("poller").at("policy"), "SCHED_IDLE");
  EXPECT_EQ(j.at("pm_qos"), "made, to no effect: " + no_effect.no_effect());
  EXPECT_EQ(no_effect.to_json().at("held_by"), "pm_qos");  // without the pollers
  // A request that could not be made: held all the same, by the pollers, and said why.
  const auto missing = test::scratch_dir() / "no-such-dir" / "cpu_dma_latency";
  const idle_state_request not_made(idle_mode::held, missing.string(), driver);
  j = not_made.to_json(&poller);
  EXPECT_EQ(j.at("in_force"), "held");
  EXPECT_EQ(j.at("pm_qos"), "not made: " + not_made.reason());
  EXPECT_FALSE(j.contains("reason"));
  EXPECT_FALSE(j.contains("latency_us"));
}

}  // namespace
}  // namespace ipcbench
