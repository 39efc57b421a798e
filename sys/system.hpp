// Small facts about the machine and this process: clock, CPUs, kernel tunables, temp dirs.
// Usable on both sides of a fork.
#pragma once

#include <sys/types.h>

#include <time.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cleanup.hpp"
#include "unique_fd.hpp"

namespace ipcbench {

// A clock_gettime reading in nanoseconds.
inline std::int64_t timespec_ns(const timespec& ts) noexcept {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// CLOCK_MONOTONIC in nanoseconds: system-wide, so timestamps of two processes compare.
inline std::int64_t now_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return timespec_ns(ts);
}

// The CPU's time-stamp counter (rdtsc); 0 where there is none (not x86). Ticks at
// tsc_ns_per_tick() where invariant_tsc(). Not ordered (rdtscp, or lfence first, cost twice as
// much on the development VM, 19 ns against 10, and ping_pong() had one on the path of every
// round trip): a read that runs ahead of the last loads before it ends one sample early and
// starts the next as early, since the samples tile the time between reads. Their sum is exact,
// and the per-round-trip p50 of posix_shm.spin at 1 B and 64 B was within 4 ns of the median
// of batches of 11-12 round trips timed with clock_gettime, whose reads are ordered (host fast;
// docs/methodology.md).
inline std::uint64_t read_tsc() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_ia32_rdtsc();
#else
  return 0;
#endif
}
// One step of a busy-wait: the CPU's spin-loop hint (x86 pause, aarch64 yield), which lets a
// sibling hyperthread run and eases the memory-order flush when the awaited store arrives; a
// compiler barrier elsewhere, so that a loop of it has a side effect and is not assumed to end.
inline void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#else
  __asm__ __volatile__("" ::: "memory");
#endif
}

// Whether the time-stamp counter runs at one rate on every CPU whatever their power state
// (/proc/cpuinfo flags constant_tsc and nonstop_tsc, x86 only), so that tick differences are
// time.
bool invariant_tsc();
// Nanoseconds per tick of the time-stamp counter, against CLOCK_MONOTONIC over about `ms`
// milliseconds; 0 where !invariant_tsc().
double tsc_ns_per_tick(int ms = 20);

// CPUs the calling thread may run on (sched_getaffinity), ascending: before any pinning, the
// process's.
std::vector<int> allowed_cpus();
// Pins the calling thread to one CPU; threads it starts later inherit that. Throws
// std::system_error.
void pin_to_cpu(int cpu);
// Lets the calling thread run on `cpus` (non-empty); throws std::system_error.
void set_cpus(const std::vector<int>& cpus);

// The fields of /proc/<pid>/stat the suite reads (proc(5)).
struct proc_stat {
  char state = '?';  // field 3: R running, S or D blocked, T or t stopped, Z exited, ...
  unsigned long long utime = 0, stime = 0;  // fields 14 and 15: CPU time in clock ticks
  unsigned long long start_time = 0;        // field 22: start, in clock ticks since boot
  int processor = -1;  // field 39: the CPU it last ran on (-1 where the line ends before it)
};
// /proc/<pid>/stat of a process, or nullopt when it is gone (a process that ends while it is read
// included: ESRCH) or the file cannot be parsed. The one reader of that file; read(2) only, never
// throws. Either side of a fork.
std::optional<proc_stat> read_proc_stat(pid_t pid) noexcept;

// The first two fields of a schedstat file ("run_ns run_delay_ns slices"): the time a thread has
// run, and the time it has waited runnable for a CPU, in ns; nullopt where they are not there.
// The one parser of that file, for both readers below.
struct schedstat_times {
  std::int64_t run_ns = 0;
  std::int64_t run_delay_ns = 0;
};
std::optional<schedstat_times> parse_schedstat(const char* text) noexcept;

// The time thread (or process) `tid` has run, ns: the first field of /proc/<tid>/schedstat; nullopt
// when it is gone or the kernel has no schedstat (CONFIG_SCHED_INFO).
std::optional<std::int64_t> read_schedstat_run_ns(pid_t tid) noexcept;

// The time the calling thread has waited runnable for a CPU, another task running there: the
// second field (run_delay) of its /proc/thread-self/schedstat, in ns. Opened once, by the thread
// whose waits it reads; each now() is one pread(2) of the open file (0.75 us on the development
// VM), so it can be read right around a timed batch. now() is nullopt where the file could not be
// opened or read (a kernel without CONFIG_SCHED_INFO). A thread that waits asleep (for a message)
// does not count that; only the time from its wake-up, or from being preempted, to running again:
// on the 2-vCPU development VM, a pipe ping-pong's peers on CPUs of their own waited 0-100 us per
// 15 ms batch, and 1-6 ms in the batches a kernel thread (kdamond, about 2 ms a second) ran
// beside them.
class run_delay_reader {
 public:
  run_delay_reader() noexcept;
  std::optional<std::int64_t> now() const noexcept;

 private:
  unique_fd fd_;
};

// The first line of a text file without the newline, or nullopt when it cannot be read.
std::optional<std::string> read_first_line(const std::filesystem::path& p);
// The integer a file starts with (a kernel limit in /proc/sys; the first of several, as in
// tcp_wmem), or nullopt when it cannot be read or does not fit T. The one reader of kernel limits:
// T is long long or unsigned long long (kernel.shmmax is often near 2^64).
template <class T = long long>
std::optional<T> read_integer(const std::filesystem::path& p);
// A kernel limit a mechanism cannot do without: read_integer(p), at least 1. Throws
// std::runtime_error("cannot read <p>") otherwise.
long long require_limit(const std::filesystem::path& p);

// The pid of a process that holds a flock(2) on the file at `p` (from /proc/locks, matched by
// device and inode), or nullopt when none does, the file is absent or /proc/locks is unreadable.
std::optional<pid_t> flock_holder(const std::filesystem::path& p);

// A private directory (mode 0700, unique name with pid and random suffix) under $TMPDIR or /tmp,
// removed with its contents on destruction and by the emergency cleanup. Coordinator side.
class private_dir {
 public:
  private_dir();
  private_dir(private_dir&&) = delete;
  ~private_dir();
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  cleanup::guard guard_;
};

}  // namespace ipcbench
