// The socket variants beyond the contract suite. tcp.netns: the namespaces are made without
// moving the caller, their two peers talk across the veth pair at every size, and the
// mechanism is unavailable with the errno where namespaces cannot be made. vsock: unavailable with
// the reason where the loopback transport is absent, otherwise a ping-pong across sizes.
// tcp.zerocopy: the notification ranges fold in any order and across the 32-bit wrap of the
// kernel's ids; a ping-pong of every size across PIPE_BUF and 64 KiB arrives intact with every
// send's notification come before the next send returns; the traits say what the kernel did on
// loopback.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <thread>
#include <vector>

#include "mechanisms/sockets/tcp_netns.hpp"
#include "mechanisms/sockets/tcp_zerocopy.hpp"
#include "mechanisms/sockets/vsock.hpp"
#include "registry/registry.hpp"
#include "sys/zerocopy.hpp"

namespace ipcbench {
namespace {

TEST(ZerocopyCompletions, RangesFoldInAnyOrder) {
  zerocopy_completions c;
  for (int i = 0; i < 6; ++i) c.issued();
  EXPECT_TRUE(c.done_below(0));
  c.completed(3, 4, false);  // ahead of 0..2: not contiguous yet
  EXPECT_FALSE(c.done_below(1));
  c.completed(0, 1, true);
  EXPECT_TRUE(c.done_below(2));
  EXPECT_FALSE(c.done_below(3));
  c.completed(2, 2, false);  // joins 3..4
  EXPECT_TRUE(c.done_below(5));
  EXPECT_FALSE(c.done_below(6));
  c.completed(5, 5, true);
  EXPECT_TRUE(c.done_below(6));
  EXPECT_EQ(c.completed_calls(), 6u);
  EXPECT_EQ(c.copied_calls(), 3u);
}

TEST(ZerocopyCompletions, IdsWrapAt32Bits) {
  zerocopy_completions c;
  c.completed(0, 0x7ffffffeu, false);  // up to just before the wrap, in two ranges
  c.completed(0x7fffffffu, 0xfffffffdu, false);
  EXPECT_TRUE(c.done_below(0xfffffffeu));
  EXPECT_FALSE(c.done_below(0xffffffffu));
  c.completed(0xfffffffeu, 1u, false);  // a range across the wrap
  EXPECT_TRUE(c.done_below(2u));
  EXPECT_FALSE(c.done_below(3u));
}

std::vector<std::byte> bytes(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 131 + seed) >> 2);
  return v;
}

TEST(TcpZerocopy, PingPongAcrossPipeBufAnd64KiBArrivesIntact) {
  for (std::size_t size : {1u, 4095u, 4096u, 4097u, 65536u, 65537u, 1048576u}) {
    channel_config cfg;
    cfg.message_size = size;
    cfg.peers_are_threads = true;
    tcp_zerocopy_channel ch(cfg);
    bool echo_ok = true;
    std::thread consumer([&] {
      zerocopy_endpoint e = ch.open(role::consumer);
      std::vector<std::byte> in(size);
      // Replies from two buffers by parity too, as the harness's consumer stamps its replies.
      std::vector<std::byte> out[2] = {std::vector<std::byte>(size), std::vector<std::byte>(size)};
      for (int i = 0; i < 20; ++i) {
        if (e.receive(in) != static_cast<std::ptrdiff_t>(size)) {
          echo_ok = false;
          return;
        }
        out[i % 2] = in;
        if (e.send(out[i % 2]) != io_status::ok) {
          echo_ok = false;
          return;
        }
      }
    });
    zerocopy_endpoint p = ch.open(role::producer);
    std::vector<std::byte> in(size);
    // Two buffers by parity, as the harness stamps them: each is rewritten right after the next
    // send returns, which the endpoint allows only once its pages are released.
    std::vector<std::byte> buf[2] = {std::vector<std::byte>(size), std::vector<std::byte>(size)};
    for (unsigned i = 0; i < 20; ++i) {
      buf[i % 2] = bytes(size, i);
      ASSERT_EQ(p.send(buf[i % 2]), io_status::ok) << size;
      ASSERT_EQ(p.receive(in), static_cast<std::ptrdiff_t>(size)) << size;
      ASSERT_EQ(std::memcmp(in.data(), bytes(size, i).data(), size), 0) << size << " #" << i;
    }
    consumer.join();
    ch.opened();
    EXPECT_TRUE(echo_ok) << size;
  }
}

