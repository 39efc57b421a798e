// Where the floors beside every repetition run (harness/calibrate.hpp). A floor has two sides, one
// on each CPU of the pair, that share a region of memory: a timer and an echo, or a writer and a
// reader. Without a station each floor forks its two sides and waits for them to exit, which
// cost about 3 ms per floor on the development VM (fork, the children's first touches, exit and
// wait), more than the floor itself: a latency repetition measures two floors, a throughput
// repetition three. A floor_station forks its two helpers once, pins one to each CPU and keeps a
// shared region mapped for the floors' state (the copy floor's ring included, already faulted
// in after its first use); a floor then costs two messages on a socket. Between floors a helper
// sleeps in read(2), so it takes no CPU from the benchmarks, and it exits when its socket
// closes, so a coordinator that dies leaves no helper behind (and PR_SET_PDEATHSIG kills it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sys/child.hpp"
#include "sys/mapping.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// One side of a floor: runs in a process pinned to its CPU with the floor's state (in shared
// memory) as its argument; 0 when it completed. A plain function, so that a helper forked before
// the floor was asked for can call it: code addresses are the same on both sides of a fork.
using floor_side = int (*)(void*);

class floor_station {
 public:
  // The helpers pinned to cpu_a and cpu_b, and a shared region of `region_bytes` (rounded up to
  // a page). Throws std::system_error or std::runtime_error when they cannot be started.
  floor_station(int cpu_a, int cpu_b, std::size_t region_bytes);
  // Closes the sockets (the helpers exit) and kills and reaps any helper still there.
  ~floor_station();
  floor_station(const floor_station&) = delete;
  floor_station& operator=(const floor_station&) = delete;

  int cpu_a() const noexcept { return cpu_a_; }
  int cpu_b() const noexcept { return cpu_b_; }
  std::byte* region() const noexcept { return region_.data(); }
  std::size_t region_bytes() const noexcept { return region_.size(); }
  // True once a floor failed or timed out: the helpers are gone and the floors fork again.
  bool broken() const noexcept { return broken_; }
  // How many floors its helpers have run.
  std::uint64_t runs() const noexcept { return runs_; }

  // Runs `a` in the helper on cpu_a and `b` in the one on cpu_b, both with `arg` (which must lie
  // in region()), and waits until both returned. False when either failed, or `a` had not
  // returned within `timeout` or `b` within 2 s after it: the station is then broken for good.
  bool run(floor_side a, floor_side b, void* arg, std::chrono::milliseconds timeout);

 private:
  void stop() noexcept;

  int cpu_a_, cpu_b_;
  mapping region_;
  unique_fd link_a_, link_b_;
  child_process helper_a_, helper_b_;
  bool broken_ = false;
  std::uint64_t runs_ = 0;
};

// Where a floor's state lives: in the station's region when there is a station for these two
// CPUs that is not broken and whose region holds `bytes`, else in a mapping of its own (and the
// floor forks its sides). data() is page-aligned and zeroed on first use; a floor constructs
// its state there afresh for every run.
class floor_memory {
 public:
  floor_memory(floor_station* station, int cpu_a, int cpu_b, std::size_t bytes,
               std::string_view what);
  std::byte* data() const noexcept { return data_; }
  // Runs the two sides: on the station's helpers, or forked for this floor (a pinned to cpu_a,
  // b to cpu_b) and reaped. True when `a` completed within `timeout`.
  bool run(floor_side a, floor_side b, void* arg, std::chrono::milliseconds timeout);

 private:
  floor_station* station_ = nullptr;
  int cpu_a_, cpu_b_;
  mapping own_;
  std::byte* data_ = nullptr;
};

}  // namespace ipcbench
