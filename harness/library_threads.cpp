#include "harness/library_threads.hpp"

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace ipcbench {

namespace {

// The CPU time (the first field of schedstat) and the last CPU (field 39 of stat) of one thread.
std::optional<task_point> read_task(const std::string& dir) {
  task_point p;
  long long run = 0;
  {
    FILE* f = std::fopen((dir + "/schedstat").c_str(), "re");
    if (!f) return std::nullopt;
    const int got = std::fscanf(f, "%lld", &run);
    std::fclose(f);
    if (got != 1) return std::nullopt;
  }
  p.run_ns = run;
  FILE* f = std::fopen((dir + "/stat").c_str(), "re");
  if (!f) return std::nullopt;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const std::string s(buf, n);
  const std::size_t close = s.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  int field = 2;
  std::size_t i = close + 1;
  while (i < s.size() && field < 39) {
    if (s[i] == ' ') ++field;
    ++i;
  }
  if (field != 39 || i >= s.size()) return std::nullopt;
  p.cpu = std::atoi(s.c_str() + i);
  return p;
}

}  // namespace

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
    if (const auto p = read_task(std::string("/proc/self/task/") + e->d_name)) out[tid] = *p;
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
