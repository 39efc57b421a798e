#include "harness/library_threads.hpp"

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>

#include "sys/system.hpp"

namespace ipcbench {

std::optional<task_snapshot> snapshot_other_threads() {
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return std::nullopt;
  const pid_t self = ::gettid();
  task_snapshot out;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
    if (tid <= 0 || tid == self) continue;
    // A thread that ended while being read is left out, as one that ends between snapshots.
    const auto run_ns = read_schedstat_run_ns(tid);
    const auto stat = read_proc_stat(tid);
    if (run_ns && stat && stat->processor >= 0) out[tid] = {*run_ns, stat->processor};
  }
  ::closedir(d);
  return out;
}

library_time library_time_between(const task_snapshot& before, const task_snapshot& after,
                                  int own_cpu) {
  library_time t;
  for (const auto& [tid, b] : after) {
    const auto a = before.find(tid);
    if (a == before.end()) continue;
    const std::int64_t ran = b.run_ns - a->second.run_ns;
    if (ran <= 0) continue;
    ++t.threads;
    if (a->second.cpu != b.cpu)
      t.moved_ns += ran;
    else if (b.cpu == own_cpu)
      t.own_cpu_ns += ran;
    else
      t.other_cpu_ns += ran;
  }
  return t;
}

int pinned_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) return cpu;
  return -1;
}

const char* placement_of(const library_time& t) {
  const std::int64_t total = t.total_ns();
  if (t.window_ns <= 0 || total * 100 < t.window_ns) return "idle";
  if (t.own_cpu_ns * 10 >= total * 9) return "own";
  if (t.other_cpu_ns * 10 >= total * 9) return "other";
  return "mixed";
}

}  // namespace ipcbench
