// ipcbench-probe: checks the textbook claims about Linux IPC on this machine, prints a table
// (claim | value | verdict) and with --out writes the findings as JSON for `ipcbench --probes`.
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include "cli/cli.hpp"
#include "probe/probe.hpp"
#include "sys/cleanup.hpp"

namespace ipcbench {
namespace {

struct probe_options {
  std::optional<std::string> out;
  std::string filter;
  int timeout_s = 20;
  bool list = false;
  bool help = false;
};

const char* const kUsage = R"(usage: ipcbench-probe [options]

Checks the textbook claims about Linux IPC on this machine (PIPE_BUF and write atomicity, pipe
capacity, the pipe read/write and FIFO open rules, message-queue limits and blocking, ftok keys,
System V shared memory pages, lifetime, IPC_RMID and SHM_LOCK, MAP_SHARED against MAP_PRIVATE,
the largest datagrams, System V semaphores, MSG_ZEROCOPY on loopback, io_uring wake-ups, SIGKILL
and SIGSTOP) and prints a table: claim | value | verdict. A probe that cannot run here is reported "not applicable" with the reason.

Options:
  --out FILE       also write the findings as JSON ({"probes": [...]}) for `ipcbench --probes FILE`
  --filter REGEX   run only the probes whose id matches (see --list)
  --timeout S      deadline of each probe in seconds (default 20)
  --list           list the probes (id and claim) and exit
  --help           this text
Exit status: 0 the probes ran (whatever their verdicts), 1 the findings could not be written,
2 bad input.
)";

probe_options parse(int argc, char** argv) {
  probe_options o;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    const std::string_view a = argv[i];
    if (take_flag(i, argc, argv, "--out", v)) {
      if (v.empty()) throw usage_error("--out needs a file name");
      o.out = v;
    } else if (take_flag(i, argc, argv, "--filter", v)) {
      o.filter = v;
    } else if (take_flag(i, argc, argv, "--timeout", v)) {
      const char* end = v.data() + v.size();
      auto [p, ec] = std::from_chars(v.data(), end, o.timeout_s);
      if (ec != std::errc() || p != end || o.timeout_s < 1 || o.timeout_s > 3600)
        throw usage_error("--timeout must be 1..3600 seconds, not '" + v + "'");
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "--help" || a == "-h") {
      o.help = true;
    } else {
      throw usage_error("unknown option '" + std::string(a) + "' (see --help)");
    }
  }
  return o;
}

// Fails early, before any probe runs, when `path` cannot be written; leaves no file behind.
void check_writable(const std::string& path) {
  if (std::filesystem::is_directory(path))
    throw usage_error("cannot write '" + path + "': a directory");
  if (::access(path.c_str(), F_OK) == 0) {
    if (::access(path.c_str(), W_OK) != 0)
      throw usage_error("cannot write '" + path + "': " + std::strerror(errno));
    return;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw usage_error("cannot write '" + path + "': " + std::strerror(errno));
  ::close(fd);
  ::unlink(path.c_str());
}

nlohmann::json context() {
  nlohmann::json c;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) c["host_name"] = host;
  utsname u{};
  if (::uname(&u) == 0) c["kernel"] = std::string(u.sysname) + " " + u.release;
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", &tm);
  c["date"] = date;
  return c;
}

void write_json(const std::string& path, const nlohmann::json& j) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write '" + tmp + "': " + std::strerror(errno));
  }
  std::filesystem::rename(tmp, path);
}

int real_main(int argc, char** argv) {
  const probe_options o = parse(argc, argv);
  if (o.help) {
    std::cout << kUsage;
    return 0;
  }
  std::regex re;
  try {
    re = std::regex(o.filter.empty() ? "." : o.filter, std::regex::extended);
  } catch (const std::regex_error&) {
    throw usage_error("--filter '" + o.filter + "' is not a valid regular expression");
  }
  std::vector<probes::probe> selected;
  for (auto& p : probes::all_probes())
    if (std::regex_search(p.id, re)) selected.push_back(std::move(p));
  if (selected.empty())
    throw usage_error("--filter '" + o.filter + "' matches no probe (see --list)");
  if (o.list) {
    for (const auto& p : selected) std::cout << p.id << "  " << p.claim << "\n";
    return 0;
  }
  if (o.out) check_writable(*o.out);

  cleanup::begin_run("ipcbench-probe");
  std::vector<probes::finding> findings;
  for (const auto& p : selected)
    findings.push_back(probes::run_probe(p, std::chrono::seconds(o.timeout_s)));
  std::cout << probes::format_table(findings) << std::flush;

  if (o.out) {
    nlohmann::json j;
    j["context"] = context();
    j["probes"] = nlohmann::json::array();
    for (const auto& f : findings) j["probes"].push_back(probes::to_json(f));
    write_json(*o.out, j);
    std::cerr << "ipcbench-probe: wrote " << *o.out << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace ipcbench

int main(int argc, char** argv) {
  try {
    return ipcbench::real_main(argc, argv);
  } catch (const ipcbench::usage_error& e) {
    std::cerr << "ipcbench-probe: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ipcbench-probe: " << e.what() << "\n";
    return 1;
  }
}
