#include "context.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include "harness/coordinator.hpp"
#include "registry/registry.hpp"
#include "report/schema.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

#include "git_commit.hpp"  // generated at build time: IPCBENCH_GIT_COMMIT, IPCBENCH_GIT_TREE_MODIFIED
#ifndef IPCBENCH_VERSION
#define IPCBENCH_VERSION "unknown"
#endif
#ifndef IPCBENCH_BUILD_TYPE
#define IPCBENCH_BUILD_TYPE "unknown"
#endif
#ifndef IPCBENCH_CXX_FLAGS
#define IPCBENCH_CXX_FLAGS ""
#endif

namespace ipcbench {
namespace {

nlohmann::json integer_or_null(const char* path) {
  auto v = read_integer(path);
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json line_or_null(const char* path) {
  auto v = read_first_line(path);
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

}  // namespace

nlohmann::json read_ipc_limits() {
  nlohmann::json l;
  l["page_size"] = ::sysconf(_SC_PAGESIZE);
  l["pipe_buf"] = PIPE_BUF;
  try {
    auto p = make_pipe();
    l["pipe_default_size"] = ::fcntl(p.write_end.get(), F_GETPIPE_SZ);
  } catch (const std::exception&) {
    l["pipe_default_size"] = nullptr;
  }
  l["pipe_max_size"] = integer_or_null("/proc/sys/fs/pipe-max-size");
  l["sysv_msgmax"] = integer_or_null("/proc/sys/kernel/msgmax");
  l["sysv_msgmnb"] = integer_or_null("/proc/sys/kernel/msgmnb");
  l["sysv_msgmni"] = integer_or_null("/proc/sys/kernel/msgmni");
  l["posix_mq_msgsize_max"] = integer_or_null("/proc/sys/fs/mqueue/msgsize_max");
  l["posix_mq_msg_max"] = integer_or_null("/proc/sys/fs/mqueue/msg_max");
  l["net_core_rmem_default"] = integer_or_null("/proc/sys/net/core/rmem_default");
  l["net_core_wmem_default"] = integer_or_null("/proc/sys/net/core/wmem_default");
  l["net_core_rmem_max"] = integer_or_null("/proc/sys/net/core/rmem_max");
  l["net_core_wmem_max"] = integer_or_null("/proc/sys/net/core/wmem_max");
  l["tcp_rmem"] = line_or_null("/proc/sys/net/ipv4/tcp_rmem");
  l["tcp_wmem"] = line_or_null("/proc/sys/net/ipv4/tcp_wmem");
  l["unix_dgram_max_dgram_qlen"] = integer_or_null("/proc/sys/net/unix/max_dgram_qlen");
  return l;
}

nlohmann::json traits_to_json(const mechanism_traits& t) {
  return {{"id", t.id},
          {"mechanism", t.mechanism},
          {"variant", t.variant},
          {"family", t.family},
          {"kind", to_string(t.kind)},
          {"max_message", t.max_message ? nlohmann::json(*t.max_message) : nlohmann::json(nullptr)},
          {"max_message_source", t.max_message_source},
          {"related_only", t.related_only},
          {"wait", t.wait},
          {"description", t.description},
          {"notes", t.notes},
          {"supports_throughput", t.supports_throughput},
          {"paced", t.paced},
          {"lossy", t.lossy},
          {"verification", t.verification},
          {"single_copy", t.single_copy},
          {"kernel_threads", t.kernel_threads},
          {"spins", t.spins},
          // Why the peers cannot be two threads of one process (--peers threads); null: they can.
          {"no_thread_peers", t.no_thread_peers.empty() ? nlohmann::json(nullptr)
                                                        : nlohmann::json(t.no_thread_peers)}};
}

namespace {

nlohmann::json id_or_null(const std::optional<int>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json bool_or_null(const std::optional<bool>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json cpu_json(const cpu_info& i) {
  namespace f = schema::placement_field;
  const cache_info* l2 = i.cache(2);
  const cache_info* l3 = i.cache(3);
  return {{f::kCpu, i.cpu},
          {f::kCoreId, id_or_null(i.core_id)},
          {f::kPackageId, id_or_null(i.package_id)},
          {f::kDieId, id_or_null(i.die_id)},
          {f::kSiblings, i.siblings},
          {f::kL2Id, l2 ? id_or_null(l2->id) : nlohmann::json(nullptr)},
          {f::kL3Id, l3 ? id_or_null(l3->id) : nlohmann::json(nullptr)}};
}

}  // namespace

nlohmann::json cpu_placement_json(placement p, const cpu_choice& cpus) {
  namespace f = schema::placement_field;
  const bool pinned = cpus.impossible.empty() && !cpus.chosen.empty();
  nlohmann::json j = {
      {f::kPlacement, to_string(p)},
      {f::kChosenBy, cpus.given             ? "--cpus"
                     : p == placement::none ? "none"
                                            : "topology"},
      {f::kCpus, pinned ? nlohmann::json{cpus.producer, cpus.consumer} : nlohmann::json(nullptr)},
      {f::kReason, cpus.reason},
      {f::kSmtSiblings, bool_or_null(cpus.smt_siblings)},
      {f::kShareL3, cpus.chosen.size() == 2
                        ? bool_or_null(share_cache(cpus.chosen[0], cpus.chosen[1], 3))
                        : nlohmann::json(nullptr)},
      {f::kProducer, pinned ? cpu_json(cpus.chosen.front()) : nlohmann::json(nullptr)},
      {f::kConsumer, pinned ? cpu_json(cpus.chosen.back()) : nlohmann::json(nullptr)}};
  if (!cpus.impossible.empty()) j[f::kImpossible] = cpus.impossible;
  return j;
}

namespace {

// /proc/stat's first line: the whole machine's time in USER_HZ ticks, by state.
struct cpu_ticks {
  unsigned long long total = 0, steal = 0;
};

std::optional<cpu_ticks> read_cpu_ticks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  if (!(in >> cpu) || cpu != "cpu") return std::nullopt;
  cpu_ticks t;
  unsigned long long v = 0;
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user/nice)
  for (int i = 0; i < 8 && in >> v; ++i) {
    t.total += v;
    if (i == 7) t.steal = v;
  }
  return t;
}

nlohmann::json read_loadavg() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  if (!(in >> a >> b >> c)) return nullptr;
  return {a, b, c};
}

}  // namespace

run_conditions::run_conditions() : start_ns_(now_ns()), loadavg_before_(read_loadavg()) {
  if (auto t = read_cpu_ticks()) {
    total_before_ = t->total;
    steal_before_ = t->steal;
    have_ticks_ = true;
  }
}

nlohmann::json run_conditions::finish() const {
  nlohmann::json j = {{"elapsed_s", static_cast<double>(now_ns() - start_ns_) / 1e9},
                      {"loadavg_before", loadavg_before_},
                      {"loadavg_after", read_loadavg()}};
  const auto t = read_cpu_ticks();
  if (have_ticks_ && t && t->total > total_before_) {
    const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    j["steal_s"] = static_cast<double>(t->steal - steal_before_) / hz;
    j["steal_fraction"] = static_cast<double>(t->steal - steal_before_) /
                          static_cast<double>(t->total - total_before_);
  } else {
    j["steal_s"] = nullptr;
    j["steal_fraction"] = nullptr;
  }
  return j;
}

nlohmann::json build_context(const bench_options& o, const calibration& floors,
                             const cpu_choice& cpus) {
  nlohmann::json c;
  c["version"] = IPCBENCH_VERSION;
  c["git_commit"] = IPCBENCH_GIT_COMMIT;
  c["git_tree_modified"] = IPCBENCH_GIT_TREE_MODIFIED < 0
                               ? nlohmann::json()
                               : nlohmann::json(IPCBENCH_GIT_TREE_MODIFIED == 1);
#if defined(__clang__)
  c["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  c["compiler"] = std::string("gcc ") + __VERSION__;
#else
  c["compiler"] = "unknown";
#endif
  c["build_type"] = IPCBENCH_BUILD_TYPE;
  c["cxx_flags"] = IPCBENCH_CXX_FLAGS;
  utsname u{};
  if (::uname(&u) == 0) c["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.version;
  c["cpu_model"] = cpu_model();
  c["cpu_count"] = allowed_cpus().size();
  c["clocksource"] =
      line_or_null("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  c["governor"] = line_or_null("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  // How an idle CPU waits decides what a cross-CPU wake-up costs: under the haltpoll governor
  // (VMs) an idle virtual CPU polls for an adaptive while before it halts to the host, so
  // wake-ups are fast or slow depending on recent history.
  nlohmann::json idle = {
      {"driver", line_or_null("/sys/devices/system/cpu/cpuidle/current_driver")},
      {"governor", line_or_null("/sys/devices/system/cpu/cpuidle/current_governor_ro")}};
  for (const char* k : {"guest_halt_poll_ns", "guest_halt_poll_grow_start", "guest_halt_poll_grow",
                        "guest_halt_poll_shrink", "guest_halt_poll_allow_shrink"})
    if (auto v = read_first_line(std::string("/sys/module/haltpoll/parameters/") + k)) idle[k] = *v;
  c["cpuidle"] = std::move(idle);
  c["placement"] = to_string(o.place);
  c[schema::placement_field::kCpuPlacement] = cpu_placement_json(o.place, cpus);
  c["process_model"] = to_string(o.process);
  // Unpinned peers (placement none) pin nothing, their libraries' threads included.
  c["library_threads"] =
      to_string(o.place == placement::none ? library_threads_mode::free : o.library_threads);
  c["peers"] = o.peers_processes && o.peers_threads ? "processes,threads"
               : o.peers_threads                    ? "threads"
                                                    : "processes";
  c["sweep"] = o.sweep;
  c["sizes"] = o.sizes;
  c["target_time_s"] = o.target_time_s;
  c["timeout_s"] = o.timeout_s;
  c["limits"] = read_ipc_limits();
  c["calibration"] = calibration_json(floors);
  nlohmann::json mechs = nlohmann::json::array();
  for (const auto& e : registry()) {
    auto j = traits_to_json(e.traits);
    if (!e.unavailable.empty()) j["unavailable"] = e.unavailable;
    mechs.push_back(std::move(j));
  }
  c["mechanisms"] = std::move(mechs);
  return c;
}

}  // namespace ipcbench
