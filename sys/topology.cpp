#include "topology.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <system_error>

namespace ipcbench {
namespace {

std::optional<std::string> first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || s.empty()) return std::nullopt;
  return v;
}

std::optional<int> read_int(const std::filesystem::path& p) {
  auto line = first_line(p);
  if (!line) return std::nullopt;
  // The kernel writes -1 where it has no id (e.g. physical_package_id on some VMs).
  auto v = parse_int(*line);
  if (!v || *v < 0) return std::nullopt;
  return v;
}

std::vector<int> read_list(const std::filesystem::path& p) {
  auto line = first_line(p);
  if (!line) return {};
  return parse_cpu_list(*line).value_or(std::vector<int>{});
}

bool contains(const std::vector<int>& v, int x) {
  return std::binary_search(v.begin(), v.end(), x);
}

}  // namespace

const cache_info* cpu_info::cache(int level) const noexcept {
  for (const auto& c : caches)
    if (c.level == level && c.type != "Instruction") return &c;
  return nullptr;
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto dash = item.find('-');
    const auto lo = parse_int(item.substr(0, dash));
    const auto hi = dash == std::string_view::npos ? lo : parse_int(item.substr(dash + 1));
    if (!lo || !hi || *lo < 0 || *hi < *lo) return std::nullopt;
    for (int c = *lo; c <= *hi; ++c) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

cpu_info read_cpu_info(int cpu, const std::filesystem::path& root) {
  cpu_info info;
  info.cpu = cpu;
  const auto dir = root / ("cpu" + std::to_string(cpu));
  const auto topo = dir / "topology";
  info.core_id = read_int(topo / "core_id");
  info.package_id = read_int(topo / "physical_package_id");
  info.die_id = read_int(topo / "die_id");
  info.siblings = read_list(topo / "core_cpus_list");
  if (info.siblings.empty()) info.siblings = read_list(topo / "thread_siblings_list");
  std::error_code ec;
  for (int i = 0;; ++i) {
    const auto idx = dir / "cache" / ("index" + std::to_string(i));
    if (!std::filesystem::is_directory(idx, ec)) break;
    cache_info c;
    c.level = read_int(idx / "level").value_or(0);
    c.type = first_line(idx / "type").value_or("");
    c.id = read_int(idx / "id");
    c.shared_cpus = read_list(idx / "shared_cpu_list");
    if (c.level > 0) info.caches.push_back(std::move(c));
  }
  return info;
}

std::optional<bool> smt_siblings(const cpu_info& a, const cpu_info& b) {
  if (a.cpu == b.cpu) return true;
  if (!a.siblings.empty()) return contains(a.siblings, b.cpu);
  if (!b.siblings.empty()) return contains(b.siblings, a.cpu);
  if (a.core_id && b.core_id && a.package_id && b.package_id) {
    if (*a.core_id != *b.core_id || *a.package_id != *b.package_id) return false;
    // core_id is unique only within a die; without die ids, one die per package.
    return !(a.die_id && b.die_id) || *a.die_id == *b.die_id;
  }
  return std::nullopt;
}

std::optional<bool> share_cache(const cpu_info& a, const cpu_info& b, int level) {
  const cache_info* ca = a.cache(level);
  const cache_info* cb = b.cache(level);
  // Cache ids are unique among the caches of one level and type (Documentation/ABI,
  // sysfs-devices-system-cpu).
  if (ca && cb && ca->id && cb->id && ca->type == cb->type) return *ca->id == *cb->id;
  // One CPU's shared_cpu_list answers on its own, even where the other CPU's cache is unknown.
  if (ca && !ca->shared_cpus.empty()) return contains(ca->shared_cpus, b.cpu);
  if (cb && !cb->shared_cpus.empty()) return contains(cb->shared_cpus, a.cpu);
  return std::nullopt;
}

std::optional<bool> same_package(const cpu_info& a, const cpu_info& b) {
  if (!a.package_id || !b.package_id) return std::nullopt;
  return *a.package_id == *b.package_id;
}

}  // namespace ipcbench
