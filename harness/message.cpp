#include "message.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace ipcbench {
namespace {

constexpr std::size_t kSeqEnd = 8;
constexpr std::size_t kLenEnd = 16;
constexpr std::size_t kTrailerMin = 32;

std::byte pattern_byte(std::size_t i, int parity) noexcept {
  // A multiplicative hash of the position: no short period, so shifted data does not match.
  const auto h = static_cast<std::uint32_t>(i * 2654435761u) >> 24;
  return static_cast<std::byte>(h ^ (parity ? 0xA5u : 0x3Cu));
}

void put_le(std::byte* dst, std::uint64_t v, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::byte>(v >> (8 * i));
}

bool equal_le(const std::byte* src, std::uint64_t v, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    if (src[i] != static_cast<std::byte>(v >> (8 * i))) return false;
  return true;
}

std::size_t body_end(std::size_t n) noexcept {
  return n >= kTrailerMin ? n - 8 : n;
}

}  // namespace

message_codec::message_codec(std::size_t size, std::size_t headroom)
    : size_(size), headroom_(headroom) {
  for (int parity = 0; parity < 2; ++parity) {
    auto& v = buf_[parity];
    v.resize(headroom + size);
    std::byte* b = v.data() + headroom;
    for (std::size_t i = 0; i < size; ++i) b[i] = pattern_byte(i, parity);
    put_le(b + std::min(size, kSeqEnd), size, std::min(size, kLenEnd) - std::min(size, kSeqEnd));
  }
}

std::span<const std::byte> message_codec::stamp(std::uint64_t seq) noexcept {
  std::byte* b = buf_[seq & 1].data() + headroom_;
  put_le(b, seq, std::min(size_, kSeqEnd));
  if (size_ >= kTrailerMin) put_le(b + size_ - 8, seq, 8);
  return {b, size_};
}

integrity_error message_codec::check(std::span<const std::byte> got,
                                     std::uint64_t seq) const noexcept {
  if (got.size() != size_) return integrity_error::truncated;
  const std::byte* p = got.data();
  if (!equal_le(p, seq, std::min(size_, kSeqEnd))) return integrity_error::sequence;
  if (size_ > kSeqEnd && !equal_le(p + kSeqEnd, size_, std::min(size_, kLenEnd) - kSeqEnd))
    return integrity_error::length;
  if (size_ >= kTrailerMin && !equal_le(p + size_ - 8, seq, 8)) return integrity_error::sequence;
  const std::size_t end = body_end(size_);
  if (end > kLenEnd && std::memcmp(p + kLenEnd, message(seq & 1) + kLenEnd, end - kLenEnd) != 0)
    return integrity_error::corrupted;
  return integrity_error::none;
}

std::uint64_t message_codec::sequence_of(std::span<const std::byte> got,
                                         std::uint64_t expected) const noexcept {
  if (got.size() != size_ || size_ == 0) return expected;
  const std::size_t k = std::min(size_, kSeqEnd);
  std::uint64_t low = 0;
  for (std::size_t i = 0; i < k; ++i) low |= static_cast<std::uint64_t>(got[i]) << (8 * i);
  if (k == kSeqEnd) return low;
  // Only the low 8k bits travelled: take the candidate within half their range of `expected`.
  const std::uint64_t mod = std::uint64_t{1} << (8 * k);
  const std::uint64_t ahead = (low - expected) & (mod - 1);  // how far past `expected`, mod 2^8k
  if (ahead < mod / 2) return expected + ahead;
  const std::uint64_t behind = mod - ahead;
  return behind <= expected ? expected - behind : expected + ahead;
}

std::vector<std::byte> message_codec::make_receive_buffer() const {
  // value-initialised: every page written once before the timed loop
  return std::vector<std::byte>(headroom_ + size_);
}

void integrity_tally::add(integrity_error e, std::uint64_t seq) noexcept {
  if (e == integrity_error::none) return;
  ++total_;
  ++by_kind_[static_cast<int>(e)];
  if (first_.empty()) {
    try {
      first_ = std::string(to_string(e)) + " at message " + std::to_string(seq);
    } catch (...) {
    }
  }
}

std::string integrity_tally::summary() const {
  std::string s = std::to_string(total_) + " integrity error(s)";
  const char* sep = ": ";
  for (int k = 1; k < 5; ++k) {
    if (by_kind_[k] == 0) continue;
    s += sep + std::to_string(by_kind_[k]) + " " + to_string(static_cast<integrity_error>(k));
    sep = ", ";
  }
  if (!first_.empty()) s += "; first: " + first_;
  return s;
}

void sequence_tracker::extend_to(std::uint64_t end) {
  if (end > seen_.size()) seen_.resize(end, false);
}

sequence_tracker::arrival sequence_tracker::arrived(std::uint64_t seq) noexcept {
  if (seq >= seen_.size()) return arrival::stray;
  if (seen_[seq]) {
    ++duplicated_;
    return arrival::duplicated;
  }
  seen_[seq] = true;
  if (seq < next_) {  // counted lost when a later number arrived or the batch closed
    --lost_;
    ++reordered_;
    return arrival::late;
  }
  const arrival a = seq == next_ ? arrival::in_order : arrival::after_gap;
  lost_ += seq - next_;
  next_ = seq + 1;
  return a;
}

void sequence_tracker::close_batch(std::uint64_t end) noexcept {
  end = std::min<std::uint64_t>(end, seen_.size());
  if (end > next_) {
    lost_ += end - next_;
    next_ = end;
  }
}

void sequence_tracker::skip_to(std::uint64_t end) noexcept {
  end = std::min<std::uint64_t>(end, seen_.size());
  for (; next_ < end; ++next_) seen_[next_] = true;
}

std::string loss_summary(std::uint64_t lost, std::uint64_t of, std::uint64_t duplicated,
                         std::uint64_t reordered, const char* unit) {
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.2f",
                of > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(of) : 0.0);
  return "lost " + std::to_string(lost) + " of " + std::to_string(of) + " " + unit + " (" + pct +
         "%), " + std::to_string(duplicated) + " duplicated, " + std::to_string(reordered) +
         " reordered";
}

const char* to_string(integrity_error e) noexcept {
  switch (e) {
    case integrity_error::none:
      return "none";
    case integrity_error::truncated:
      return "truncated";
    case integrity_error::sequence:
      return "lost/duplicated/reordered";
    case integrity_error::length:
      return "wrong length";
    case integrity_error::corrupted:
      return "corrupted";
  }
  return "?";
}

}  // namespace ipcbench
