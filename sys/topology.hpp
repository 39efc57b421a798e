// What sysfs says about the CPUs: core, package and die, SMT siblings, and the caches each CPU
// shares, read from a root that defaults to /sys/devices/system/cpu (tests give a recorded tree).
// Every file is optional: virtual machines and older kernels lack some, and what is missing stays
// unknown (nullopt or empty) rather than guessed. Plain values; usable on either side of a fork.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipcbench {

inline constexpr char kSysCpuRoot[] = "/sys/devices/system/cpu";

// cpu<N>/cache/index<I>/: level, type ("Data", "Instruction", "Unified"), id, shared_cpu_list.
struct cache_info {
  int level = 0;
  std::string type;
  std::optional<int> id;
  std::vector<int> shared_cpus;  // empty when unknown
};

struct cpu_info {
  int cpu = -1;
  std::optional<int> core_id;     // topology/core_id
  std::optional<int> package_id;  // topology/physical_package_id
  std::optional<int> die_id;      // topology/die_id
  // The CPUs sharing this CPU's core (SMT siblings), itself included: topology/core_cpus_list,
  // or thread_siblings_list on kernels before 5.x; empty when unknown.
  std::vector<int> siblings;
  std::vector<cache_info> caches;

  // The data or unified cache of this level, or nullptr.
  const cache_info* cache(int level) const noexcept;
};

// A kernel CPU list ("0-3,8,10-11", see cpuset(7)) in ascending order; nullopt when malformed.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

// Reads cpu<N>/topology and cpu<N>/cache under `root`. Never throws but std::bad_alloc: what is
// missing or malformed stays unknown.
cpu_info read_cpu_info(int cpu, const std::filesystem::path& root = kSysCpuRoot);

// Whether a and b are SMT siblings (two hardware threads of one core): from either's sibling
// list, otherwise from equal core, die and package ids; nullopt when sysfs does not say.
std::optional<bool> smt_siblings(const cpu_info& a, const cpu_info& b);
// Whether a and b share their cache of `level`: equal ids, otherwise one's shared_cpu_list
// holding the other (one list suffices); nullopt when sysfs does not say.
std::optional<bool> share_cache(const cpu_info& a, const cpu_info& b, int level);
// Whether a and b sit in one package; nullopt when a package id is unknown.
std::optional<bool> same_package(const cpu_info& a, const cpu_info& b);

}  // namespace ipcbench