TEST(TcpZerocopy, TraitsSayWhatTheKernelDidOnLoopback) {
  const mechanism_entry* e = find_mechanism("tcp.zerocopy");
  ASSERT_NE(e, nullptr);
  if (!e->unavailable.empty()) GTEST_SKIP() << e->unavailable;
  EXPECT_FALSE(e->traits.supports_throughput);
  const std::string seen = e->traits.notes.at("zero_copy_observed");
  EXPECT_TRUE(seen.rfind("yes", 0) == 0 || seen.rfind("no", 0) == 0) << seen;
}

TEST(Vsock, UnavailableSaysWhyOrCarriesEverySize) {
  const mechanism_entry* e = find_mechanism("vsock");
  ASSERT_NE(e, nullptr);
  if (!e->unavailable.empty()) {
    // Named: the call, the loopback address and the errno, e.g. a VM guest with only the virtio
    // transport.
    EXPECT_NE(e->unavailable.find("VMADDR_CID_LOCAL"), std::string::npos) << e->unavailable;
    EXPECT_NE(e->unavailable.find("vsock_loopback"), std::string::npos) << e->unavailable;
    channel_config cfg;
    EXPECT_THROW(vsock_channel{cfg}, std::system_error);
    return;
  }
  for (std::size_t size : {1u, 4096u, 4097u, 65537u, 1048576u}) {
    channel_config cfg;
    cfg.message_size = size;
    cfg.peers_are_threads = true;
    vsock_channel ch(cfg);
    std::vector<std::byte> got(size);
    std::thread consumer([&] {
      stream_endpoint end = ch.open(role::consumer);
      if (end.receive(got) != static_cast<std::ptrdiff_t>(size)) got.clear();
    });
    stream_endpoint p = ch.open(role::producer);
    const auto sent = bytes(size, 7);
    ASSERT_EQ(p.send(sent), io_status::ok);
    consumer.join();
    ch.opened();
    EXPECT_EQ(got, sent) << size;
  }
}

ino_t own_netns_inode() {
  struct stat st {};
  EXPECT_EQ(::stat("/proc/thread-self/ns/net", &st), 0);
  return st.st_ino;
}

TEST(TcpNetns, TwoNamespacesAcrossAVethPairCarryEverySize) {
  const mechanism_entry* e = find_mechanism("tcp.netns");
  ASSERT_NE(e, nullptr);
  if (!e->unavailable.empty()) {
    EXPECT_NE(e->unavailable.find("CLONE_NEWNET"), std::string::npos) << e->unavailable;
    GTEST_SKIP() << e->unavailable;
  }
  const ino_t before = own_netns_inode();
  for (std::size_t size : {1u, 4096u, 4097u, 65537u, 1048576u}) {
    channel_config cfg;
    cfg.message_size = size;
    cfg.peers_are_threads = true;
    tcp_netns_channel ch(cfg);
    EXPECT_EQ(own_netns_inode(), before) << "making the namespaces moved the caller";
    std::vector<std::byte> got(size);
    ino_t consumer_ns = 0;
    std::thread consumer([&] {
      stream_endpoint end = ch.open(role::consumer);
      consumer_ns = own_netns_inode();
      if (end.receive(got) != static_cast<std::ptrdiff_t>(size)) got.clear();
    });
    ino_t producer_ns = 0;
    std::thread producer([&] {
      stream_endpoint end = ch.open(role::producer);
      producer_ns = own_netns_inode();
      EXPECT_EQ(end.send(bytes(size, 3)), io_status::ok);
    });
    producer.join();
    consumer.join();
    ch.opened();
    EXPECT_EQ(got, bytes(size, 3)) << size;
    // Each peer in a namespace of its own, neither the caller's.
    EXPECT_NE(consumer_ns, producer_ns);
    EXPECT_NE(consumer_ns, before);
    EXPECT_NE(producer_ns, before);
  }
  EXPECT_EQ(own_netns_inode(), before);
}

}  // namespace
}  // namespace ipcbench
