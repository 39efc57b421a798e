// The shared-memory mechanisms beyond the contract suite: the ring streams messages larger than
// itself and rejects one that does not fit the buffer; every payload starts on a 64-byte line of
// the ring; a blocked sender or receiver waits for a useful amount (hysteresis); the message
// check catches a byte corrupted in the ring, also where a message wraps round the ring's end; a
// spinning peer whose partner dies stops waiting by itself (the blocking variants wait untimed
// and leave that to the coordinator: fault_test.cpp's PeerFaults); named segments can be
// attached from their rendezvous description alone, and their names are gone after opened();
// semaphore counts do not drift; peers sharing one CPU finish; SIGINT leaves no object behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include "harness/coordinator.hpp"
#include "harness/message.hpp"
#include "mechanisms/shm/mmap_anon.hpp"
#include "mechanisms/shm/mmap_file.hpp"
#include "mechanisms/shm/posix_shm.hpp"
#include "mechanisms/shm/sysv_shm.hpp"
#include "registry/registry.hpp"
#include "shm_view.hpp"
#include "sys/child.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

using clock_type = std::chrono::steady_clock;

using test::pattern_bytes;

template <class C>
class ShmChannel : public ::testing::Test {};

using all_channels =
    ::testing::Types<sysv_shm_channel, posix_shm_channel<posix_sem_sync>,
                     posix_shm_channel<futex_sync>, posix_shm_channel<adaptive_sync>,
                     posix_shm_channel<spin_sync>, posix_shm_channel<mutex_cond_sync>,
                     posix_shm_channel<spinlock_sync>, posix_shm_channel<rwlock_sync>,
                     posix_shm_channel<unnamed_sem_sync>, mmap_file_channel, mmap_anon_channel>;
TYPED_TEST_SUITE(ShmChannel, all_channels);

// A consumer in a forked child echoes `count` messages of `size` bytes; the parent produces.
template <class C>
child_process echo_child(C& ch, std::size_t size, int count) {
  return child_process::fork([&ch, size, count]() -> int {
    auto ep = ch.open(role::consumer);
    std::vector<std::byte> buf(size);
    for (int i = 0; i < count; ++i) {
      if (ep.receive(buf) != static_cast<std::ptrdiff_t>(size)) return 2;
      if (ep.send(buf) != io_status::ok) return 3;
    }
    return 0;
  });
}

TYPED_TEST(ShmChannel, MessagesLargerThanTheRingRoundTripIntact) {
  const std::size_t before = test::kernel_objects();
  {
    private_dir dir;
    TypeParam ch(channel_config{0, pattern::latency, &dir});
    const std::size_t size = 3 * shm::kRingBytes + 12345;
    auto child = echo_child(ch, size, 3);
    auto ep = ch.open(role::producer);
    std::vector<std::byte> back(size);
    for (unsigned i = 0; i < 3; ++i) {
      const auto msg = pattern_bytes(size, i);
      ASSERT_EQ(ep.send(msg), io_status::ok);
      ASSERT_EQ(ep.receive(back), static_cast<std::ptrdiff_t>(size));
      ASSERT_EQ(back, msg) << "message " << i;
      if (i == 0) ch.opened();
    }
    const auto st = child.wait_for(std::chrono::seconds(10));
    ASSERT_TRUE(st.has_value());
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << describe_wait_status(*st);
  }
  EXPECT_EQ(test::kernel_objects(), before);
  EXPECT_TRUE(test::leftovers().empty());
}

TYPED_TEST(ShmChannel, MessageLongerThanTheBufferIsAnError) {
  private_dir dir;
  TypeParam ch(channel_config{0, pattern::latency, &dir});
  auto child = child_process::fork([&ch]() -> int {
    auto ep = ch.open(role::producer);
    return ep.send(pattern_bytes(100, 1)) == io_status::ok ? 0 : 2;
  });
  auto ep = ch.open(role::consumer);
  ASSERT_EQ(child.wait_for(std::chrono::seconds(10)).value_or(-1), 0);  // the message waits
  std::vector<std::byte> small(50);
  EXPECT_THROW(ep.receive(small), std::length_error);
}

