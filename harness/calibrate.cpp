#include "calibrate.hpp"

#include <sched.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>
#include <vector>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "harness/coordinator.hpp"
#include "harness/floor_station.hpp"
#include "harness/histogram.hpp"
#include "harness/peer.hpp"
#include "sys/child.hpp"
#include "sys/mapping.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

// Sends to a consumer that lives in the same process: copy in, check, stamp the reply.
class loopback_endpoint {
 public:
  loopback_endpoint(peer_state& consumer, bool reply) noexcept
      : consumer_(consumer), reply_wanted_(reply) {}

  io_status send(std::span<const std::byte> msg) {
    std::memcpy(consumer_.rbuf.data(), msg.data(), msg.size());
    const std::uint64_t seq = consumer_.next_seq++;
    consumer_.tally.add(consumer_.codec.check({consumer_.rbuf.data(), msg.size()}, seq), seq);
    if (reply_wanted_) reply_ = consumer_.codec.stamp(reply_sequence(seq));
    return io_status::ok;
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    std::memcpy(buf.data(), reply_.data(), reply_.size());
    return static_cast<std::ptrdiff_t>(reply_.size());
  }

 private:
  peer_state& consumer_;
  bool reply_wanted_;
  std::span<const std::byte> reply_;
};

}  // namespace

double timer_cost_ns() {
  constexpr int kCalls = 1'000'000;
  std::uint64_t sink = 0;  // unsigned: a million readings of the clock overflow a signed sum
  const std::int64_t t0 = now_ns();
  for (int i = 0; i < kCalls; ++i) sink += static_cast<std::uint64_t>(now_ns());
  const std::int64_t t1 = now_ns();
  asm volatile("" : : "r"(sink));
  return static_cast<double>(t1 - t0) / kCalls;
}

double tsc_read_cost_ns() {
  constexpr int kCalls = 1'000'000;
  std::uint64_t sink = 0;
  const std::int64_t t0 = now_ns();
  for (int i = 0; i < kCalls; ++i) sink += read_tsc();
  const std::int64_t t1 = now_ns();
  asm volatile("" : : "r"(sink));
  return static_cast<double>(t1 - t0) / kCalls;
}

double check_cost_ns(std::size_t size) {
  message_codec codec(size);
  const auto msg = codec.stamp(7);
  const std::vector<std::byte> got(msg.begin(), msg.end());
  // About 64 MiB of checking (at least 16 checks), after one check to warm the caches.
  const std::size_t rounds = std::clamp<std::size_t>((64u << 20) / size, 16, 200'000);
  std::uint64_t bad = codec.check(got, 7) != integrity_error::none;
  const std::int64_t t0 = now_ns();
  for (std::size_t i = 0; i < rounds; ++i) bad += codec.check(got, 7) != integrity_error::none;
  const std::int64_t t1 = now_ns();
  asm volatile("" : : "r"(bad));
  return static_cast<double>(t1 - t0) / static_cast<double>(rounds);
}

double memcpy_bytes_per_second() {
  constexpr std::size_t kSize = 1 << 20;
  std::vector<char> a(kSize, 1), b(kSize, 2);
  for (int i = 0; i < 10; ++i) std::memcpy(b.data(), a.data(), kSize);
  constexpr int kRounds = 200;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const std::int64_t t0 = now_ns();
    for (int i = 0; i < kRounds; ++i) {
      std::memcpy(b.data(), a.data(), kSize);
      asm volatile("" : : "r"(b.data()) : "memory");
    }
    const std::int64_t t1 = now_ns();
    best =
        std::max(best, static_cast<double>(kSize) * kRounds * 1e9 / static_cast<double>(t1 - t0));
  }
  return best;
}

