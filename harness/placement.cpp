#include "placement.hpp"

#include <algorithm>
#include <mutex>
#include <string>
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

// The CPUs in the order members take them: the pair's choice first (producer, consumer), then
// the other allowed CPUs, CPU 0 last when more than two are allowed.
std::vector<int> cpu_order(const cpu_choice& pair, const std::vector<cpu_info>& allowed) {
  std::vector<int> order;
  if (pair.producer >= 0) order.push_back(pair.producer);
  if (pair.consumer >= 0 && pair.consumer != pair.producer) order.push_back(pair.consumer);
  std::vector<int> rest;
  for (const auto& c : allowed)
    if (std::find(order.begin(), order.end(), c.cpu) == order.end()) rest.push_back(c.cpu);
  if (allowed.size() > 2)
    std::stable_partition(rest.begin(), rest.end(), [](int c) { return c != 0; });
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

// The allowed CPUs with their topology read under `root`, remembered while the affinity mask
// and the root stay the same, so a sweep reads sysfs once rather than per benchmark.
std::vector<cpu_info> allowed_cpu_infos(const std::filesystem::path& root) {
  const std::vector<int> cpus = allowed_cpus();
  struct memo {
    std::filesystem::path root;
    std::vector<int> cpus;
    std::vector<cpu_info> infos;
  };
  static std::mutex mutex;
  static std::optional<memo> last;
  const std::lock_guard lock(mutex);
  if (!last || last->root != root || last->cpus != cpus) {
    std::vector<cpu_info> infos;
    infos.reserve(cpus.size());
    for (int cpu : cpus) infos.push_back(read_cpu_info(cpu, root));
    last = memo{root, cpus, std::move(infos)};
  }
  return last->infos;
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
  return choose_cpus(p, allowed_cpu_infos(root), given);
}

std::vector<group_member> members_of(topology t, std::size_t n) {
  std::vector<group_member> m;
  const int count = static_cast<int>(n);
  switch (t) {
    case topology::pairs:
      for (int i = 0; i < count; ++i) {
        m.push_back({role::producer, i});
        m.push_back({role::consumer, i});
      }
      break;
    case topology::fan_in:
      for (int i = 0; i < count; ++i) m.push_back({role::producer, i});
      m.push_back({role::consumer, 0});
      break;
    case topology::fan_out:
      m.push_back({role::producer, 0});
      for (int i = 0; i < count; ++i) m.push_back({role::consumer, i});
      break;
  }
  return m;
}

group_placement place_group(placement p, const std::vector<group_member>& members,
                            const std::vector<cpu_info>& allowed, std::optional<cpu_pair> given) {
  group_placement g;
  g.allowed_cpus = allowed.size();
  g.oversubscribed = members.size() > allowed.size();
  g.cpus.assign(members.size(), -1);
  const cpu_choice pair = choose_cpus(p, allowed, given);
  if (!pair.impossible.empty()) {
    g.impossible = pair.impossible;
    return g;
  }
  const std::string peers = std::to_string(members.size()) + " peers on " +
                            std::to_string(allowed.size()) + " allowed CPUs" +
                            (g.oversubscribed ? " (oversubscribed)" : "");
  if (p == placement::none) {
    g.reason = peers + ", none pinned";
    return g;
  }
  if (pair.given) {
    for (std::size_t k = 0; k < members.size(); ++k)
      g.cpus[k] = members[k].r == role::producer ? pair.producer : pair.consumer;
    g.reason = peers + ": producers on CPU " + std::to_string(pair.producer) +
               ", consumers on CPU " + std::to_string(pair.consumer) + " (--cpus)";
    return g;
  }
  if (p == placement::same) {
    std::fill(g.cpus.begin(), g.cpus.end(), pair.producer);
    g.reason = peers + ", all on CPU " + std::to_string(pair.producer) + " (placement same)";
    return g;
  }
  const std::vector<int> order = cpu_order(pair, allowed);
  std::size_t producers = 0, consumers = 0;
  for (const auto& m : members) (m.r == role::producer ? producers : consumers) += 1;
  // A lone consumer (fan-in) takes the pair's consumer CPU and a lone producer (fan-out) the
  // producer's; everyone else takes the CPUs in turn.
  std::size_t next = 0;
  auto take = [&](std::size_t reserved) {
    if (next == reserved) ++next;
    return order[next++ % order.size()];
  };
  for (std::size_t k = 0; k < members.size(); ++k) {
    const auto& m = members[k];
    if (consumers == 1 && producers > 1)
      g.cpus[k] = m.r == role::consumer ? order[1 % order.size()] : take(1);
    else if (producers == 1 && consumers > 1)
      g.cpus[k] = m.r == role::producer ? order[0] : take(0);
    else
      g.cpus[k] = order[k % order.size()];
  }
  g.reason = peers + ", spread over CPUs in turn from the pair's choice: " + pair.reason;
  return g;
}

group_placement place_group(placement p, const std::vector<group_member>& members,
                            std::optional<cpu_pair> given) {
  return place_group(p, members, allowed_cpu_infos(kSysCpuRoot), given);
}

bool may_share_cpu(const group_placement& where) {
  if (where.oversubscribed) return true;
  for (std::size_t i = 0; i < where.cpus.size(); ++i) {
    if (where.cpus[i] < 0) return true;
    for (std::size_t j = 0; j < i; ++j)
      if (where.cpus[i] == where.cpus[j]) return true;
  }
  return false;
}

}  // namespace ipcbench
