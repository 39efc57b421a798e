// An out-of-tree adapter: two single-producer single-consumer byte rings in a shared anonymous
// mapping, one per direction, made before fork. A waiter spins (and yields when the peers may
// share a CPU). Any message size: a message larger than the ring goes through it in parts.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ipcbench/ipcbench.hpp>
#include <new>
#include <system_error>
#include <thread>

class spsc_ring {
  static constexpr std::size_t kSize = 1 << 20;
  struct ring {
    alignas(64) std::atomic<std::size_t> head{0};  // bytes written, ever
    alignas(64) std::atomic<std::size_t> tail{0};  // bytes read, ever
    alignas(64) std::byte data[kSize];
  };

 public:
  static constexpr const char* kId = "example.spsc_ring";
  static constexpr bool kThreadPeers = true;  // two threads of one process may open its ends

  struct endpoint {
    ring *out, *in;
    bool yield;
    ipcbench::io_status send(std::span<const std::byte> m) {
      for (std::size_t done = 0; done < m.size();) {
        const std::size_t head = out->head.load(std::memory_order_relaxed);
        const std::size_t room = kSize - (head - out->tail.load(std::memory_order_acquire));
        const std::size_t k = std::min({room, m.size() - done, kSize - head % kSize});
        if (k == 0) {  // the ring is full: wait
          if (yield) std::this_thread::yield();
          continue;
        }
        std::memcpy(out->data + head % kSize, m.data() + done, k);
        out->head.store(head + k, std::memory_order_release);
        done += k;
      }
      return ipcbench::io_status::ok;
    }
    std::ptrdiff_t receive(std::span<std::byte> b) {
      for (std::size_t done = 0; done < b.size();) {
        const std::size_t tail = in->tail.load(std::memory_order_relaxed);
        const std::size_t ready = in->head.load(std::memory_order_acquire) - tail;
        const std::size_t k = std::min({ready, b.size() - done, kSize - tail % kSize});
        if (k == 0) {  // nothing to read yet: wait
          if (yield) std::this_thread::yield();
          continue;
        }
        std::memcpy(b.data() + done, in->data + tail % kSize, k);
        in->tail.store(tail + k, std::memory_order_release);
        done += k;
      }
      return static_cast<std::ptrdiff_t>(b.size());
    }
  };

  static ipcbench::mechanism_traits describe() {
    return {.id = kId,
            .mechanism = "spsc_ring",
            .variant = "default",
            .family = "examples",
            .related_only = true,
            .wait = "spin",
            .description = "two SPSC byte rings of 1 MiB in a shared anonymous mapping"};
  }
  explicit spsc_ring(const ipcbench::channel_config& cfg) : yield_(cfg.peers_share_cpu) {
    void* p = ::mmap(nullptr, 2 * sizeof(ring), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    rings_ = static_cast<ring*>(p);
    new (&rings_[0]) ring;
    new (&rings_[1]) ring;
  }
  spsc_ring(const spsc_ring&) = delete;
  spsc_ring& operator=(const spsc_ring&) = delete;
  ~spsc_ring() { ::munmap(rings_, 2 * sizeof(ring)); }
  void opened() {}  // nothing to drop: the mapping is inherited through fork
  endpoint open(ipcbench::role r) {
    const bool producer = r == ipcbench::role::producer;
    return {&rings_[producer ? 0 : 1], &rings_[producer ? 1 : 0], yield_};
  }

 private:
  ring* rings_;
  bool yield_;
};