// The spinning variant checks its partner every shm::kPollMs; the others sleep untimed.
TEST(ShmSpin, ReceiverSeesADeadProducerWithinAFewPolls) {
  private_dir dir;
  posix_shm_channel<spin_sync> ch(channel_config{0, pattern::latency, &dir, false});
  // The producer opens its end and dies without a word; it stays a zombie (unreaped) meanwhile.
  auto child = child_process::fork([&ch]() -> int {
    auto ep = ch.open(role::producer);
    ::raise(SIGKILL);
    return 1;
  });
  auto ep = ch.open(role::consumer);
  std::vector<std::byte> buf(64);
  const auto t0 = clock_type::now();
  EXPECT_EQ(ep.receive(buf), kPeerGone);
  EXPECT_LT(clock_type::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(describe_wait_status(child.wait_for(std::chrono::seconds(5)).value()),
            "killed by SIGKILL");
}

TEST(ShmSpin, SenderSeesADeadConsumerOnceTheRingIsFull) {
  private_dir dir;
  posix_shm_channel<spin_sync> ch(channel_config{0, pattern::throughput, &dir, false});
  auto child = child_process::fork([&ch]() -> int {
    auto ep = ch.open(role::consumer);
    ::raise(SIGKILL);
    return 1;
  });
  auto ep = ch.open(role::producer);
  const auto msg = pattern_bytes(64 * 1024, 2);
  const auto t0 = clock_type::now();
  io_status st = io_status::ok;
  for (int i = 0; i < 64 && st == io_status::ok; ++i) st = ep.send(msg);
  EXPECT_EQ(st, io_status::closed);
  EXPECT_LT(clock_type::now() - t0, std::chrono::seconds(3));
  child.kill_and_reap();
}

// Ring positions count bytes modulo 2^32: start them just below the wrap (and off any ring
// boundary) and stream through it.
TEST(ShmRing, PositionsWrapAroundTwoToThe32) {
  private_dir dir;
  posix_shm_channel<futex_sync> ch(channel_config{0, pattern::latency, &dir});
  const auto name = ch.rendezvous().at("name").get<std::string>();
  {
    unique_fd fd(::shm_open(name.c_str(), O_RDWR, 0));
    ASSERT_TRUE(fd);
    auto map = shm::map_segment(fd.get(), name);
    for (auto& r : reinterpret_cast<shm::segment_header*>(map.data())->ring)
      r.head = r.tail = 0xFFFFFFFFu - 100'000;
  }
  const std::size_t size = 300'000;
  auto child = echo_child(ch, size, 20);
  auto ep = ch.open(role::producer);
  std::vector<std::byte> back(size);
  for (unsigned i = 0; i < 20; ++i) {
    const auto msg = pattern_bytes(size, i);
    ASSERT_EQ(ep.send(msg), io_status::ok);
    ASSERT_EQ(ep.receive(back), static_cast<std::ptrdiff_t>(size));
    ASSERT_EQ(back, msg) << "message " << i;
  }
  const auto st = child.wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << describe_wait_status(*st);
}

using test::load;
using test::load64;
using test::map_view;

// A POSIX shm channel with both ends open in this process, its segment mapped a second time to
// look into ring 0 (producer -> consumer), the positions started off any line (12345).
template <class Sync>
struct open_ring {
  explicit open_ring(bool share_cpu)
      : ch(channel_config{0, pattern::latency, &dir, share_cpu}),
        view(map_view(ch)),
        hdr(start_off_a_line(view)),
        ring(view.data() + shm::kHeaderBytes),
        producer(ch.open(role::producer)),
        consumer(ch.open(role::consumer)) {
    ch.opened();
  }
  static shm::segment_header* start_off_a_line(mapping& m) {
    auto* h = reinterpret_cast<shm::segment_header*>(m.data());
    h->ring[0].head = h->ring[0].tail = 12345;
    return h;
  }
  private_dir dir;
  posix_shm_channel<Sync> ch;
  mapping view;
  shm::segment_header* hdr;
  const std::byte* ring;
  decltype(ch.open(role::producer)) producer;
  decltype(ch.open(role::consumer)) consumer;
};

// Every message starts on a 64-byte boundary of the ring (its length line), and so does its
// payload, whatever the sizes before it and wherever the positions started.
TEST(ShmRing, EveryPayloadStartsOnACacheLineOfTheRing) {
  open_ring<futex_sync> r(true);
  std::vector<std::byte> back(70'000);
  unsigned seed = 0;
  for (std::size_t size : {0, 1, 7, 8, 9, 63, 64, 65, 100, 4095, 4097, 70'000, 3}) {
    const auto msg = pattern_bytes(size, ++seed);
    ASSERT_EQ(r.producer.send(msg), io_status::ok);
    const std::uint32_t end = load(r.hdr->ring[0].head);  // the payload ends at the head
    const std::uint32_t start = end - static_cast<std::uint32_t>(size);
    EXPECT_EQ(start % shm::kPayloadAlign, 0u) << size;
    const std::uint32_t at = start & (shm::kRingBytes - 1);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(r.ring + at) % shm::kPayloadAlign, 0u) << size;
    // The length sits at the start of the line before the payload.
    std::uint64_t len = 0;
    std::memcpy(&len, r.ring + ((start - shm::kPayloadAlign) & (shm::kRingBytes - 1)), sizeof len);
    EXPECT_EQ(len, size);
    if (at + size <= shm::kRingBytes) {
      EXPECT_TRUE(std::equal(msg.begin(), msg.end(), r.ring + at)) << size;
    }
    ASSERT_EQ(r.consumer.receive(back), static_cast<std::ptrdiff_t>(size));
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), back.begin())) << size;
  }
}

