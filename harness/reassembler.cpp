#include "reassembler.hpp"

#include <algorithm>

namespace ipcbench {

stream_reassembler::stream_reassembler(std::size_t size, std::size_t producers,
                                       const std::vector<std::uint64_t>& first)
    : size_(size) {
  codecs_.reserve(producers);
  for (std::size_t p = 0; p < producers; ++p) codecs_.emplace_back(size, 0, p + 1);
  s_.pos.resize(producers);
  s_.torn_open.assign(producers, false);
  for (std::size_t p = 0; p < producers; ++p) s_.pos[p] = first.at(p) * size;
}

std::uint64_t stream_reassembler::records(std::size_t p) const noexcept {
  return s_.pos[p] / size_;
}

std::uint64_t stream_reassembler::torn() const noexcept {
  return s_.torn;
}

// How many bytes of buf_ from `at` continue producer p's stream from byte `pos`.
std::size_t stream_reassembler::match(std::size_t p, std::uint64_t pos, std::size_t at) {
  std::size_t len = 0;
  const std::size_t avail = buf_.size() - at;
  while (len < avail) {
    const std::uint64_t k = pos / size_;
    const std::size_t off = static_cast<std::size_t>(pos % size_);
    const auto msg = codecs_[p].stamp(fan_in_tag(p, k));
    const std::size_t chunk = std::min(size_ - off, avail - len);
    const std::byte* got = buf_.data() + at + len;
    const auto [a, b] = std::mismatch(got, got + chunk, msg.data() + off);
    const auto same = static_cast<std::size_t>(a - got);
    len += same;
    if (same != chunk) break;
    pos += chunk;
  }
  return len;
}

void stream_reassembler::apply(state& s, const option& o) const {
  std::uint64_t& pos = s.pos[o.p];
  // A run that does not continue the previous one and starts inside a record: that record came
  // in more than one piece.
  if (s.last != o.p && pos % size_ != 0) s.torn_open[o.p] = true;
  const std::uint64_t end = pos + o.len;
  // Every record this run completes; the first may be torn, the others lie inside the run.
  if (end / size_ > pos / size_ && s.torn_open[o.p]) {
    ++s.torn;
    s.torn_open[o.p] = false;
  }
  pos = end;
  s.last = o.p;
}

// Backs out to the latest choice with an option left and takes it. False when none has.
bool stream_reassembler::backtrack() {
  while (!choices_.empty()) {
    choice& c = choices_.back();
    if (c.next < c.options.size()) {
      s_ = c.before;
      at_ = c.at;
      apply(s_, c.options[c.next++]);
      at_ += c.options[c.next - 1].len;
      return true;
    }
    choices_.pop_back();
  }
  return false;
}

bool stream_reassembler::feed(std::span<const std::byte> bytes) {
  if (failed()) return false;
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  while (at_ < buf_.size()) {
    std::vector<option> options;
    std::vector<std::pair<std::size_t, std::size_t>> found;  // (length, producer)
    for (std::size_t p = 0; p < codecs_.size(); ++p)
      if (const std::size_t m = match(p, s_.pos[p], at_); m != 0) found.emplace_back(m, p);
    // Longest first; a run may have taken a few bytes of the next producer's by chance (also
    // at the end of what has arrived): shorter lengths of it are the fallbacks.
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    // A run may only end where another producer's bytes can begin: that prunes nearly every
    // alternative, so a choice is rare and backing out of one cheap.
    auto next_fits = [&](std::size_t p, std::size_t len) {
      if (at_ + len == buf_.size()) return true;
      for (std::size_t q = 0; q < codecs_.size(); ++q) {
        if (q == p) continue;
        const std::uint64_t pos = s_.pos[q];
        const auto msg = codecs_[q].stamp(fan_in_tag(q, pos / size_));
        if (msg[static_cast<std::size_t>(pos % size_)] == buf_[at_ + len]) return true;
      }
      return false;
    };
    for (const auto& [m, p] : found) {
      const std::size_t shortest = m > kMaxChanceMatch ? m - kMaxChanceMatch : 1;
      for (std::size_t len = m; len >= shortest && len > 0; --len)
        if (next_fits(p, len)) options.push_back({p, len});
    }
    if (options.empty()) {
      if (++tries_ <= kBacktrackBudget && backtrack()) continue;
      error_ = "fan-in stream: byte " + std::to_string(furthest_) +
               " continues no producer's stream (lost, duplicated or corrupted data)";
      return false;
    }
    if (options.size() > 1) {
      if (choices_.size() == 2 * kChoices) {
        // The oldest choices are beyond reach now: drop them and the bytes before the next one
        // (in bulk, so the bytes kept are moved once per kChoices choices, not once per run).
        choices_.erase(choices_.begin(), choices_.begin() + kChoices);
        const std::size_t keep = choices_.empty() ? at_ : choices_.front().at;
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(keep));
        dropped_ += keep;
        at_ -= keep;
        for (auto& c : choices_) c.at -= keep;
      }
      choices_.push_back({at_, s_, options, 1});
    }
    apply(s_, options.front());
    at_ += options.front().len;
    if (dropped_ + at_ > furthest_) {
      furthest_ = dropped_ + at_;
      tries_ = 0;
    }
    if (choices_.empty() && at_ == buf_.size()) {
      dropped_ += buf_.size();
      buf_.clear();
      at_ = 0;
    }
  }
  return true;
}

}  // namespace ipcbench
