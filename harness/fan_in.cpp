#include "fan_in.hpp"

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

}  // namespace ipcbench
