// pipe.splice (mechanisms/pipes/pipe_splice.hpp) beyond the contract suite: every byte arrives
// from 1 B to 4 MiB across PIPE_BUF and the 64 KiB pipe capacity, between threads and through
// the harness in both patterns; the sender may rewrite its buffer as soon as send() returns and
// the reader still reads the bytes sent (and without the drain wait, as pipe.vmsplice sends, the
// same rewrite is what the reader reads: the check can see a missing wait); a partner that is
// gone is EOF or closed, also while a sender waits for its ack; no descriptor is left open.
// Its fan_out/N (tee(2) from one staging pipe) delivers every message to every consumer, and a
// buffer rewritten after send() is not what any consumer reads.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "harness/placement.hpp"
#include "harness/runner.hpp"
#include "mechanisms/pipes/pipe_splice.hpp"
#include "mechanisms/pipes/pipe_splice_tee.hpp"
#include "mechanisms/pipes/pipe_vmsplice.hpp"
#include "registry/registry.hpp"
#include "test_env.hpp"
#include "test_request.hpp"

namespace ipcbench {
namespace {

using test::open_fds;

using test::pattern_bytes;

channel_config thread_peers() {
  channel_config cfg;
  cfg.peers_are_threads = true;
  return cfg;
}

// SIGPIPE ignored for the scope, as a peer that ignores it would see a write to a gone reader.
struct ignore_sigpipe {
  struct sigaction old {};
  ignore_sigpipe() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
  }
  ~ignore_sigpipe() { ::sigaction(SIGPIPE, &old, nullptr); }
};

const std::vector<std::size_t> kSpliceSizes = {1,     4095,  4096,     4097,    65535,
                                               65536, 65537, 1u << 20, 4u << 20};

// Messages of kSpliceSizes each way between two threads: the receiver gets exactly the bytes sent,
// messages larger than the pipe included (vmsplice takes them in parts).
TEST(PipeSplice, MovesEveryByteBothWaysAtEverySizeAndClosesItsDescriptors) {
  const std::size_t before = open_fds();
  {
    pipe_splice_channel ch(thread_peers());
    auto producer = ch.open(role::producer);
    auto consumer = ch.open(role::consumer);
    ch.opened();
    unsigned seed = 1;
    for (std::size_t n : kSpliceSizes) {
      const auto out = pattern_bytes(n, seed++);
      const auto back = pattern_bytes(n, seed++);
      auto reply = std::async(std::launch::async, [&] {
        std::vector<std::byte> in(n);
        EXPECT_EQ(consumer.receive(in), static_cast<std::ptrdiff_t>(n));
        EXPECT_TRUE(in == out) << n << " bytes";
        EXPECT_EQ(consumer.send(back), io_status::ok);
      });
      ASSERT_EQ(producer.send(out), io_status::ok) << n;
      std::vector<std::byte> got(n);
      ASSERT_EQ(producer.receive(got), static_cast<std::ptrdiff_t>(n));
      reply.get();
      EXPECT_TRUE(got == back) << n << " bytes back";
    }
  }
  EXPECT_EQ(open_fds(), before);
}

// A one-way stream of many messages from two alternating buffers, each rewritten with the next
// message right after send() returns (the harness's throughput pattern): all arrive intact.
TEST(PipeSplice, AStreamFromTwoRewrittenBuffersArrivesIntact) {
  pipe_splice_channel ch(thread_peers());
  auto producer = ch.open(role::producer);
  auto consumer = ch.open(role::consumer);
  ch.opened();
  for (std::size_t n : {std::size_t{4096}, std::size_t{65536}, std::size_t{65537}}) {
    constexpr unsigned kCount = 64;
    auto reader = std::async(std::launch::async, [&] {
      std::vector<std::byte> in(n);
      for (unsigned k = 0; k < kCount; ++k) {
        EXPECT_EQ(consumer.receive(in), static_cast<std::ptrdiff_t>(n));
        EXPECT_TRUE(in == pattern_bytes(n, k)) << n << " bytes, message " << k;
      }
    });
    std::vector<std::byte> buf[2];
    for (unsigned k = 0; k < kCount; ++k) {
      buf[k % 2] = pattern_bytes(n, k);
      ASSERT_EQ(producer.send(buf[k % 2]), io_status::ok);
    }
    reader.get();
  }
}

// The buffer is the sender's again when send() returns: a reader that comes only 50 ms later
// still reads the bytes sent, not what the sender wrote over them since. At sizes the pipe holds
// whole, a send without the drain wait returns before the reader has read anything, so the
// rewrite would be read (see the next test): this test fails if the wait is removed. Larger
// messages only have their last part in the pipe when vmsplice returns: they show a missing wait
// when the reader is slower than the rewrite, as it mostly is.
TEST(PipeSplice, TheSenderMayRewriteItsBufferAsSoonAsSendReturns) {
  pipe_splice_channel ch(thread_peers());
  auto producer = ch.open(role::producer);
  auto consumer = ch.open(role::consumer);
  ch.opened();
  for (std::size_t n : {std::size_t{1}, std::size_t{4096}, std::size_t{32768}, std::size_t{65536},
                        std::size_t{65537}, std::size_t{1u << 20}}) {
    const auto original = pattern_bytes(n, 7);
    std::vector<std::byte> buf = original;
    auto reader = std::async(std::launch::async, [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::vector<std::byte> in(n);
      EXPECT_EQ(consumer.receive(in), static_cast<std::ptrdiff_t>(n));
      return in;
    });
    ASSERT_EQ(producer.send(buf), io_status::ok);
    std::memset(buf.data(), 0x5a, buf.size());
    const auto in = reader.get();
    EXPECT_TRUE(in == original) << n << " bytes: the reader read bytes written after send()";
  }
}

// The hazard the drain wait removes is real on this kernel: vmsplice without the wait
// (pipe.vmsplice's send), the same rewrite, and the reader reads the rewritten bytes.
TEST(PipeSplice, WithoutTheDrainWaitTheRewriteIsWhatTheReaderReads) {
  auto fwd = make_pipe();
  auto back = make_pipe();
  vmsplice_endpoint producer(std::move(back.read_end), std::move(fwd.write_end));
  vmsplice_endpoint consumer(std::move(fwd.read_end), std::move(back.write_end));
  for (std::size_t n : {std::size_t{1}, std::size_t{4096}, std::size_t{32768}}) {
    std::vector<std::byte> buf = pattern_bytes(n, 7);
    ASSERT_EQ(producer.send(buf), io_status::ok);
    std::memset(buf.data(), 0x5a, buf.size());
    std::vector<std::byte> in(n);
    ASSERT_EQ(consumer.receive(in), static_cast<std::ptrdiff_t>(n));
    EXPECT_TRUE(in == buf) << n << " bytes: this kernel copied at vmsplice time";
  }
}

// A partner whose end is gone: EOF for the receiver, closed for the sender (EPIPE from vmsplice
// with SIGPIPE ignored), and closed too for a sender waiting for the ack of a message that sits
// in the pipe when the partner goes.
TEST(PipeSplice, AGonePartnerIsEofOrClosedEvenDuringTheAckWait) {
  const std::size_t before = open_fds();
  {
    pipe_splice_channel ch(thread_peers());
    std::optional<splice_endpoint> producer(ch.open(role::producer));
    std::optional<splice_endpoint> consumer(ch.open(role::consumer));
    ch.opened();
    std::vector<std::byte> msg = pattern_bytes(100, 3);
    auto waiting = std::async(std::launch::async, [&] { return producer->send(msg); });
    // The message is in the pipe and the producer waits for its ack.
    EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
    consumer.reset();
    EXPECT_EQ(waiting.get(), io_status::closed);
    std::vector<std::byte> buf(100);
    EXPECT_EQ(producer->receive(buf), kPeerGone);
    ignore_sigpipe quiet;
    EXPECT_EQ(producer->send(msg), io_status::closed);
  }
  EXPECT_EQ(open_fds(), before);
}

// A byte other than the ack where one is due means the two ends are out of step: an error that
// says so, never a silent pass.
TEST(PipeSplice, AByteOtherThanTheAckIsRefused) {
  auto fwd = make_pipe();
  auto back = make_pipe();
  const std::byte wrong{'x'};
  ASSERT_EQ(write_all(back.write_end.get(), std::span(&wrong, 1)), io_status::ok);
  splice_endpoint producer(std::move(back.read_end), std::move(fwd.write_end));
  const auto msg = pattern_bytes(10, 1);
  try {
    (void)producer.send(msg);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("0x78"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ack"), std::string::npos) << e.what();
  }
}

using test::small_request;

// Through the harness, forked peers and thread peers, both patterns, 1 B to 4 MiB: every message
// intact, nothing left behind; the report counts it single-copy.
TEST(PipeSplice, DataArrivesIntactThroughTheHarnessAtEverySize) {
  const mechanism_entry* m = find_mechanism("pipe.splice");
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->unavailable.empty()) << m->unavailable;
  EXPECT_TRUE(m->traits.single_copy);
  EXPECT_TRUE(m->traits.supports_throughput);
  EXPECT_TRUE(m->traits.no_thread_peers.empty());
  EXPECT_EQ(m->traits.notes.at("pages_referenced_observed").rfind("yes", 0), 0u)
      << m->traits.notes.at("pages_referenced_observed");
  for (bool threads : {false, true}) {
    for (pattern p : {pattern::latency, pattern::throughput}) {
      for (std::size_t size : {std::size_t{1}, std::size_t{4096}, std::size_t{65536},
                               std::size_t{65537}, std::size_t{4u << 20}}) {
        run_request req = small_request(p, size);
        req.thread_peers = threads;
        const run_result r = m->run(req);
        ASSERT_EQ(r.status, run_status::ok) << (threads ? "threads " : "processes ") << to_string(p)
                                            << " " << size << ": " << r.reason;
        EXPECT_EQ(r.integrity_errors, 0u);
        EXPECT_EQ(r.messages, req.fixed_messages);
        EXPECT_TRUE(test::no_children());
      }
    }
  }
}

// The fan-out's two ends built by hand, the producer's over `n` consumers, in this process.
struct tee_ends {
  std::optional<tee_endpoint> producer;
  std::vector<std::optional<tee_endpoint>> consumers;
};

tee_ends make_tee_ends(std::size_t n) {
  tee_ends e;
  std::vector<unique_fd> out, acks;
  for (std::size_t i = 0; i < n; ++i) {
    auto data = make_pipe();
    auto ack = make_pipe();
    out.push_back(std::move(data.write_end));
    acks.push_back(std::move(ack.read_end));
    e.consumers.emplace_back(tee_endpoint(std::move(data.read_end), std::move(ack.write_end)));
  }
  e.producer.emplace(std::move(out), std::move(acks));
  return e;
}

// Every consumer reads the bytes sent, though the producer rewrites its buffer as soon as send()
// returns and the consumers come 50 ms late; chunks across the 32 KiB chunk size and messages
// larger than a pipe included.
TEST(PipeSpliceTee, EveryConsumerReadsTheBytesSentThoughTheBufferIsRewrittenAfter) {
  const std::size_t before = open_fds();
  {
    tee_ends e = make_tee_ends(3);
    for (std::size_t n : {std::size_t{1}, std::size_t{4096}, kTeeChunk, kTeeChunk + 1,
                          std::size_t{65537}, std::size_t{1u << 20}}) {
      const auto original = pattern_bytes(n, 11);
      std::vector<std::byte> buf = original;
      std::vector<std::future<std::vector<std::byte>>> readers;
      for (auto& c : e.consumers)
        readers.push_back(std::async(std::launch::async, [&c, n] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          std::vector<std::byte> in(n);
          EXPECT_EQ(c->receive(in), static_cast<std::ptrdiff_t>(n));
          return in;
        }));
      ASSERT_EQ(e.producer->send(buf), io_status::ok) << n;
      std::memset(buf.data(), 0x5a, buf.size());
      for (auto& r : readers)
        EXPECT_TRUE(r.get() == original)
            << n << " bytes: a consumer read bytes written after send()";
    }
  }
  EXPECT_EQ(open_fds(), before);
}