namespace {

// The cache-line floor's state: the rounds asked for and the result. The two counters (ping
// and pong, each on a cache line of its own) lie in kLinePages pages after it, one pair per page,
// and the floor bounces each pair in turn.
//
// Why several pages: in the slow states of the development VM (AMD EPYC, the two vCPUs some way
// apart), a line's round trip depends on the line's address, as it would where the line's home
// (the memory controller or socket it belongs to) sets the cost of a transfer. Pairs in 32 fresh
// pages came out near 460 ns or near 535 ns, about half each, and one in 32 near 880 ns; in the
// fast states (59 and 146 ns) every page measured the same. The floor had one pair, at a fixed
// address for the whole run: that fits its reading 529 ns for one run and 881 ns for the next on
// the same host, and posix_shm.spin's round trip (its ring's lines elsewhere) coming in at 0.78x
// the 881. The floor is now the cheapest of the pages' medians: the least a round trip between
// these CPUs costs, which a mechanism's lines may or may not get. With eight pages the cheapest is
// one of the 460 ns kind but one time in 256.
constexpr int kLinePages = 8;
constexpr std::size_t kLinePageBytes = 4096;
constexpr std::size_t kLinePongOffset = 64;
struct line_floor {
  std::uint64_t rounds_per_page = 0;
  cache_line_rtt result;
  std::atomic<int> done{0};
};
constexpr std::size_t kLineFloorBytes = kLinePageBytes * (1 + kLinePages);
constexpr std::int64_t kLinePerSample = 20;

std::atomic<std::uint64_t>& line_ping(void* state, int page) {
  return *reinterpret_cast<std::atomic<std::uint64_t>*>(static_cast<std::byte*>(state) +
                                                        kLinePageBytes * (1 + page));
}
std::atomic<std::uint64_t>& line_pong(void* state, int page) {
  return *reinterpret_cast<std::atomic<std::uint64_t>*>(
      static_cast<std::byte*>(state) + kLinePageBytes * (1 + page) + kLinePongOffset);
}

int line_echo(void* arg) {
  auto* sh = static_cast<line_floor*>(arg);
  const std::uint64_t rounds = sh->rounds_per_page;
  for (int page = 0; page < kLinePages; ++page) {
    auto& ping = line_ping(arg, page);
    auto& pong = line_pong(arg, page);
    // Until the first ping, yield rather than spin: the coordinator may share this CPU, and it
    // has the timer still to start (a spinning echo held it off for a whole time slice).
    if (page == 0)
      while (ping.load(std::memory_order_acquire) == 0) sched_yield();
    for (std::uint64_t i = 1; i <= rounds; ++i) {
      while (ping.load(std::memory_order_acquire) != i) {
      }
      pong.store(i, std::memory_order_release);
    }
  }
  return 0;
}

int line_timer(void* arg) {
  auto* sh = static_cast<line_floor*>(arg);
  // One pair of clock reads per kLinePerSample round trips, so the clock's cost (tens of ns, as
  // much as the round trip itself) stays out of the floor: each sample is their mean.
  const std::uint64_t rounds = sh->rounds_per_page;
  std::optional<cache_line_rtt> cheapest;
  double costliest = 0;
  for (int page = 0; page < kLinePages; ++page) {
    auto& ping = line_ping(arg, page);
    auto& pong = line_pong(arg, page);
    histogram h;
    for (std::uint64_t i = 1; i + kLinePerSample <= rounds + 1; i += kLinePerSample) {
      const std::int64_t t0 = now_ns();
      for (std::uint64_t r = i; r < i + kLinePerSample; ++r) {
        ping.store(r, std::memory_order_release);
        while (pong.load(std::memory_order_acquire) != r) {
        }
      }
      h.record((now_ns() - t0 + kLinePerSample / 2) / kLinePerSample);
    }
    const cache_line_rtt here{static_cast<double>(h.percentile(10)),
                              static_cast<double>(h.percentile(50)),
                              static_cast<double>(h.percentile(90)), kLinePages, 0};
    costliest = std::max(costliest, here.p50);
    if (!cheapest || here.p50 < cheapest->p50) cheapest = here;
  }
  sh->result = *cheapest;
  sh->result.p50_costliest_page = costliest;
  sh->done.store(1, std::memory_order_release);
  return 0;
}

}  // namespace

