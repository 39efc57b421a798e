#include "placement.hpp"

#include <algorithm>
#include <mutex>
#include <tuple>

#include "sys/system.hpp"

namespace ipcbench {
namespace {

// 0 yes, 1 unknown, 2 no: lower is preferred.
int rank(std::optional<bool> v) {
  return !v ? 1 : (*v ? 0 : 2);
}

std::string describe_pair(const cpu_info& a, const cpu_info& b, std::optional<bool> siblings) {
  std::string s = "CPUs " + std::to_string(a.cpu) + " and " + std::to_string(b.cpu);
  if (!siblings)
    s += " (sysfs does not say whether they are SMT siblings)";
  else if (*siblings)
    s += " are SMT siblings" + (a.core_id ? " of core " + std::to_string(*a.core_id) : "");
  else
    s += " are not SMT siblings";
  const auto l3 = share_cache(a, b, 3);
  const cache_info* c3 = a.cache(3);
  if (l3 && *l3)
    s += ", share L3" + (c3 && c3->id ? " cache " + std::to_string(*c3->id) : std::string());
  else if (l3)
    s += ", different L3 caches";
  if (const auto pkg = same_package(a, b))
    s += *pkg ? ", one package (" + std::to_string(*a.package_id) + ")" : ", different packages";
  return s;
}

const cpu_info* find(const std::vector<cpu_info>& allowed, int cpu) {
  for (const auto& c : allowed)
    if (c.cpu == cpu) return &c;
  return nullptr;
}

cpu_choice given_choice(placement p, const std::vector<cpu_info>& allowed, cpu_pair g) {
  cpu_choice c;
  c.given = true;
  const std::string text = std::to_string(g.producer) + "," + std::to_string(g.consumer);
  const cpu_info* a = find(allowed, g.producer);
  const cpu_info* b = find(allowed, g.consumer);
  if (a == nullptr || b == nullptr) {
    c.impossible = "--cpus " + text + ": CPU " + std::to_string(a ? g.consumer : g.producer) +
                   " is not in this process's affinity mask";
    c.reason = c.impossible;
    return c;
  }
  const placement implied = g.producer == g.consumer ? placement::same : placement::cross;
  if (p != implied) {
    c.impossible =
        "--cpus " + text + " means placement " + to_string(implied) + ", not " + to_string(p);
    c.reason = c.impossible;
    return c;
  }
  c.producer = g.producer;
  c.consumer = g.consumer;
  c.chosen.push_back(*a);
  if (implied == placement::same) {
    c.reason = "given with --cpus: both peers on CPU " + std::to_string(g.producer);
    return c;
  }
  c.chosen.push_back(*b);
  c.smt_siblings = smt_siblings(*a, *b);
  c.reason = "given with --cpus: " + describe_pair(*a, *b, c.smt_siblings);
  return c;
}

}  // namespace

cpu_choice choose_cpus(placement p, const std::vector<cpu_info>& allowed,
                       std::optional<cpu_pair> given) {
  if (given) return given_choice(p, allowed, *given);
  cpu_choice c;
  if (p == placement::none) {
    c.reason = "not pinned: the scheduler places the peers";
    return c;
  }
  if (allowed.empty()) {
    c.impossible = "no CPU in this process's affinity mask";
    c.reason = c.impossible;
    return c;
  }
  if (p == placement::same) {
    const auto it =
        std::find_if(allowed.begin(), allowed.end(), [](const cpu_info& i) { return i.cpu != 0; });
    const cpu_info& pick = it != allowed.end() ? *it : allowed.front();
    c.producer = c.consumer = pick.cpu;
    c.chosen.push_back(pick);
    c.reason = "both peers on CPU " + std::to_string(pick.cpu) +
               (pick.cpu == 0 ? ", the only allowed CPU"
                              : ", the lowest allowed CPU other than CPU 0 (which takes most "
                                "interrupts and housekeeping)");
    return c;
  }
  if (allowed.size() < 2) {
    c.impossible = "placement cross needs 2 CPUs, only 1 is allowed";
    c.reason = c.impossible;
    return c;
  }
  const bool avoid_cpu0 = allowed.size() > 2;
  using key = std::tuple<int, int, int, int, int, int>;
  std::optional<key> best;
  std::size_t bi = 0, bj = 0;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    for (std::size_t j = i + 1; j < allowed.size(); ++j) {
      const cpu_info& a = allowed[i];
      const cpu_info& b = allowed[j];
      // Not siblings first (known not, then unknown, then known siblings).
      const auto sib = smt_siblings(a, b);
      const int sib_rank = !sib ? 1 : (*sib ? 2 : 0);
      const key k{sib_rank,
                  avoid_cpu0 && (a.cpu == 0 || b.cpu == 0) ? 1 : 0,
                  rank(share_cache(a, b, 3)),
                  rank(same_package(a, b)),
                  std::min(a.cpu, b.cpu),
                  std::max(a.cpu, b.cpu)};
      if (!best || k < *best) {
        best = k;
        bi = i;
        bj = j;
      }
    }
  }
  const cpu_info* a = &allowed[bi];
  const cpu_info* b = &allowed[bj];
  if (a->cpu > b->cpu) std::swap(a, b);
  c.producer = a->cpu;
  c.consumer = b->cpu;
  c.chosen = {*a, *b};
  c.smt_siblings = smt_siblings(*a, *b);
  c.reason = describe_pair(*a, *b, c.smt_siblings);
  if (c.smt_siblings && *c.smt_siblings)
    c.reason += "; only SMT siblings are allowed, so the two peers share one core";
  if (avoid_cpu0 && a->cpu != 0)
    c.reason += "; CPU 0 left out (it takes most interrupts and housekeeping)";
  return c;
}

cpu_choice choose_cpus(placement p, std::optional<cpu_pair> given,
                       const std::filesystem::path& root) {
  const std::vector<int> cpus = allowed_cpus();
  struct memo {
    placement p;
    std::optional<cpu_pair> given;
    std::filesystem::path root;
    std::vector<int> cpus;
    cpu_choice choice;
  };
  static std::mutex mutex;
  static std::optional<memo> last;
  const std::lock_guard lock(mutex);
  auto same_given = [](const std::optional<cpu_pair>& x, const std::optional<cpu_pair>& y) {
    return x.has_value() == y.has_value() &&
           (!x || (x->producer == y->producer && x->consumer == y->consumer));
  };
  if (last && last->p == p && same_given(last->given, given) && last->root == root &&
      last->cpus == cpus)
    return last->choice;
  std::vector<cpu_info> infos;
  infos.reserve(cpus.size());
  for (int cpu : cpus) infos.push_back(read_cpu_info(cpu, root));
  cpu_choice c = choose_cpus(p, infos, given);
  last = memo{p, given, root, cpus, c};
  return c;
}

}  // namespace ipcbench