// A consumer gone while the producer waits for its ack: closed; the other consumers got the
// message. A consumer whose producer is gone reads EOF.
TEST(PipeSpliceTee, AGoneConsumerIsClosedAndAGoneProducerIsEof) {
  tee_ends e = make_tee_ends(2);
  const auto msg = pattern_bytes(100, 5);
  auto waiting = std::async(std::launch::async, [&] { return e.producer->send(msg); });
  std::vector<std::byte> in(100);
  ASSERT_EQ(e.consumers[0]->receive(in), 100);
  EXPECT_TRUE(in == msg);
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  e.consumers[1].reset();
  EXPECT_EQ(waiting.get(), io_status::closed);
  e.producer.reset();
  EXPECT_EQ(e.consumers[0]->receive(in), kPeerGone);
}

// fan_out/N through the harness, forked members: every consumer gets every message intact.
TEST(PipeSpliceTee, FanOutThroughTheHarnessDeliversEveryMessageToEveryConsumer) {
  const mechanism_entry* m = find_mechanism("pipe.splice");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->groups.count(topology::fan_out), 1u);
  for (std::size_t n : {std::size_t{1}, std::size_t{3}}) {
    for (std::size_t size : {std::size_t{64}, std::size_t{4097}, kTeeChunk + 1, std::size_t{65537},
                             std::size_t{1u << 20}}) {
      run_request req = small_request(pattern::throughput, size);
      req.place = placement::none;  // N + 1 members on what CPUs there are
      const run_result r = m->run_group(req, topology::fan_out, n);
      ASSERT_EQ(r.status, run_status::ok) << "fan_out/" << n << " " << size << ": " << r.reason;
      EXPECT_EQ(r.integrity_errors, 0u);
      ASSERT_TRUE(r.group);
      EXPECT_EQ(r.group->members.size(), n + 1);
      for (const auto& o : r.group->members)
        EXPECT_EQ(o.messages, req.fixed_messages)
            << to_string(o.r) << " " << o.index << ", " << size;
      EXPECT_TRUE(test::no_children());
    }
  }
}

}  // namespace
}  // namespace ipcbench
