// Claim 9: "shared memory moves 1 MiB messages faster than a pipe". What is compared is what the
// sweep measured: the futex ring (posix_shm.futex, whose receiver sleeps in the kernel as a
// pipe's does in read(2)) against the pipe, bytes_per_second at 1 MiB, repetition by repetition
// within each regime of the host (a host that moves between states moves both), by the exact
// stratified rank test the report's claims use (stats/rank.hpp).
// Both make two copies per message (docs/mechanisms.md), so the claim is about speed, not copies.
// It needs the sweep's repetitions (the bench program's run records) rather than a run of its own.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>

#include "probe/report_probes.hpp"
#include "stats/rank.hpp"

namespace ipcbench::probes {
namespace {

constexpr std::size_t kSize = 1048576;
constexpr char kShmId[] = "posix_shm.futex";
constexpr char kPipeId[] = "pipe";

nlohmann::json rounded_all(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(std::round(x));
  return a;
}

const char kCopies[] =
    " Both make two copies per message: the pipe write(2)s it into the kernel's pipe buffer and "
    "read(2)s it out; the ring memcpy's it into the shared segment and the receiver copies every "
    "byte out into its own buffer, where the harness checks it. What differs is the system call "
    "per chunk of the pipe, against none for an uncontended ring, and the wake-ups around them "
    "(both sleep in the kernel: the pipe in read(2), the ring in FUTEX_WAIT).";

}  // namespace

finding copies_finding(const std::vector<run_record>& records) {
  finding f;
  f.id = "shm_futex_faster_than_pipe";
  f.claim =
      "Shared memory (the futex ring, posix_shm.futex) moves 1 MiB messages faster than a "
      "pipe";
  f.source =
      "tutorial 000, section '共享内存' (shared memory: the fastest IPC on one machine); tutorial "
      "001, section 2.1; tutorial 002, section '共享内存的特点' (shared memory's traits); "
      "tutorial 004, section 3.1";
  f.method =
      "from this report's sweep: bytes_per_second (payload bytes per second, from the producer's "
      "start to the consumer's last checked byte) of each ok repetition of "
      "posix_shm.futex/throughput/1048576/<placement> and pipe/throughput/1048576/<placement>, "
      "in the first placement both ran in, compared within each regime of the host both ran in "
      "(the report's `regime`; repetitions of different regimes are never compared, as a host "
      "that moves between states moves both). The verdict is an exact stratified rank test, one "
      "stratum per regime: every ring repetition is set beside every pipe repetition of its "
      "regime, and the share of those pairs in which the ring was faster is tested against "
      "every split of each regime's repetitions between the two being equally likely. Holds "
      "when the ring was faster in more than half of the pairs with a two-sided p <= 0.1, does "
      "not hold when it was slower in more than half with p <= 0.1; inconclusive otherwise "
      "(too few repetitions for p to reach 0.1 even if one side won every pair, or the "
      "repetitions overlap too much); untested when the report lacks either. Beside it, the "
      "ratio shm/pipe of the medians, and its bounds within the regimes: the slowest shm "
      "repetition over the fastest pipe repetition (the least over the regimes) and the fastest "
      "shm over the slowest pipe (the greatest)";
  f.value = nullptr;
  f.result = verdict::untested;

  // id -> placement -> regime (-1: none) -> bytes_per_second of each ok repetition at 1 MiB.
  using by_regime = std::map<int, std::vector<double>>;
  std::map<std::string, std::map<std::string, by_regime>> runs;
  // Repetitions without a regime are left out of a run that has regimes (they cannot be placed).
  const bool regimes = std::any_of(records.begin(), records.end(),
                                   [](const run_record& r) { return r.regime.has_value(); });
  for (const run_record& r : records) {
    // One pair, as the method says: a topology's aggregate (N producers into one pipe, N pairs
    // at once) is another benchmark under the same id.
    if (!r.ok || r.pattern != "throughput" || r.message_size != kSize || !r.bytes_per_second ||
        !r.topology.empty() || (regimes && !r.regime))
      continue;
    if (r.id == kShmId || r.id == kPipeId)
      runs[r.id][r.placement][r.regime.value_or(-1)].push_back(*r.bytes_per_second);
  }
  const auto pipe = runs.find(kPipeId);
  const auto shm = runs.find(kShmId);
  if (pipe == runs.end() || shm == runs.end()) {
    const bool none = pipe == runs.end() && shm == runs.end();
    f.value = {{"pipe at 1 MiB", pipe == runs.end() ? "not run" : "ran"},
               {"posix_shm.futex at 1 MiB", shm == runs.end() ? "not run" : "ran"}};
    f.detail = std::string("the sweep ran no ") +
               (none                 ? "pipe and no posix_shm.futex"
                : pipe == runs.end() ? "pipe"
                                     : kShmId) +
               " throughput benchmark at 1 MiB (or none succeeded)";
    return f;
  }
  // Compare within one placement: the first the pipe ran in that the ring also ran in.
  for (const auto& [placement, p_by] : pipe->second) {
    const auto it = shm->second.find(placement);
    if (it == shm->second.end()) continue;
    const by_regime& s_by = it->second;
    std::vector<double> s, p;  // every repetition, for the medians
    double lower = std::numeric_limits<double>::infinity(), upper = 0;
    std::vector<rank_stats::rank_stratum> strata;  // a: the ring, b: the pipe
    nlohmann::json by_regime_json = nlohmann::json::array();
    for (const auto& [g, pv] : p_by) {
      p.insert(p.end(), pv.begin(), pv.end());
      const auto sg = s_by.find(g);
      if (sg == s_by.end()) continue;
      const std::vector<double>& sv = sg->second;
      const double lo =
          *std::min_element(sv.begin(), sv.end()) / *std::max_element(pv.begin(), pv.end());
      const double hi =
          *std::max_element(sv.begin(), sv.end()) / *std::min_element(pv.begin(), pv.end());
      lower = std::min(lower, lo);
      upper = std::max(upper, hi);
      strata.push_back({.a = sv, .b = pv, .label = g});
      by_regime_json.push_back({{"regime", g >= 0 ? nlohmann::json(g) : nlohmann::json(nullptr)},
                                {"pipe bytes/s", rounded_all(pv)},
                                {"shm bytes/s", rounded_all(sv)},
                                {"ratio lower bound", round_to(lo, 3)},
                                {"ratio upper bound", round_to(hi, 3)}});
    }
    for (const auto& [g, sv] : s_by) s.insert(s.end(), sv.begin(), sv.end());
    const auto test = rank_stats::stratified_rank_test(strata);
    if (!test) {
      f.result = verdict::inconclusive;
      f.value = {{"placement", placement}, {"by regime", std::move(by_regime_json)}};
      f.detail = std::string(kShmId) + " and pipe ran at 1 MiB (placement " + placement +
                 ") but never in one regime of the host, so no repetition of one can be set "
                 "beside one of the other.";
      return f;
    }
    // The share of the pairs set beside each other in which the ring was faster (a tie: half).
    const double faster = 1 - test->a_lower;
    const double least = rank_stats::least_rank_p(strata);
    for (std::size_t k = 0; k < by_regime_json.size(); ++k)
      by_regime_json[k]["shm faster in share of pairs"] =
          round_to(1 - test->a_lower_by_stratum[k], 3);
    const double mid = median(s) / median(p);
    f.value = {{"placement", placement},
               {"pipe bytes/s", rounded_all(p)},
               {"shm bytes/s", rounded_all(s)},
               {"ratio shm/pipe of the medians", round_to(mid, 3)},
               {"ratio lower bound", round_to(lower, 3)},
               {"ratio upper bound", round_to(upper, 3)},
               {"repetitions", {{"shm", s.size()}, {"pipe", p.size()}}},
               {"shm faster in share of pairs", round_to(faster, 3)},
               {"rank test p", test->p},
               {"least p these repetitions allow", least}};
    if (regimes) f.value["by regime"] = std::move(by_regime_json);
    const std::string within = regimes ? ", within each of the " +
                                             std::to_string(f.value["by regime"].size()) +
                                             " regime(s) of the host both ran in"
                                       : "";
    const std::string range = rounded(lower, 2) + " to " + rounded(upper, 2) + "x the pipe's" +
                              within + " (medians " + rounded(median(s) / 1e9, 2) + " vs " +
                              rounded(median(p) / 1e9, 2) + " GB/s; " + std::to_string(s.size()) +
                              " and " + std::to_string(p.size()) + " repetitions, placement " +
                              placement + ")";
    const std::string pairs = std::string("of the pairs of repetitions set beside each other") +
                              (regimes ? " in the same regime" : "") +
                              " (exact rank test, p = " + p_text(test->p) + ")";
    f.detail = std::string(kShmId) + " moved 1 MiB messages at " + range + ": ";
    if (within_rank_level(test->p) && faster > 0.5) {
      f.result = verdict::holds;
      f.detail += "the ring was faster in " + rounded(100 * faster, 0) + " % " + pairs + ".";
    } else if (within_rank_level(test->p) && faster < 0.5) {
      f.result = verdict::does_not_hold;
      f.detail += "the ring was slower in " + rounded(100 * (1 - faster), 0) + " % " + pairs + ".";
    } else if (!within_rank_level(least)) {
      f.result = verdict::inconclusive;
      f.detail +=
          "too few repetitions for a verdict: even if one side had won every pair, the rank "
          "test's p would be " +
          p_text(least) + " (at most " + p_text(kRankLevel) +
          " needed; 3 or more a side in one regime reach it).";
    } else {
      f.result = verdict::inconclusive;
      f.detail += "the repetitions overlap too much to tell them apart: the ring was faster in " +
                  rounded(100 * faster, 0) + " % " + pairs + ", above " + p_text(kRankLevel) + ".";
      // A host whose states order the two opposite ways, each completely: said, not averaged.
      const auto& shares = test->a_lower_by_stratum;
      const bool both =
          std::any_of(shares.begin(), shares.end(), [](double x) { return x == 0; }) &&
          std::any_of(shares.begin(), shares.end(), [](double x) { return x == 1; });
      if (both)
        f.detail +=
            " The host's state decides: in one regime every ring repetition beat every pipe "
            "repetition, in another every one lost (see `by regime`).";
    }
    f.detail += kCopies;
    return f;
  }
  f.value = {{"pipe placements", nlohmann::json::array()},
             {"shm placements", nlohmann::json::array()}};
  for (const auto& kv : pipe->second) f.value["pipe placements"].push_back(kv.first);
  for (const auto& kv : shm->second) f.value["shm placements"].push_back(kv.first);
  f.detail = "pipe and posix_shm.futex ran at 1 MiB throughput, but in no common placement";
  return f;
}

std::vector<finding> read_probe_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read '" + path + "'");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error("'" + path + "' is not JSON (" + e.what() + ")");
  }
  const nlohmann::json* arr = &j;
  if (j.is_object()) {
    if (!j.contains("probes")) throw std::runtime_error("'" + path + "' has no 'probes' array");
    arr = &j["probes"];
  }
  if (!arr->is_array()) throw std::runtime_error("'" + path + "': 'probes' is not an array");
  std::vector<finding> out;
  for (const auto& item : *arr) {
    try {
      out.push_back(finding_from_json(item));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("'" + path + "': " + e.what());
    }
  }
  return out;
}

nlohmann::json report_probes(const std::vector<finding>& from_file,
                             const std::vector<run_record>& runs) {
  const finding copies = copies_finding(runs);
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& f : from_file)
    if (f.id != copies.id) arr.push_back(to_json(f));
  arr.push_back(to_json(copies));
  return arr;
}

}  // namespace ipcbench::probes
