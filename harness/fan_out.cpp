#include "fan_out.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace ipcbench {

run_result assemble_fan_out(const run_request& req, const group_program& program,
                            const group_reports& b) {
  (void)req;
  run_result res;
  res.group.emplace();
  group_outcome& g = *res.group;
  const peer_report* producer = nullptr;
  std::uint64_t taken = 0, hashes = 0;
  std::int64_t end = 0;
  std::vector<double> rates;
  std::string damaged;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    const group_member& m = program.members[k];
    const peer_report& r = b.reports[k];
    const double rate = tally_member(res, m, r, damaged);
    if (m.r == role::producer) {
      producer = &r;
      continue;
    }
    taken += r.messages;
    hashes += r.work_hash.value_or(0);
    end = std::max(end, r.t1);
    rates.push_back(rate);
  }
  if (producer == nullptr || rates.empty())
    throw std::runtime_error("fan-out without producer or consumer");
  std::size_t sender = 0;
  for (std::size_t k = 0; k < program.members.size(); ++k)
    if (program.members[k].r == role::producer) sender = k;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    if (program.members[k].r != role::consumer || producer->delay_ns.empty() ||
        b.reports[k].delay_ns.empty())
      continue;
    pair_delays(producer->delay_ns[0], b.reports[k].delay_ns[0], g.members[sender].delay,
                g.members[k].delay);
  }
  if (producer->work_hash && (taken != producer->messages || hashes != *producer->work_hash)) {
    ++res.integrity_errors;
    damaged += "work queue: the readers took " + std::to_string(taken) + " records of " +
               std::to_string(producer->messages) + " sent" +
               (taken == producer->messages ? ", but not each exactly once" : "") + "; ";
  }
  res.messages = taken;
  res.elapsed_ns = end - producer->t0;
  if (rates.size() > 1) g.fairness = spread_of(rates);
  settle_data_check(res, std::move(damaged));
  return res;
}

}  // namespace ipcbench
