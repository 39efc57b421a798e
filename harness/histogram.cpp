#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace ipcbench {
namespace {

constexpr int kSub = 1 << histogram::kSubBits;  // 128 buckets per power of two
constexpr std::size_t kBuckets = histogram::kExactBelow + (63 - 8 + 1) * kSub;

}  // namespace

histogram::histogram() : counts_(kBuckets, 0) {}

std::size_t histogram::bucket_index(std::int64_t v) noexcept {
  if (v < kExactBelow) return static_cast<std::size_t>(std::max<std::int64_t>(v, 0));
  const auto u = static_cast<std::uint64_t>(v);
  const int e = 63 - std::countl_zero(u);  // floor(log2 v), >= 8
  const int shift = e - kSubBits;
  const auto sub = static_cast<std::size_t>((u >> shift) - kSub);
  return static_cast<std::size_t>(kExactBelow) + static_cast<std::size_t>(e - 8) * kSub + sub;
}

std::int64_t histogram::bucket_lowest(std::size_t index) noexcept {
  if (index < static_cast<std::size_t>(kExactBelow)) return static_cast<std::int64_t>(index);
  const std::size_t rel = index - static_cast<std::size_t>(kExactBelow);
  const int e = static_cast<int>(rel / kSub) + 8;
  const auto sub = static_cast<std::uint64_t>(rel % kSub);
  return static_cast<std::int64_t>((sub + kSub) << (e - kSubBits));
}

std::int64_t histogram::bucket_highest(std::size_t index) noexcept {
  if (index < static_cast<std::size_t>(kExactBelow)) return static_cast<std::int64_t>(index);
  const std::size_t rel = index - static_cast<std::size_t>(kExactBelow);
  const int e = static_cast<int>(rel / kSub) + 8;
  const auto width = std::uint64_t{1} << (e - kSubBits);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(bucket_lowest(index)) + (width - 1));
}

void histogram::record(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  ++counts_[bucket_index(ns)];
  if (count_ == 0 || ns < min_) min_ = ns;
  if (count_ == 0 || ns > max_) max_ = ns;
  ++count_;
  sum_ += static_cast<std::uint64_t>(ns);
}

void histogram::merge(const histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

double histogram::mean() const noexcept {
  return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
}

std::int64_t histogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  if (p <= 0) return min_;
  if (p >= 100) return max_;
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::int64_t lo = bucket_lowest(i);
      const std::int64_t mid = lo + (bucket_highest(i) - lo) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

nlohmann::json histogram::to_json() const {
  nlohmann::json buckets = nlohmann::json::array();
  for (std::size_t i = 0; i < kBuckets; ++i)
    if (counts_[i] != 0) buckets.push_back({i, counts_[i]});
  return {{"buckets", std::move(buckets)},
          {"count", count_},
          {"min", min_},
          {"max", max_},
          {"sum_hi", static_cast<std::uint64_t>(sum_ >> 64)},
          {"sum_lo", static_cast<std::uint64_t>(sum_)}};
}

histogram histogram::from_json(const nlohmann::json& j) {
  histogram h;
  for (const auto& b : j.at("buckets")) {
    const auto i = b.at(0).get<std::size_t>();
    if (i >= kBuckets) throw std::out_of_range("histogram bucket index");
    h.counts_[i] = b.at(1).get<std::uint64_t>();
  }
  h.count_ = j.at("count").get<std::uint64_t>();
  h.min_ = j.at("min").get<std::int64_t>();
  h.max_ = j.at("max").get<std::int64_t>();
  h.sum_ = (static_cast<uint128>(j.at("sum_hi").get<std::uint64_t>()) << 64) |
           j.at("sum_lo").get<std::uint64_t>();
  return h;
}

}  // namespace ipcbench