// The spinning policy puts a message of up to 48 bytes in its tag line (length, tag, then the
// bytes at offset 16): one cache line per message. A longer one takes its tag line and the lines
// after it. Every size arrives intact, whatever came before it, and every message still starts
// on a line of the ring.
TEST(ShmSpin, ShortMessagesLieInTheirTagLine) {
  open_ring<spin_sync> r(false);
  std::vector<std::byte> back(70'000);
  unsigned seed = 0;
  for (std::size_t size : {0, 1, 47, 48, 49, 1, 63, 64, 65, 48, 4097, 70'000, 3, 48, 100}) {
    const auto msg = pattern_bytes(size, ++seed);
    const std::uint32_t before = load(r.hdr->ring[0].head);
    ASSERT_EQ(r.producer.send(msg), io_status::ok);
    const std::uint32_t line = (before + shm::kPayloadAlign - 1) & ~(shm::kPayloadAlign - 1);
    const std::byte* at = r.ring + (line & (shm::kRingBytes - 1));
    std::uint64_t len = 0;
    std::memcpy(&len, at, sizeof len);
    EXPECT_EQ(len, size);
    const std::uint32_t head = load(r.hdr->ring[0].head);
    if (size <= 48) {
      EXPECT_EQ(head, line + shm::kPayloadAlign) << size;  // the tag line alone
      EXPECT_TRUE(std::equal(msg.begin(), msg.end(), at + 16)) << size;
    } else {
      EXPECT_EQ(head, line + shm::kPayloadAlign + size) << size;  // the payload after it
    }
    ASSERT_EQ(r.consumer.receive(back), static_cast<std::ptrdiff_t>(size));
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), back.begin())) << size;
  }
}

