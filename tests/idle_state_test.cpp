// The idle-state request: held for as long as its descriptor is open, released on every exit
// path (the kernel drops a PM QoS request when the descriptor closes), recorded either way, and a
// device that cannot be written is a recorded reason, not a failure. A FIFO stands in for
// /dev/cpu_dma_latency: what the request writes arrives, and its closing is an EOF.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

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

}  // namespace
}  // namespace ipcbench
