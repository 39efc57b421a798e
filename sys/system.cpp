#include "system.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "error.hpp"
#include "retry.hpp"

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

bool invariant_tsc() {
#if defined(__x86_64__) || defined(__i386__)
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("flags")) continue;
    auto has = [&](const char* flag) {
      return (" " + line + " ").find(std::string(" ") + flag + " ") != std::string::npos;
    };
    return has("constant_tsc") && has("nonstop_tsc");
  }
#endif
  return false;
}

double tsc_ns_per_tick(int ms) {
  if (!invariant_tsc()) return 0;
  const std::int64_t t0 = now_ns();
  const std::uint64_t c0 = read_tsc();
  std::int64_t t1 = t0;
  while (t1 - t0 < static_cast<std::int64_t>(ms) * 1'000'000) t1 = now_ns();
  const std::uint64_t c1 = read_tsc();
  return c1 > c0 ? static_cast<double>(t1 - t0) / static_cast<double>(c1 - c0) : 0;
}

void set_cpus(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  check(::sched_setaffinity(0, sizeof set, &set),
        "sched_setaffinity(" + std::to_string(cpus.size()) + " CPUs)");
}

std::optional<proc_stat> read_proc_stat(pid_t pid) noexcept {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];  // "pid (comm) S ..." is a few hundred bytes; comm is at most 16
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = retry_on_eintr([&] { return ::read(fd, buf + got, sizeof buf - 1 - got); });
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
    if (got == sizeof buf - 1) break;
  }
  ::close(fd);
  buf[got] = '\0';
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const char* close = std::strrchr(buf, ')');
  if (close == nullptr || close[1] != ' ' || close[2] == '\0') return std::nullopt;
  proc_stat st;
  st.state = close[2];
  const char* p = close + 3;
  for (int field = 4; field <= 39; ++field) {
    while (*p == ' ') ++p;
    if (*p == '\0') {
      if (field <= 22) return std::nullopt;
      break;  // a line without the later fields: processor stays -1
    }
    char* end = nullptr;
    const unsigned long long v = std::strtoull(p, &end, 10);
    const bool number = end != p;
    if (!number) {  // not a number: skip it as text
      while (*p != ' ' && *p != '\0') ++p;
    } else {
      p = end;
    }
    if (field == 14) st.utime = v;
    if (field == 15) st.stime = v;
    if (field == 22) st.start_time = v;
    if (field == 39 && number) st.processor = static_cast<int>(v);
  }
  return st;
}

std::optional<schedstat_times> parse_schedstat(const char* text) noexcept {
  long long run_ns = 0, delay_ns = 0;
  if (std::sscanf(text, "%lld %lld", &run_ns, &delay_ns) != 2 || run_ns < 0 || delay_ns < 0)
    return std::nullopt;
  return schedstat_times{run_ns, delay_ns};
}

namespace {

// The schedstat file open as `fd`, read from its start and parsed.
std::optional<schedstat_times> pread_schedstat(int fd) noexcept {
  char text[96];
  const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
  if (got <= 0) return std::nullopt;
  text[got] = '\0';
  return parse_schedstat(text);
}

}  // namespace

std::optional<std::int64_t> read_schedstat_run_ns(pid_t tid) noexcept {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/schedstat", static_cast<int>(tid));
  const unique_fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  const auto times = pread_schedstat(fd.get());
  if (!times) return std::nullopt;
  return times->run_ns;
}

run_delay_reader::run_delay_reader() noexcept
    : fd_(::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) {}

std::optional<std::int64_t> run_delay_reader::now() const noexcept {
  if (!fd_) return std::nullopt;
  const auto times = pread_schedstat(fd_.get());
  if (!times) return std::nullopt;
  return times->run_delay_ns;
}

std::optional<std::string> read_first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

template <class T>
std::optional<T> read_integer(const std::filesystem::path& p) {
  const auto line = read_first_line(p);
  if (!line) return std::nullopt;
  const char* first = line->data();
  const char* last = first + line->size();
  while (first != last && (*first == ' ' || *first == '\t')) ++first;
  T v{};
  if (std::from_chars(first, last, v).ec != std::errc()) return std::nullopt;
  return v;
}

template std::optional<long long> read_integer<long long>(const std::filesystem::path&);
template std::optional<unsigned long long> read_integer<unsigned long long>(
    const std::filesystem::path&);

std::optional<pid_t> flock_holder(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF": the device is in hexadecimal.
  std::ifstream in("/proc/locks");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string number, type, advisory, mode, where;
    long long pid = 0;
    if (!(fields >> number >> type) || type != "FLOCK") continue;
    if (!(fields >> advisory >> mode >> pid >> where)) continue;
    unsigned major = 0, minor = 0;
    unsigned long long inode = 0;
    if (std::sscanf(where.c_str(), "%x:%x:%llu", &major, &minor, &inode) != 3) continue;
    if (inode == st.st_ino && major == ::major(st.st_dev) && minor == ::minor(st.st_dev) && pid > 0)
      return static_cast<pid_t>(pid);
  }
  return std::nullopt;
}

long long require_limit(const std::filesystem::path& p) {
  const auto v = read_integer(p);
  if (!v || *v <= 0) throw std::runtime_error("cannot read " + p.string());
  return *v;
}

private_dir::private_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  std::string templ = base + "/ipcbench-" + std::to_string(::getpid()) + "-XXXXXX";
  // Made and registered as one step for the signal handler: Ctrl-C in between would leave it.
  const cleanup::deferred_signals hold;
  if (::mkdtemp(templ.data()) == nullptr) throw_errno("mkdtemp(" + templ + ")");
  path_ = templ;
  guard_ = cleanup::guard(cleanup::kind::dir, -1, path_.c_str());
}

private_dir::~private_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ipcbench