std::optional<cache_line_rtt> cache_line_round_trip(int cpu_a, int cpu_b, std::uint64_t rounds,
                                                    floor_station* station) {
  std::optional<cache_line_rtt> out;
  try {
    floor_memory mem(station, cpu_a, cpu_b, kLineFloorBytes, "cache-line floor");
    auto* sh = ::new (mem.data()) line_floor;
    // Whole samples, at least one per page: the echo answers every round the timer sends.
    sh->rounds_per_page =
        std::max<std::uint64_t>(rounds / kLinePages / kLinePerSample, 1) * kLinePerSample;
    for (int page = 0; page < kLinePages; ++page) {
      ::new (&line_ping(sh, page)) std::atomic<std::uint64_t>(0);
      ::new (&line_pong(sh, page)) std::atomic<std::uint64_t>(0);
    }
    if (mem.run(&line_timer, &line_echo, sh, std::chrono::seconds(10)) &&
        sh->done.load(std::memory_order_acquire))
      out = sh->result;
  } catch (const std::exception&) {
    out.reset();
  }
  return out;
}

run_result run_null(const run_request& req) {
  run_result res;
  peer_state producer(req.message_size), consumer(req.message_size);
  const bool latency = req.pat == pattern::latency;
  loopback_endpoint ep(consumer, latency);
  auto batch = [&](std::uint64_t n, histogram* h, std::uint64_t per_sample) {
    if (latency)
      ping_pong(ep, producer, n, h, per_sample, req.tsc_ns_per_tick);
    else
      stream_out(ep, producer, n);
  };
  const std::uint64_t sizing = warmup_count(req);
  const std::int64_t w0 = now_ns();
  batch(sizing, nullptr, 1);
  const double per = static_cast<double>(now_ns() - w0) / static_cast<double>(sizing);
  const std::uint64_t per_sample = latency ? rtt_batch_for(req, per) : 1;
  std::uint64_t count = timed_count(req, per);
  count = (count + per_sample - 1) / per_sample * per_sample;
  batch(flowing_warmup_count(req, per), nullptr, 1);
  const peer_cpu c0 = cpu_now();
  const std::int64_t t0 = now_ns();
  batch(count, &res.rtt, per_sample);
  const std::int64_t t1 = now_ns();
  const peer_cpu c1 = cpu_now();
  res.messages = count;
  res.rtt_batch = per_sample;
  if (per_sample > 1 && req.tsc_ns_per_tick > 0) {
    res.rtt_batch = 1;  // timed one by one (ping_pong)
    res.clock = rtt_clock::tsc;
  }
  res.elapsed_ns = t1 - t0;
  res.producer_cpu = {c1.user_ns - c0.user_ns, c1.sys_ns - c0.sys_ns, c1.total_ns - c0.total_ns};
  res.integrity_errors = producer.tally.total() + consumer.tally.total();
  res.status = res.integrity_errors ? run_status::failed : run_status::ok;
  if (res.integrity_errors)
    res.reason = "data check: producer " + producer.tally.summary() + "; consumer " +
                 consumer.tally.summary();
  return res;
}

namespace {
// The first address in [p, p + 8192) that is 2 KiB past a page boundary.
std::byte* half_page_off(std::byte* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return p + ((2048 - a % 4096) + 4096) % 4096;
}

// The writer's copy into a slot: memcpy, or (`streaming`) non-temporal stores, which write the
// lines to memory without taking them into the writer's cache, for the 16-byte-aligned part.
// Non-temporal stores are not ordered by a release store: publish_fence() goes before the
// position that publishes them.
void copy_into_slot(std::byte* dst, const std::byte* src, std::size_t n, bool streaming) {
#if defined(__x86_64__)
  if (streaming) {
    const std::size_t whole = n / 16 * 16;
    auto* d = reinterpret_cast<__m128i*>(dst);
    const auto* s = reinterpret_cast<const __m128i*>(src);
    for (std::size_t i = 0; i < whole / 16; ++i) _mm_stream_si128(d + i, _mm_loadu_si128(s + i));
    std::memcpy(dst + whole, src + whole, n - whole);
    return;
  }
#else
  (void)streaming;
#endif
  std::memcpy(dst, src, n);
}

void publish_fence(bool streaming) {
#if defined(__x86_64__)
  if (streaming) _mm_sfence();
#else
  (void)streaming;
#endif
}

}  // namespace

