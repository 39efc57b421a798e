// The conformance suite an out-of-tree adapter runs (include/ipcbench/conformance.hpp): the pipe
// passes it; an adapter that corrupts messages above PIPE_BUF, one that leaves a file behind
// and one whose consumer never hands over the bytes fail it, naming what they did wrong.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ipcbench/conformance.hpp"
#include "mechanisms/pipes/pipe.hpp"
#include "test_env.hpp"
#include "wrapped_pipe.hpp"

namespace ipcbench {
namespace {

// Runs the suite against channel type C without registering it (no launched peers).
template <class C>
std::pair<int, std::string> run_conformance(const std::vector<std::size_t>& sizes) {
  conformance::options o;
  o.sizes = sizes;
  o.spawned_peers = false;
  o.timeout = std::chrono::seconds(10);
  std::ostringstream out;
  const int failed = conformance::check<C>(make_entry<C>("test"), o, out);
  return {failed, out.str()};
}

bool has_line(const std::string& out, const std::string& start) {
  return out.find("\n" + start) != std::string::npos;
}

TEST(Conformance, ThePipePassesEveryCheck) {
  const auto [failed, out] =
      run_conformance<pipe_channel>({1, 4095, 4096, 4097, 65536, 65537, 4u << 20});
  EXPECT_EQ(failed, 0) << out;
  for (const char* line :
       {"ok    latency 4097 B: 40 messages intact", "ok    throughput 4194304 B: 8 messages intact",
        "ok    a corrupted message (latency 4096 B): detected",
        "ok    a dropped message (throughput 64 B): detected",
        "ok    a duplicated message (throughput 64 B): detected",
        "ok    a reordered message (throughput 64 B): detected",
        "ok    a killed consumer: reported", "ok    a killed producer: reported",
        "ok    thread peers, latency 4096 B: 40 messages intact"})
    EXPECT_TRUE(has_line(out, line)) << line << "\n" << out;
  EXPECT_TRUE(has_line(out, "ipcbench conformance: pipe: ")) << out;
  EXPECT_TRUE(test::no_children());
}

// Flips a byte of every message above PIPE_BUF on the consumer's side.
class flipping_endpoint {
 public:
  static constexpr const char* kId = "test.flipping_pipe";
  flipping_endpoint(stream_endpoint inner, bool) : inner_(std::move(inner)) {}
  io_status send(std::span<const std::byte> m) { return inner_.send(m); }
  std::ptrdiff_t receive(std::span<std::byte> b) {
    const std::ptrdiff_t n = inner_.receive(b);
    if (n > 4096) b[static_cast<std::size_t>(n) - 1] ^= std::byte{0x80};
    return n;
  }

 private:
  stream_endpoint inner_;
};

TEST(Conformance, CorruptionAbovePipeBufFailsAtThoseSizesOnly) {
  const auto [failed, out] =
      run_conformance<test::wrapped_pipe<flipping_endpoint>>({4095, 4096, 4097, 65537});
  EXPECT_EQ(failed, 4) << out;  // 4097 and 65537, both patterns
  EXPECT_TRUE(has_line(out, "ok    latency 4096 B: ")) << out;
  EXPECT_TRUE(has_line(out, "FAIL  latency 4097 B: the bytes received are not the bytes sent"))
      << out;
  EXPECT_TRUE(has_line(out, "FAIL  throughput 65537 B: the bytes received are not the bytes sent"))
      << out;
}

// Its consumer reads the message and hands back a buffer that already held an intact one: the
// bytes arrive in the channel but never reach the caller.
class stale_endpoint {
 public:
  static constexpr const char* kId = "test.stale_pipe";
  stale_endpoint(stream_endpoint inner, bool) : inner_(std::move(inner)) {}
  io_status send(std::span<const std::byte> m) { return inner_.send(m); }
  std::ptrdiff_t receive(std::span<std::byte> b) {
    scratch_.resize(b.size());
    return inner_.receive(scratch_);
  }

 private:
  stream_endpoint inner_;
  std::vector<std::byte> scratch_;
};

TEST(Conformance, ABufferNeverFilledFailsEverySize) {
  const auto [failed, out] = run_conformance<test::wrapped_pipe<stale_endpoint>>({64, 4096});
  EXPECT_GE(failed, 4) << out;
  EXPECT_TRUE(has_line(out, "FAIL  latency 64 B: the bytes received are not the bytes sent"))
      << out;
}

// Creates a file in TMPDIR with every channel and never removes it.
class leaking_pipe : public pipe_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe() {
    auto t = pipe_channel::describe();
    t.id = "test.leaking_pipe";
    return t;
  }
  explicit leaking_pipe(const channel_config& cfg) : pipe_channel(cfg) {
    static int n = 0;
    std::ofstream(test::scratch_dir() / ("leaked-" + std::to_string(n++))) << "x";
  }
};

TEST(Conformance, AFileLeftBehindIsNamed) {
  const auto [failed, out] = run_conformance<leaking_pipe>({64});
  for (const auto& e : std::filesystem::directory_iterator(test::scratch_dir()))
    if (e.path().filename().string().starts_with("leaked-")) std::filesystem::remove(e.path());
  EXPECT_GT(failed, 0) << out;
  EXPECT_TRUE(has_line(out, "FAIL  latency 64 B, afterwards: left behind: ")) << out;
  EXPECT_NE(out.find("leaked-0"), std::string::npos) << out;
}

}  // namespace
}  // namespace ipcbench
