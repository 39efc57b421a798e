#include "fan_in.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace ipcbench {
namespace {

std::uint64_t header_of(std::span<const std::byte> got) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < got.size(); ++i)
    v |= static_cast<std::uint64_t>(got[i]) << (8 * i);
  return v;
}

}  // namespace

fan_in_receiver::fan_in_receiver(std::size_t size, std::size_t headroom, const fan_in_setup& setup)
    : size_(size), setup_(setup), next_(setup.producers, 0) {
  if (fan_in_tagged(size, setup)) {
    reasm_.emplace(tagged_layout(size, setup.producers), next_);
    return;
  }
  codecs_.reserve(setup.producers);
  for (std::size_t p = 0; p < setup.producers; ++p) codecs_.emplace_back(size, headroom, p + 1);
}

void fan_in_receiver::take(std::span<const std::byte> got) {
  const std::uint64_t at = checked_++;
  if (reasm_) {
    if (!reasm_->feed(got) && !reasm_reported_) {
      reasm_reported_ = true;
      tally_.add(integrity_error::corrupted, at);
    }
    return;
  }
  const std::uint64_t tag = header_of(got);
  const std::uint64_t p = fan_in_producer(tag);
  const std::uint64_t k = fan_in_record(tag);
  last_ = {p, k};
  if (got.size() == size_ && p < setup_.producers && k == next_[p] &&
      codecs_[p].check(got, tag) == integrity_error::none) {
    ++next_[p];
    return;
  }
  if (got.size() != size_) {
    tally_.add(integrity_error::truncated, at);
  } else if (p >= setup_.producers) {
    tally_.add(integrity_error::sequence, at);
  } else if (k != next_[p]) {
    // Lost (ahead) or duplicated (behind) records of producer p: resynchronise on it.
    tally_.add(integrity_error::sequence, at);
    if (k > next_[p]) next_[p] = k + 1;
  } else {
    tally_.add(codecs_[p].check(got, tag), at);
    ++next_[p];
  }
}

void fan_in_receiver::expect(std::uint64_t per_producer) {
  for (std::size_t p = 0; p < setup_.producers; ++p) {
    const std::uint64_t have = reasm_ ? reasm_->records(p) : next_[p];
    if (have < per_producer && !(reasm_ && reasm_->failed()))
      tally_.add(integrity_error::sequence, fan_in_tag(p, have));
  }
}

void fan_in_receiver::sample_delay(std::uint64_t first, std::uint64_t count) {
  delay_.assign(setup_.producers, delay_sampler(first, count));
  noted_.assign(setup_.producers, 0);
  if (reasm_)
    for (std::size_t p = 0; p < setup_.producers; ++p) noted_[p] = reasm_->records(p);
}

void fan_in_receiver::note_delay() {
  if (delay_.empty()) return;
  if (!reasm_) {
    const auto [p, k] = last_;
    if (p < delay_.size() && delay_[p].due(k)) delay_[p].note(k, now_ns());
    return;
  }
  // A piece of a tagged stream may complete records of any producer.
  std::int64_t now = -1;
  for (std::size_t p = 0; p < delay_.size(); ++p)
    for (const std::uint64_t have = reasm_->records(p); noted_[p] < have; ++noted_[p])
      if (delay_[p].due(noted_[p])) {
        if (now < 0) now = now_ns();
        delay_[p].note(noted_[p], now);
      }
}

std::vector<std::vector<std::int64_t>> fan_in_receiver::delay_notes() const {
  std::vector<std::vector<std::int64_t>> notes;
  for (const auto& d : delay_) notes.push_back(d.notes());
  return notes;
}

run_result assemble_fan_in(const run_request& req, const group_program& program,
                           const group_reports& b) {
  (void)req;
  run_result res;
  res.group.emplace();
  group_outcome& g = *res.group;
  std::int64_t start = 0;
  bool first = true;
  std::vector<double> rates;
  std::string damaged;
  const peer_report* consumer = nullptr;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    const group_member& m = program.members[k];
    const peer_report& r = b.reports[k];
    const double rate = tally_member(res, m, r, damaged);
    if (m.r == role::consumer) {
      consumer = &r;
      continue;
    }
    start = first ? r.t0 : std::min(start, r.t0);
    first = false;
    rates.push_back(rate);
  }
  if (consumer == nullptr || first) throw std::runtime_error("fan-in without producer or consumer");
  member_outcome* taker = nullptr;
  for (auto& o : g.members)
    if (o.r == role::consumer) taker = &o;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    const group_member& m = program.members[k];
    const auto p = static_cast<std::size_t>(m.index);
    if (m.r != role::producer || b.reports[k].delay_ns.empty() || p >= consumer->delay_ns.size())
      continue;
    pair_delays(b.reports[k].delay_ns[0], consumer->delay_ns[p], g.members[k].delay, taker->delay);
  }
  res.messages = consumer->messages;
  res.elapsed_ns = consumer->t1 - start;
  g.torn_records = consumer->torn;
  if (rates.size() > 1) g.fairness = spread_of(rates);
  settle_data_check(res, std::move(damaged));
  return res;
}

}  // namespace ipcbench