namespace {

constexpr std::size_t kCopyLine = 128;
constexpr std::size_t kCopyRing = 4 * 1024 * 1024;
constexpr std::size_t kCopyPiece = 64 * 1024;
// The small ring of the copy floor's second look: as large as the shared-memory rings'.
constexpr std::size_t kCopySmallRing = 256 * 1024;
#if defined(__x86_64__)
constexpr int kCopyPieceWays = 2;  // memcpy, then non-temporal stores
#else
constexpr int kCopyPieceWays = 1;
#endif

struct copy_layout {
  std::size_t piece, slot, slots, pieces, publish_every;
};

// The copy floor's two layouts for messages of `size` bytes (size > 0). Pieces: a 4 MiB ring of
// slots of min(size, 64 KiB), each rounded up to 128 bytes, published once per 64 KiB of slots.
// Whole messages (above 64 KiB): three message-sized slots where they fit the 4 MiB of the ring,
// else two (at 4 MiB, three moved 22-32 GB/s with a shared cache and two 35-38; iceoryx.copy
// 27-31), published once per message. Small (the second look only, `small_too`): the pieces in
// a ring of 256 KiB, which stays in a cache the two CPUs share where they share one below the
// last level (two hyperthreads of one core).
struct copy_layouts {
  copy_layout pieces, whole, small;
  bool whole_too;  // size > kCopyPiece: the whole messages' way as well
  bool small_too;  // the small ring's way as well
};

copy_layouts copy_layouts_of(std::size_t size, bool small_too) {
  const auto slot_of = [](std::size_t piece) {
    return (piece + kCopyLine - 1) / kCopyLine * kCopyLine;
  };
  const std::size_t piece = std::min(size, kCopyPiece);
  const auto ring_of = [&](std::size_t ring_bytes) {
    const std::size_t slots = std::clamp<std::size_t>(ring_bytes / slot_of(piece), 4, 65536);
    return copy_layout{piece, slot_of(piece), slots, (size + piece - 1) / piece,
                       std::clamp<std::size_t>(65536 / slot_of(piece), 1, slots / 4)};
  };
  return {ring_of(kCopyRing),
          {size, slot_of(size), 3 * size <= kCopyRing ? 3u : 2u, 1, 1},
          ring_of(kCopySmallRing),
          size > kCopyPiece,
          small_too};
}

// The copy floor's state, followed in its memory by the ring (at kCopyRingOffset): the writer's
// and the reader's positions, the layouts, the request and the result.
struct copy_floor {
  struct alignas(128) position {
    std::atomic<std::uint64_t> v{0};
  };
  position head, tail, stop;
  // The layout the positions count in (0 pieces, 1 whole messages, 2 the small ring's pieces):
  // changed by the writer only when the reader has copied out all it published, and published
  // with the head.
  std::atomic<int> layout{0};
  std::atomic<double> result{0};
  std::atomic<int> done{0};
  std::size_t size = 0;
  double seconds = 0;
  copy_layouts layouts{};
};
constexpr std::size_t kCopyRingOffset = (sizeof(copy_floor) + 4095) / 4096 * 4096;

std::byte* copy_ring(copy_floor* sh) {
  return reinterpret_cast<std::byte*>(sh) + kCopyRingOffset;
}

// A buffer of at least `bytes`, kept for the process's next floor (a helper's stays faulted in).
std::byte* copy_buffer(std::vector<std::byte>& v, std::size_t bytes) {
  if (v.size() < bytes) v.assign(bytes, std::byte{0x5A});
  return v.data();
}

int copy_reader(void* arg) {
  auto* ctl = static_cast<copy_floor*>(arg);
  const std::size_t size = ctl->size;
  std::byte* const base = copy_ring(ctl);
  // The message buffers start half a page off the page the ring's slots start on: a buffer at
  // the same offset in its page as the slot it is copied from or to would make the copy meet
  // 4 KiB aliasing between its loads and stores, and the floor drop by half at sizes like 4095
  // depending on where malloc put the buffer.
  static std::vector<std::byte> dst_space;
  std::byte* const dst = half_page_off(copy_buffer(dst_space, size + 8192));
  std::uint64_t tail = 0;
  // Yield until the writer has started (the coordinator may share this CPU, and it has the
  // writer still to start).
  while (ctl->head.v.load(std::memory_order_acquire) == 0 &&
         ctl->stop.v.load(std::memory_order_acquire) == 0)
    sched_yield();
  for (;;) {
    std::uint64_t head = ctl->head.v.load(std::memory_order_acquire);
    while (head == tail) {
      if (ctl->stop.v.load(std::memory_order_acquire) != 0) return 0;
      cpu_pause();
      head = ctl->head.v.load(std::memory_order_acquire);
    }
    // The layout in locals, read once per batch: the copy loop reads no shared line.
    const int which = ctl->layout.load(std::memory_order_relaxed);
    const copy_layout l = which == 1   ? ctl->layouts.whole
                          : which == 2 ? ctl->layouts.small
                                       : ctl->layouts.pieces;
    for (; tail != head; ++tail) {
      const std::size_t at = (tail % l.pieces) * l.piece;
      std::memcpy(dst + at, base + (tail % l.slots) * l.slot, std::min(l.piece, size - at));
      asm volatile("" : : "r"(dst) : "memory");
    }
    ctl->tail.v.store(tail, std::memory_order_release);
  }
}

int copy_writer(void* arg) {
  auto* ctl = static_cast<copy_floor*>(arg);
  const std::size_t size = ctl->size;
  std::byte* const base = copy_ring(ctl);
  const copy_layout& pieces_layout = ctl->layouts.pieces;
  const copy_layout& whole_layout = ctl->layouts.whole;
  const copy_layout& small_layout = ctl->layouts.small;
  const bool whole = ctl->layouts.whole_too, small = ctl->layouts.small_too;
  // The ways in turn: the 4 MiB ring with each way of copying in, then whole messages, then the
  // small ring (with memcpy: non-temporal stores would take its lines out of the cache).
  std::vector<const copy_layout*> ways(kCopyPieceWays, &pieces_layout);
  if (whole) ways.push_back(&whole_layout);
  if (small) ways.push_back(&small_layout);
  static std::vector<std::byte> src_space;
  const std::byte* const src = half_page_off(copy_buffer(src_space, size + 8192));
  std::uint64_t head = 0, tail_seen = 0;
  const auto publish = [&](bool streaming) {
    publish_fence(streaming);
    ctl->head.v.store(head, std::memory_order_release);
  };
  // Copies `messages` in, or fewer when `until` (a now_ns() deadline, looked at once per 64 KiB
  // of slots, at a message's start) passes first; then waits until all are copied out. Returns
  // how many. The reader is idle between two runs, so a run may change the layout.
  auto run = [&](std::uint64_t messages, bool streaming, const copy_layout& l,
                 std::int64_t until = 0) {
    ctl->layout.store(&l == &whole_layout   ? 1
                      : &l == &small_layout ? 2
                                            : 0,
                      std::memory_order_relaxed);
    const std::size_t pieces = l.pieces, piece = l.piece, slots = l.slots, slot = l.slot;
    const std::size_t publish_every = l.publish_every;  // 1 if pieces > 1
    const std::uint64_t look_every = pieces * publish_every;
    std::uint64_t n = messages * pieces;
    // Pieces until the deadline is looked at: a countdown, no division per piece.
    std::uint64_t to_look = 1;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (until != 0 && --to_look == 0) {
        to_look = look_every;
        if (now_ns() >= until) {
          n = i;
          break;
        }
      }
      while (head - tail_seen == slots) {
        publish(streaming);
        tail_seen = ctl->tail.v.load(std::memory_order_acquire);
        if (head - tail_seen != slots) break;
        cpu_pause();
      }
      const std::size_t at = (head % pieces) * piece;
      copy_into_slot(base + (head % slots) * slot, src + at, std::min(piece, size - at), streaming);
      if (++head % publish_every == 0) publish(streaming);
    }
    publish(streaming);
    while (ctl->tail.v.load(std::memory_order_acquire) != head) cpu_pause();  // all copied out
    tail_seen = head;
    return n / pieces;
  };
  // A warm-up that faults in and fills the ring, sized by time; then three timed runs of each
  // way of copying in, alternating, each until its share of `seconds` has passed (one way can
  // be far slower than the other at some sizes); the best of them (a floor is what the machine
  // can do).
  const std::uint64_t lap =
      std::max<std::uint64_t>(2 * pieces_layout.slots / pieces_layout.pieces, 2);
  std::int64_t t0 = now_ns();
  do run(lap, false, pieces_layout);
  while (now_ns() - t0 < 3'000'000);
  if (whole) run(whole_layout.slots, false, whole_layout);  // faults its slots in
  if (small) run(2 * small_layout.slots / small_layout.pieces + 2, false, small_layout);
  const std::size_t n_ways = ways.size();
  const auto share_ns =
      static_cast<std::int64_t>(ctl->seconds / static_cast<double>(3 * n_ways) * 1e9);
  double best = 0;
  for (std::size_t trial = 0; trial < 3 * n_ways; ++trial) {
    const std::size_t way = trial % n_ways;
    const copy_layout& l = *ways[way];
    t0 = now_ns();
    const std::uint64_t messages =
        run(UINT64_MAX / l.pieces, way == 1 && kCopyPieceWays == 2, l, t0 + share_ns);
    const std::int64_t t1 = now_ns();
    best = std::max(best, static_cast<double>(size) * static_cast<double>(messages) * 1e9 /
                              static_cast<double>(t1 - t0));
  }
  ctl->result.store(best);
  ctl->stop.v.store(1, std::memory_order_release);
  ctl->done.store(1, std::memory_order_release);
  return 0;
}

}  // namespace