// Hysteresis: a sender that finds the ring full waits for a chunk of space (or what it still has
// to write, if less), not for the first byte the receiver frees.
TEST(ShmRing, BlockedSenderWaitsForAChunkOfSpace) {
  private_dir dir;
  posix_shm_channel<futex_sync> ch(channel_config{0, pattern::throughput, &dir});
  auto view = map_view(ch);
  auto* ctl = &reinterpret_cast<shm::segment_header*>(view.data())->ring[0];
  const std::size_t size = 4 * shm::kRingBytes;
  auto child = child_process::fork([&ch, size]() -> int {
    auto ep = ch.open(role::producer);
    return ep.send(pattern_bytes(size, 9)) == io_status::ok ? 0 : 2;
  });
  auto consumer = ch.open(role::consumer);
  bool waiting = false;
  for (int i = 0; i < 10'000 && !waiting; ++i) {
    waiting = load64(ctl->space_wait) != 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(waiting) << "the sender never waited for space";
  // It published all it wrote (a full ring) before it slept.
  const std::uint32_t head = load(ctl->head);
  EXPECT_EQ(head - load(ctl->tail), shm::kRingBytes);
  const std::uint64_t w = load64(ctl->space_wait);
  EXPECT_EQ(w & shm::kWaiting, shm::kWaiting);
  EXPECT_EQ(static_cast<std::uint32_t>(w) - (head - shm::kRingBytes), shm::kChunkBytes);
  ch.opened();
  std::vector<std::byte> back(size);
  ASSERT_EQ(consumer.receive(back), static_cast<std::ptrdiff_t>(size));
  EXPECT_EQ(back, pattern_bytes(size, 9));
  const auto st = child.wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << describe_wait_status(*st);
}

// Hysteresis on the other side: a receiver part-way through a large message waits for a chunk
// more (or the rest of the message, if less), not for the next byte. The "sender" here is this
// test, writing the ring by hand: a length line and the first 1000 bytes of 200000.
TEST(ShmRing, ReceiverInTheMiddleOfAMessageWaitsForAChunk) {
  private_dir dir;
  posix_shm_channel<futex_sync> ch(channel_config{0, pattern::throughput, &dir});
  auto view = map_view(ch);
  auto* ctl = &reinterpret_cast<shm::segment_header*>(view.data())->ring[0];
  std::byte* ring = view.data() + shm::kHeaderBytes;
  const std::uint64_t len = 200'000;
  std::memcpy(ring, &len, sizeof len);
  std::atomic_ref<std::uint32_t>(ctl->head).store(shm::kPayloadAlign + 1000,
                                                  std::memory_order_release);
  auto child = child_process::fork([&ch, len]() -> int {
    auto ep = ch.open(role::consumer);
    std::vector<std::byte> buf(len);
    (void)ep.receive(buf);  // never completes: killed below
    return 1;
  });
  bool waiting = false;
  for (int i = 0; i < 10'000 && !waiting; ++i) {
    waiting = load64(ctl->data_wait) != 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(waiting) << "the receiver never waited for data";
  // It published what it read (the line and 1000 bytes) and wants a chunk more.
  EXPECT_EQ(load(ctl->tail), shm::kPayloadAlign + 1000);
  const std::uint64_t w = load64(ctl->data_wait);
  EXPECT_EQ(w & shm::kWaiting, shm::kWaiting);
  EXPECT_EQ(static_cast<std::uint32_t>(w), shm::kPayloadAlign + 1000 + shm::kChunkBytes);
  child.kill_and_reap();
}

// The message check catches a byte changed in the ring between send and receive, also in a
// message that wraps round the ring's end. message_codec documents what it reports: the first
// and last 8 bytes carry the sequence number (sequence), the body the pattern (corrupted).
class ShmCorruption : public ::testing::TestWithParam<int> {};
enum ring_spot { kAtTheWrap, kFirst, kMiddle, kLast };

TEST_P(ShmCorruption, CheckCatchesAByteChangedInTheRing) {
  private_dir dir;
  posix_shm_channel<futex_sync> ch(channel_config{0, pattern::latency, &dir});
  auto view = map_view(ch);
  auto* hdr = reinterpret_cast<shm::segment_header*>(view.data());
  std::byte* ring = view.data() + shm::kHeaderBytes;
  auto producer = ch.open(role::producer);
  auto consumer = ch.open(role::consumer);
  ch.opened();
  constexpr std::size_t kSize = 100'000;
  message_codec tx(kSize), rx(kSize);
  std::vector<std::byte> back(kSize);
  constexpr std::uint32_t kMask = shm::kRingBytes - 1;
  for (std::uint64_t seq = 0; seq < 20; ++seq) {
    // Where the payload will start: the next line after the head, past the length line.
    const std::uint32_t head = load(hdr->ring[0].head);
    const std::uint32_t start =
        ((head + shm::kPayloadAlign - 1) & ~(shm::kPayloadAlign - 1)) + shm::kPayloadAlign;
    const std::size_t to_end = shm::kRingBytes - (start & kMask);  // bytes before the wrap
    const bool wraps = to_end > 16 && to_end < kSize - 8;          // the wrap falls in the body
    ASSERT_EQ(producer.send(tx.stamp(seq)), io_status::ok);
    if (!wraps) {
      ASSERT_EQ(consumer.receive(back), static_cast<std::ptrdiff_t>(kSize));
      ASSERT_EQ(rx.check(back, seq), integrity_error::none) << seq;
      continue;
    }
    std::size_t k = 0;  // the byte of the message to change
    integrity_error expected = integrity_error::corrupted;
    switch (GetParam()) {
      case kAtTheWrap:
        k = to_end;  // the first byte after the wrap, at ring offset 0
        break;
      case kFirst:
        k = 0;
        expected = integrity_error::sequence;
        break;
      case kMiddle:
        k = kSize / 2;
        break;
      case kLast:
        k = kSize - 1;
        expected = integrity_error::sequence;
        break;
    }
    if (GetParam() == kAtTheWrap) {
      ASSERT_EQ((start + k) & kMask, 0u);
    }
    ring[(start + k) & kMask] ^= std::byte{0x5A};
    ASSERT_EQ(consumer.receive(back), static_cast<std::ptrdiff_t>(kSize));
    EXPECT_EQ(rx.check(back, seq), expected) << "byte " << k << " of message " << seq;
    // The same byte just before the wrap (the ring's last) is caught too.
    if (GetParam() == kAtTheWrap) {
      ASSERT_EQ(producer.send(tx.stamp(seq + 1)), io_status::ok);
      ASSERT_EQ(consumer.receive(back), static_cast<std::ptrdiff_t>(kSize));
      EXPECT_EQ(rx.check(back, seq + 1), integrity_error::none);
    }
    return;
  }
  FAIL() << "no message wrapped round the ring";
}

std::string ring_spot_name(const ::testing::TestParamInfo<int>& info) {
  static const char* const kNames[] = {"AtTheWrap", "First", "Middle", "Last"};
  return kNames[info.param];
}

INSTANTIATE_TEST_SUITE_P(Ring, ShmCorruption, ::testing::Values(kAtTheWrap, kFirst, kMiddle, kLast),
                         ring_spot_name);

// What the coordinator knows of the placement reaches the spinning policies, also through the
// rendezvous a launched peer attaches by.
TEST(ShmSpin, PoliciesKnowWhetherThePeersShareACpu) {
  for (bool share : {false, true}) {
    private_dir dir;
    posix_shm_channel<spin_sync> spin(channel_config{0, pattern::latency, &dir, share});
    posix_shm_channel<adaptive_sync> adaptive(channel_config{0, pattern::latency, &dir, share});
    EXPECT_EQ(spin.rendezvous().at("sync").at("peers_share_cpu").get<bool>(), share);
    EXPECT_EQ(adaptive.rendezvous().at("sync").at("peers_share_cpu").get<bool>(), share);
  }
}

// Compare states a latency in multiples of the floor its receiver waits on: the cache line for
// the policies that poll memory, the wake-up for those that sleep at once.
TEST(ShmSpin, TraitsSayWhichReceiversSpin) {
  EXPECT_TRUE(posix_shm_channel<spin_sync>::describe().spins);
  EXPECT_TRUE(posix_shm_channel<spinlock_sync>::describe().spins);
  EXPECT_TRUE(posix_shm_channel<adaptive_sync>::describe().spins);
  EXPECT_FALSE(posix_shm_channel<futex_sync>::describe().spins);
  EXPECT_FALSE(posix_shm_channel<posix_sem_sync>::describe().spins);
  EXPECT_FALSE(sysv_shm_channel::describe().spins);
}

// Named mechanisms: a peer that has nothing but rendezvous() opens its end with attach(). The
// peer here is forked, but it uses only the description, as a separately launched one would.
template <class C>
class ShmNamed : public ::testing::Test {};

using named_channels =
    ::testing::Types<sysv_shm_channel, posix_shm_channel<posix_sem_sync>,
                     posix_shm_channel<futex_sync>, posix_shm_channel<adaptive_sync>,
                     posix_shm_channel<spin_sync>, posix_shm_channel<mutex_cond_sync>,
                     posix_shm_channel<spinlock_sync>, posix_shm_channel<rwlock_sync>,
                     posix_shm_channel<unnamed_sem_sync>, mmap_file_channel>;
TYPED_TEST_SUITE(ShmNamed, named_channels);

TYPED_TEST(ShmNamed, AttachByRendezvousAndNamesGoneAfterOpened) {
  static_assert(named_channel<TypeParam>);
  const std::size_t before = test::kernel_objects();
  {
    private_dir dir;
    TypeParam ch(channel_config{0, pattern::latency, &dir});
    const std::string rv = ch.rendezvous().dump();
    auto child = child_process::fork([rv]() -> int {
      auto ep = TypeParam::attach(nlohmann::json::parse(rv), role::producer);
      const auto msg = pattern_bytes(5000, 7);
      std::vector<std::byte> back(5000);
      if (ep.send(msg) != io_status::ok) return 2;
      if (ep.receive(back) != 5000 || back != msg) return 3;
      return 0;
    });
    auto ep = TypeParam::attach(nlohmann::json::parse(rv), role::consumer);
    std::vector<std::byte> buf(5000);
    ASSERT_EQ(ep.receive(buf), 5000);  // the producer has attached
    ch.opened();
    const auto names = nlohmann::json::parse(rv);
    if constexpr (std::is_same_v<TypeParam, sysv_shm_channel>) {
      // A removed segment stays listed while attached, now under key IPC_PRIVATE; the
      // semaphore set stays until the channel goes.
      shmid_ds ds{};
      ASSERT_EQ(::shmctl(names.at("shmid").get<int>(), IPC_STAT, &ds), 0);
      EXPECT_NE(ds.shm_perm.mode & SHM_DEST, 0u);
      EXPECT_EQ(ds.shm_perm.__key, IPC_PRIVATE);
    } else if constexpr (!std::is_same_v<TypeParam, mmap_file_channel>) {
      const auto name = names.at("name").get<std::string>();
      EXPECT_EQ(::shm_open(name.c_str(), O_RDWR, 0), -1) << name << " still there";
      for (const auto& sem : names.at("sync").value("semaphores", nlohmann::json::array()))
        EXPECT_EQ(::sem_open(sem.get<std::string>().c_str(), 0), SEM_FAILED) << sem;
      if (names.at("sync").contains("object")) {
        const auto object = names.at("sync").at("object").get<std::string>();
        EXPECT_EQ(::shm_open(object.c_str(), O_RDWR, 0), -1) << object << " still there";
      }
    }
    EXPECT_TRUE(test::leftovers().size() == 1 && std::filesystem::is_empty(dir.path()))
        << "file left after opened()";
    ASSERT_EQ(ep.send(buf), io_status::ok);
    const auto st = child.wait_for(std::chrono::seconds(10));
    ASSERT_TRUE(st.has_value());
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << describe_wait_status(*st);
  }
  EXPECT_EQ(test::kernel_objects(), before);
}

// Every post is taken exactly once: after a busy exchange in both directions, with both sides
// idle, every semaphore is back at zero (System V would fail at SEMVMX = 32767 otherwise).
template <class C>
void exchange_busily(C& ch) {
  constexpr int kCount = 3000;
  auto child = child_process::fork([&ch]() -> int {
    auto ep = ch.open(role::consumer);
    std::vector<std::byte> buf(64);
    for (int i = 0; i < kCount; ++i)
      if (ep.receive(buf) != 64) return 2;
    for (int i = 0; i < kCount; ++i) {
      if (ep.receive(buf) != 64) return 3;
      if (ep.send(buf) != io_status::ok) return 4;
    }
    return 0;
  });
  auto ep = ch.open(role::producer);
  const auto msg = pattern_bytes(64, 3);
  std::vector<std::byte> back(64);
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(ep.send(msg), io_status::ok);
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(ep.send(msg), io_status::ok);
    ASSERT_EQ(ep.receive(back), 64);
  }
  const auto st = child.wait_for(std::chrono::seconds(20));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << describe_wait_status(*st);
}

TEST(ShmSemaphores, SystemVCountsDoNotDrift) {
  private_dir dir;
  sysv_shm_channel ch(channel_config{64, pattern::latency, &dir});
  const int semid = ch.rendezvous().at("sync").at("semid").get<int>();
  exchange_busily(ch);
  for (int i = 0; i < sysv_sem_sync::kBells; ++i) EXPECT_EQ(::semctl(semid, i, GETVAL), 0) << i;
}

TEST(ShmSemaphores, PosixCountsDoNotDrift) {
  private_dir dir;
  posix_shm_channel<posix_sem_sync> ch(channel_config{64, pattern::latency, &dir});
  std::vector<sem_t*> sems;
  const nlohmann::json rv = ch.rendezvous();  // range-for would not keep a temporary alive
  for (const auto& name : rv.at("sync").at("semaphores")) {
    sem_t* s = ::sem_open(name.get<std::string>().c_str(), 0);
    ASSERT_NE(s, SEM_FAILED);
    sems.push_back(s);
  }
  exchange_busily(ch);
  for (sem_t* s : sems) {
    int v = -1;
    EXPECT_EQ(::sem_getvalue(s, &v), 0);
    EXPECT_EQ(v, 0);
    ::sem_close(s);
  }
}

// Both peers pinned to one CPU: the spinning variants must yield, the others block.
TEST(ShmPlacement, SameCpuFinishesForEveryVariant) {
  for (const char* id :
       {"sysv_shm.sysv_sem", "posix_shm.posix_sem", "posix_shm.futex", "posix_shm.adaptive",
        "posix_shm.spin", "posix_shm.mutex_cond", "posix_shm.spinlock", "posix_shm.rwlock",
        "posix_shm.unnamed_sem", "mmap_file.futex", "mmap_anon.futex"}) {
    const mechanism_entry* m = find_mechanism(id);
    ASSERT_NE(m, nullptr) << id;
    for (pattern p : {pattern::latency, pattern::throughput}) {
      run_request req;
      req.pat = p;
      req.message_size = p == pattern::latency ? 64 : 1 << 20;
      req.place = placement::same;
      req.fixed_messages = 200;
      req.warmup_messages = 10;
      req.timeout = std::chrono::seconds(20);
      const auto t0 = clock_type::now();
      const run_result r = m->run(req);
      EXPECT_EQ(r.status, run_status::ok) << id << " " << to_string(p) << ": " << r.reason;
      EXPECT_EQ(r.producer_cpu_id, r.consumer_cpu_id);
      EXPECT_LT(clock_type::now() - t0, std::chrono::seconds(10)) << id;
    }
  }
  EXPECT_TRUE(test::no_children());
}

// The System V semaphore set lives until the end of a run: SIGINT of the coordinator mid-run
// must remove it (and kill the peers) through the emergency cleanup table.
TEST(ShmCleanup, SigintMidRunRemovesTheSemaphoreSet) {
  const std::size_t before = test::kernel_objects();
  const pid_t pid =
      test::spawn_quiet({IPCBENCH_BIN, "--benchmark_filter=^sysv_shm\\.sysv_sem/latency/",
                         "--sizes", "64", "--target-time", "20", "--timeout=28"});
  ASSERT_GT(pid, 0);
  // Wait for the semaphore set to appear (the run is under way), then interrupt.
  for (int i = 0; i < 200 && test::kernel_objects() <= before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GT(test::kernel_objects(), before) << "the run never created its semaphore set";
  ::kill(pid, SIGINT);
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) << st;
  EXPECT_EQ(test::kernel_objects(), before);
}

}  // namespace
}  // namespace ipcbench
