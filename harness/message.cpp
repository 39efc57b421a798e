#include "message.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

namespace ipcbench {
namespace {

constexpr std::size_t kSeqEnd = 8;
constexpr std::size_t kLenEnd = 16;
constexpr std::size_t kTrailerMin = 32;

// An odd step (the golden-ratio constant), so the pattern has no period shorter than 2^64 words;
// tests check that the message shifted by 1 to 15 bytes fails the check.
constexpr std::uint64_t kPatternStep = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kPatternKey[2] = {0x3C3C'5A5A'C3C3'A5A5ull, 0xA5A5'C3C3'5A5A'3C3Cull};

std::uint64_t load_le(const std::byte* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// The word loops below are the whole cost of the check. They work on explicit vectors of four
// words (GCC/Clang vector extensions), two at a time, each word read once and compared with its
// pattern word; GCC builds an AVX2 version beside the baseline one and picks at load time. (A
// plain loop over eight lanes was miscompiled by GCC 12's loop vectorizer at -O3.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define IPCBENCH_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define IPCBENCH_VECTOR_CLONES
#endif

using u64x4 = std::uint64_t __attribute__((vector_size(32)));
constexpr bool kLittle = std::endian::native == std::endian::little;

// OR of (word ^ pattern word) over `words` words at src, the first being word j of the message;
// with Copy, each word is also stored to dst. Inlined into the two entry points below, so each
// of their clones gets its own vector code.
template <bool Copy>
[[gnu::always_inline]] inline std::uint64_t scan_words(std::byte* dst, const std::byte* src,
                                                       std::size_t j, std::size_t words,
                                                       std::uint64_t key) noexcept {
  std::size_t k = 0;
  std::uint64_t d = 0;
  if constexpr (kLittle) {
    u64x4 pat0 = {(j + 1) * kPatternStep, (j + 2) * kPatternStep, (j + 3) * kPatternStep,
                  (j + 4) * kPatternStep};
    u64x4 pat1 = pat0 + 4 * kPatternStep;
    u64x4 acc0 = {}, acc1 = {};
    for (; k + 8 <= words; k += 8) {
      u64x4 a, b;
      std::memcpy(&a, src + 8 * k, sizeof a);
      std::memcpy(&b, src + 8 * k + sizeof a, sizeof b);
      if constexpr (Copy) {
        std::memcpy(dst + 8 * k, &a, sizeof a);
        std::memcpy(dst + 8 * k + sizeof a, &b, sizeof b);
      }
      acc0 |= a ^ (pat0 ^ key);
      acc1 |= b ^ (pat1 ^ key);
      pat0 += 8 * kPatternStep;
      pat1 += 8 * kPatternStep;
    }
    const u64x4 acc = acc0 | acc1;
    d = acc[0] | acc[1] | acc[2] | acc[3];
  }
  for (; k < words; ++k) {
    if constexpr (Copy) std::memcpy(dst + 8 * k, src + 8 * k, 8);
    d |= load_le(src + 8 * k) ^ (((j + k + 1) * kPatternStep) ^ key);
  }
  return d;
}

IPCBENCH_VECTOR_CLONES
std::uint64_t words_diff(const std::byte* p, std::size_t j, std::size_t words,
                         std::uint64_t key) noexcept {
  return scan_words<false>(nullptr, p, j, words, key);
}

// words_diff for any count: a body of fewer than eight words (a message of a line or two) is
// compared inline by scan_words' scalar loop, cheaper than the call to the dispatched clone.
inline std::uint64_t body_diff(const std::byte* p, std::size_t j, std::size_t words,
                               std::uint64_t key) noexcept {
  return words < 8 ? scan_words<false>(nullptr, p, j, words, key) : words_diff(p, j, words, key);
}

// Writes `words` pattern words, the first being word j of the message, to dst.
IPCBENCH_VECTOR_CLONES
void fill_words(std::byte* dst, std::size_t j, std::size_t words, std::uint64_t key) noexcept {
  std::size_t k = 0;
  if constexpr (kLittle) {
    u64x4 pat0 = {(j + 1) * kPatternStep, (j + 2) * kPatternStep, (j + 3) * kPatternStep,
                  (j + 4) * kPatternStep};
    u64x4 pat1 = pat0 + 4 * kPatternStep;
    for (; k + 8 <= words; k += 8) {
      const u64x4 a = pat0 ^ key, b = pat1 ^ key;
      std::memcpy(dst + 8 * k, &a, sizeof a);
      std::memcpy(dst + 8 * k + sizeof a, &b, sizeof b);
      pat0 += 8 * kPatternStep;
      pat1 += 8 * kPatternStep;
    }
  }
  for (; k < words; ++k) {
    const std::uint64_t w = ((j + k + 1) * kPatternStep) ^ key;
    for (std::size_t i = 0; i < 8; ++i) dst[8 * k + i] = static_cast<std::byte>(w >> (8 * i));
  }
}

IPCBENCH_VECTOR_CLONES
std::uint64_t copy_words_diff(std::byte* dst, const std::byte* src, std::size_t j,
                              std::size_t words, std::uint64_t key) noexcept {
  return scan_words<true>(dst, src, j, words, key);
}

// Compares bytes [from, to) of `p` (a whole message) with the pattern; from is a multiple of 8.
// One read of every byte, 4 KiB at a time, so a corrupted message stops the check early.
bool body_matches(const std::byte* p, std::size_t from, std::size_t to, int parity,
                  std::uint64_t salt) noexcept {
  const std::uint64_t key = kPatternKey[parity] ^ salt;
  std::size_t j = from / 8;
  const std::size_t words_end = to / 8;
  constexpr std::size_t kBlock = 512;
  while (j < words_end) {
    const std::size_t n = std::min(kBlock, words_end - j);
    if (body_diff(p + 8 * j, j, n, key) != 0) return false;
    j += n;
  }
  // A part word at the end: its bytes are the low bytes of its pattern word.
  const std::size_t tail = to % 8;
  if (tail != 0) {
    const std::uint64_t w = pattern_word(words_end, parity) ^ salt;
    for (std::size_t i = 0; i < tail; ++i)
      if (p[8 * words_end + i] != static_cast<std::byte>(w >> (8 * i))) return false;
  }
  return true;
}

// A whole word is one store or load (every header field of a message of 8 bytes or more);
// the byte loops serve the short messages.
void put_le(std::byte* dst, std::uint64_t v, std::size_t n) noexcept {
  if (n == 8) {
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    std::memcpy(dst, &v, 8);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::byte>(v >> (8 * i));
}

bool equal_le(const std::byte* src, std::uint64_t v, std::size_t n) noexcept {
  if (n == 8) return load_le(src) == v;
  for (std::size_t i = 0; i < n; ++i)
    if (src[i] != static_cast<std::byte>(v >> (8 * i))) return false;
  return true;
}

std::size_t body_end(std::size_t n) noexcept {
  return n >= kTrailerMin ? n - 8 : n;
}

}  // namespace

std::uint64_t pattern_word(std::size_t j, int parity) noexcept {
  return ((j + 1) * kPatternStep) ^ kPatternKey[parity];
}

std::uint64_t stream_salt(std::uint64_t stream) noexcept {
  // Every byte of the salt is stream + 1 (mod 256): two streams below 255 differ in every byte.
  return stream == 0 ? 0 : ((stream % 255) + 1) * 0x0101'0101'0101'0101ull;
}

message_codec::message_codec(std::size_t size, std::size_t headroom, std::uint64_t stream)
    : size_(size), headroom_(headroom), salt_(stream_salt(stream)) {
  for (int parity = 0; parity < 2; ++parity) {
    auto& v = buf_[parity];
    v.resize(headroom + size);
    std::byte* b = v.data() + headroom;
    for (std::size_t i = 0; i < size; ++i)
      b[i] = static_cast<std::byte>((pattern_word(i / 8, parity) ^ salt_) >> (8 * (i % 8)));
    put_le(b + std::min(size, kSeqEnd), size, std::min(size, kLenEnd) - std::min(size, kSeqEnd));
  }
}

std::span<const std::byte> message_codec::stamp(std::uint64_t seq) noexcept {
  std::byte* b = buf_[seq & 1].data() + headroom_;
  put_le(b, seq, std::min(size_, kSeqEnd));
  if (size_ >= kTrailerMin) put_le(b + size_ - 8, seq, 8);
  return {b, size_};
}

void message_codec::write(std::span<std::byte> dst, std::uint64_t seq) const noexcept {
  std::byte* b = dst.data();
  const int parity = static_cast<int>(seq & 1);
  const std::size_t words = size_ / 8;
  fill_words(b, 0, words, kPatternKey[parity]);
  const std::uint64_t last = pattern_word(words, parity);
  for (std::size_t i = 8 * words; i < size_; ++i)
    b[i] = static_cast<std::byte>(last >> (8 * (i % 8)));
  write_header(dst, seq);
}

void message_codec::write_header(std::span<std::byte> dst, std::uint64_t seq) const noexcept {
  std::byte* b = dst.data();
  put_le(b + std::min(size_, kSeqEnd), size_, std::min(size_, kLenEnd) - std::min(size_, kSeqEnd));
  put_le(b, seq, std::min(size_, kSeqEnd));
  if (size_ >= kTrailerMin) put_le(b + size_ - 8, seq, 8);
}

integrity_error message_codec::check_header(std::span<const std::byte> got,
                                            std::uint64_t seq) const noexcept {
  if (got.size() != size_) return integrity_error::truncated;
  const std::byte* p = got.data();
  if (!equal_le(p, seq, std::min(size_, kSeqEnd))) return integrity_error::sequence;
  if (size_ > kSeqEnd && !equal_le(p + kSeqEnd, size_, std::min(size_, kLenEnd) - kSeqEnd))
    return integrity_error::length;
  if (size_ >= kTrailerMin && !equal_le(p + size_ - 8, seq, 8)) return integrity_error::sequence;
  return integrity_error::none;
}

integrity_error message_codec::check(std::span<const std::byte> got,
                                     std::uint64_t seq) const noexcept {
  if (const integrity_error e = check_header(got, seq); e != integrity_error::none) return e;
  const std::byte* p = got.data();
  const std::size_t end = body_end(size_);
  if (end > kLenEnd && !body_matches(p, kLenEnd, end, static_cast<int>(seq & 1), salt_))
    return integrity_error::corrupted;
  return integrity_error::none;
}

integrity_error message_codec::check(std::span<const std::byte> got, std::uint64_t seq,
                                     const copy_check& copier) const noexcept {
  if (const integrity_error e = check_header(got, seq); e != integrity_error::none) return e;
  const std::size_t end = body_end(size_);
  const std::size_t body = end > kLenEnd ? end - kLenEnd : 0;
  if (!copier.body_ok() || copier.body_bytes_seen() != body) return integrity_error::corrupted;
  return integrity_error::none;
}

copy_check::copy_check(std::size_t size, std::uint64_t seq) noexcept
    : from_(std::min(size, kLenEnd)),
      to_(std::max(body_end(size), std::min(size, kLenEnd))),
      parity_(static_cast<int>(seq & 1)) {}

void copy_check::operator()(std::byte* dst, const std::byte* src, std::size_t n,
                            std::size_t at) noexcept {
  // A short piece: one memcpy, then the body words are compared where they now are, in L1.
  if (n <= 256 && at % 8 == 0 && from_ % 8 == 0) {
    std::memcpy(dst, src, n);
    const std::size_t lo = std::clamp(at, from_, to_);
    const std::size_t hi = std::clamp(at + n, from_, to_);
    if (lo == hi) return;
    seen_ += hi - lo;
    const std::size_t words = (hi - lo) / 8;
    std::uint64_t diff = body_diff(dst + (lo - at), lo / 8, words, kPatternKey[parity_]);
    for (std::size_t i = lo + 8 * words; i < hi; ++i)
      diff |= static_cast<std::uint64_t>(
          dst[i - at] ^ static_cast<std::byte>(pattern_word(i / 8, parity_) >> (8 * (i % 8))));
    diff_ |= diff;
    return;
  }
  // Outside the body (header, trailer): a plain copy; check() reads those bytes afterwards.
  const std::size_t lo = std::clamp(at, from_, to_);
  const std::size_t hi = std::clamp(at + n, from_, to_);
  if (lo == hi) {
    std::memcpy(dst, src, n);
    return;
  }
  if (lo > at) std::memcpy(dst, src, lo - at);
  if (at + n > hi) std::memcpy(dst + (hi - at), src + (hi - at), at + n - hi);
  seen_ += hi - lo;
  const std::byte* s = src + (lo - at);
  std::byte* d = dst + (lo - at);
  std::size_t i = lo;  // message offset of *s
  // Bytes up to the next word boundary, one at a time.
  std::uint64_t diff = 0;
  for (; i < hi && i % 8 != 0; ++i, ++s, ++d) {
    *d = *s;
    diff |= static_cast<std::uint64_t>(
        *s ^ static_cast<std::byte>(pattern_word(i / 8, parity_) >> (8 * (i % 8))));
  }
  // Whole words: load, store, compare with the pattern word made on the fly.
  const std::size_t words = (hi - i) / 8;
  diff |= copy_words_diff(d, s, i / 8, words, kPatternKey[parity_]);
  s += 8 * words;
  d += 8 * words;
  i += 8 * words;
  // The last part word.
  for (; i < hi; ++i, ++s, ++d) {
    *d = *s;
    diff |= static_cast<std::uint64_t>(
        *s ^ static_cast<std::byte>(pattern_word(i / 8, parity_) >> (8 * (i % 8))));
  }
  diff_ |= diff;
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

void sequence_tracker::start_batch(std::uint64_t begin, std::uint64_t end) {
  extend_to(end);
  begin_ = begin;
  end_ = std::max(begin, end);
  next_ = std::max(next_, begin);
  lost_ = duplicated_ = reordered_ = stale_ = delivered_ = 0;
  if (has_ahead_) {
    has_ahead_ = false;
    arrived(ahead_);
  }
}

sequence_tracker::arrival sequence_tracker::arrived(std::uint64_t seq) noexcept {
  if (seq >= seen_.size()) return arrival::stray;
  if (seq < begin_) {
    ++stale_;
    return arrival::stale;
  }
  if (seq >= end_) {
    // The sender has moved on to the next batch: whatever of this one has not come yet is lost
    // (or later stale). Only the first such number is held over; the receiver stops here.
    if (!has_ahead_) {
      has_ahead_ = true;
      ahead_ = seq;
    }
    return arrival::ahead;
  }
  if (seen_[seq]) {
    ++duplicated_;
    return arrival::duplicated;
  }
  seen_[seq] = true;
  ++delivered_;
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
  end = std::min(end, end_);
  if (end > next_) {
    lost_ += end - next_;
    next_ = end;
  }
}

void sequence_tracker::skip_to(std::uint64_t end) noexcept {
  end = std::min(end, end_);
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
