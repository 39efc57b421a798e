#include "reassembler.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace ipcbench {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e37'79b9'7f4a'7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebull;
  return z ^ (z >> 31);
}

std::uint64_t load64(const void* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

constexpr std::uint64_t kEveryByte = 0x0101'0101'0101'0101ull;

}  // namespace

int tag_bits(std::size_t producers) noexcept {
  int bits = 0;
  while ((std::size_t{1} << bits) < producers) ++bits;
  return bits;
}

tagged_layout::tagged_layout(std::size_t size, std::size_t producers)
    : size_(size), producers_(producers) {
  if (size == 0) throw std::invalid_argument("tagged records of 0 bytes");
  if (producers == 0 || producers > kMaxTaggedProducers)
    throw std::invalid_argument("tagged stream of " + std::to_string(producers) +
                                " producers, outside 1.." + std::to_string(kMaxTaggedProducers));
  shift_ = 8 - tag_bits(producers);
  mask_ = static_cast<std::uint8_t>((1u << shift_) - 1);
  tag_mask_word_ = static_cast<std::uint64_t>(static_cast<std::uint8_t>(~mask_)) * kEveryByte;
  // The message pattern's bytes (parity 0), cut to the check bits: the check value depends on
  // the offset even where two records' keys agree.
  base_.assign(size + 8, 0);
  for (std::size_t i = 0; i < size; ++i)
    base_[i] = static_cast<std::uint8_t>(pattern_word(i / 8, 0) >> (8 * (i % 8))) & mask_;
}

tagged_layout::key tagged_layout::key_of(std::size_t p, std::uint64_t k) const noexcept {
  // Four words from the record's number and producer: two records of one producer agree in all
  // kKeyBytes check fields only by chance, 2^-(8 x 32 x check bits per byte), so a duplicated,
  // lost or reordered record fails its check.
  std::uint64_t seed = k * kMaxTaggedProducers + p;
  key kk{};
  for (std::size_t w = 0; w < kKeyBytes / 8; ++w) {
    const std::uint64_t v = splitmix64(seed);
    for (std::size_t b = 0; b < 8; ++b)
      kk[8 * w + b] = static_cast<std::uint8_t>(v >> (8 * b)) & mask_;
  }
  for (std::size_t b = 0; b < 8; ++b) kk[kKeyBytes + b] = kk[b];
  return kk;
}

std::uint64_t tagged_layout::tag_word(std::size_t p) const noexcept {
  return static_cast<std::uint64_t>(static_cast<std::uint8_t>(p << shift_)) * kEveryByte;
}

tagged_record_writer::tagged_record_writer(const tagged_layout& layout, std::size_t p,
                                           std::size_t headroom)
    : layout_(&layout), p_(p), headroom_(headroom), buf_(headroom + layout.size() + 8) {}

std::span<const std::byte> tagged_record_writer::stamp(std::uint64_t k) noexcept {
  const tagged_layout& l = *layout_;
  const tagged_layout::key kk = l.key_of(p_, k);
  const std::uint64_t tag = l.tag_word(p_);
  std::byte* out = buf_.data() + headroom_;
  // Word by word: the buffer and the base both have 8 bytes of slack past the record.
  for (std::size_t i = 0; i < l.size(); i += 8) {
    const std::uint64_t w = load64(l.base() + i) ^ load64(kk.data() + i % tagged_layout::kKeyBytes);
    const std::uint64_t v = w | tag;
    std::memcpy(out + i, &v, 8);
  }
  return {out, l.size()};
}

stream_reassembler::stream_reassembler(const tagged_layout& layout,
                                       const std::vector<std::uint64_t>& first)
    : layout_(layout), streams_(layout.producers()) {
  for (std::size_t p = 0; p < streams_.size(); ++p) {
    streams_[p].pos = (p < first.size() ? first[p] : 0) * layout_.size();
    start_record(p);
    tag_words_.push_back(layout_.tag_word(p));
  }
}

void stream_reassembler::start_record(std::size_t p) {
  streams_[p].key = layout_.key_of(p, streams_[p].pos / layout_.size());
}

void stream_reassembler::end_record(std::size_t p) {
  stream& s = streams_[p];
  if (s.torn_open) ++torn_;
  s.torn_open = false;
  start_record(p);
}

std::uint64_t stream_reassembler::records(std::size_t p) const noexcept {
  return streams_[p].pos / layout_.size();
}

void stream_reassembler::fail(std::size_t p, std::size_t at, std::uint8_t got, std::uint8_t want) {
  const std::uint64_t pos = streams_[p].pos;
  char what[200];
  std::snprintf(what, sizeof what,
                "byte %llu of the stream is 0x%02x, producer %zu's record %llu byte %llu must be "
                "0x%02x",
                static_cast<unsigned long long>(fed_ + at), got, p,
                static_cast<unsigned long long>(pos / layout_.size()),
                static_cast<unsigned long long>(pos % layout_.size()), want);
  error_ = what;
}

bool stream_reassembler::feed(std::span<const std::byte> bytes) {
  if (failed()) return false;
  const auto* in = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::size_t n = bytes.size();
  const std::size_t size = layout_.size();
  const std::uint64_t tag_mask = layout_.tag_mask_word();
  const int shift = layout_.shift();
  std::size_t at = 0;
  while (at < n) {
    const std::size_t p = static_cast<std::size_t>(in[at] >> shift);
    if (p >= streams_.size()) {
      char what[120];
      std::snprintf(what, sizeof what,
                    "byte %llu of the stream is 0x%02x: it names producer %zu of %zu",
                    static_cast<unsigned long long>(fed_ + at), in[at], p, streams_.size());
      error_ = what;
      return false;
    }
    if (p != last_) {
      // The previous producer's record, interrupted before its end, arrives in more runs.
      if (last_ != SIZE_MAX && streams_[last_].pos % size != 0) streams_[last_].torn_open = true;
      last_ = p;
    }
    stream& s = streams_[p];
    // Within one record, eight bytes at a time while they all carry p's tag.
    std::size_t off = s.pos % size;
    while (at + 8 <= n && off + 8 <= size) {
      const std::uint64_t w = load64(in + at);
      if ((w & tag_mask) != tag_words_[p]) break;
      const std::uint64_t want =
          (load64(layout_.base() + off) ^ load64(s.key.data() + off % tagged_layout::kKeyBytes)) |
          tag_words_[p];
      if (w != want) break;  // the byte loop below names the byte
      at += 8;
      off += 8;
      s.pos += 8;
    }
    if (off == size) {
      end_record(p);
      continue;
    }
    if (at == n) break;
    if (static_cast<std::size_t>(in[at] >> shift) != p) continue;
    const std::uint8_t want = layout_.byte_at(p, s.key, off);
    if (in[at] != want) {
      fail(p, at, in[at], want);
      return false;
    }
    ++at;
    ++s.pos;
    if (s.pos % size == 0) end_record(p);
  }
  fed_ += n;
  return true;
}

}  // namespace ipcbench