std::size_t copy_floor_bytes(std::size_t size) {
  const copy_layouts l = copy_layouts_of(size, false);
  return kCopyRingOffset +
         std::max(l.pieces.slots * l.pieces.slot, l.whole_too ? l.whole.slots * l.whole.slot : 0);
}

std::optional<double> cross_core_copy_bytes_per_second(int cpu_a, int cpu_b, std::size_t size,
                                                       double seconds, floor_station* station,
                                                       bool small_ring) {
  if (size == 0) return std::nullopt;
  // A 4 MiB ring of slots of min(size, 64 KiB) rounded up to 128 bytes, so that no two slots
  // share a cache line or the line the prefetcher pairs with it: the writer filling one slot never
  // takes a line the reader is copying out of. A message passes in ceil(size / 64 KiB) pieces.
  // The writer publishes its position once per 64 KiB of slots (as the shared-memory rings publish
  // theirs once per 64 KiB chunk) and at the end of a run, the reader its own once per batch it
  // copied out: a bound no ring that publishes as often or more can beat, and one that does not
  // fall into the lock step of a reader waking for every message.
  // The ring is larger than a core's own cache, so a line the writer fills has left it for a
  // shared cache or memory before the reader takes it, and the writer's trials alternate between
  // memcpy and non-temporal stores (where the CPU has them): which is faster depends on where the
  // two CPUs sit. On the 2-vCPU EPYC VM, a 256 KiB ring moved 8.8 GB/s with the vCPUs sharing a
  // cache (cache line ~120 ns) and 2.3 GB/s without (~490 ns), where the kernel's sockets, which
  // copy through fresh pages, moved 5.7 GB/s; the 4 MiB ring moved 15-40 GB/s with memcpy in the
  // first state and 20-26 GB/s with non-temporal stores in the second.
  // A message larger than a piece also passes whole, in a ring of two or three message-sized
  // slots, published once per message: a pool of a few chunks handed round, as iceoryx's. There
  // the writer fills one chunk while the reader empties another, never a line the other is
  // using, and the chunks stay in the shared cache: at 1 MiB, 42-47 GB/s with the vCPUs sharing
  // a cache, where the 64 KiB pieces of the 4 MiB ring moved 33-40 and iceoryx.copy 37-42.
  std::optional<double> out;
  try {
    floor_memory mem(station, cpu_a, cpu_b, copy_floor_bytes(size), "copy floor ring");
    auto* ctl = ::new (mem.data()) copy_floor;
    ctl->size = size;
    ctl->seconds = seconds;
    ctl->layouts = copy_layouts_of(size, small_ring);
    if (mem.run(&copy_writer, &copy_reader, ctl, std::chrono::seconds(10)) &&
        ctl->done.load(std::memory_order_acquire))
      out = ctl->result.load();
  } catch (const std::exception&) {
    out.reset();
  }
  return out;
}

}  // namespace ipcbench
