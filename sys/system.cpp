#include "system.hpp"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "error.hpp"

namespace ipcbench {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  check(::sched_getaffinity(0, sizeof set, &set), "sched_getaffinity");
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  check(::sched_setaffinity(0, sizeof set, &set),
        "sched_setaffinity(cpu " + std::to_string(cpu) + ")");
}

std::optional<std::string> read_first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<long long> read_integer(const std::filesystem::path& p) {
  auto line = read_first_line(p);
  if (!line) return std::nullopt;
  try {
    std::size_t used = 0;
    long long v = std::stoll(*line, &used);
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

private_dir::private_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  std::string templ = base + "/ipcbench-" + std::to_string(::getpid()) + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw_errno("mkdtemp(" + templ + ")");
  path_ = templ;
  guard_ = cleanup::guard(cleanup::kind::dir, -1, path_.c_str());
}

private_dir::~private_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ipcbench
