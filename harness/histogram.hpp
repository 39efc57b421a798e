// A log-linear histogram of nanosecond samples (HdrHistogram's layout): values below 256 are
// exact; above, each power of two is split into 128 buckets, so a bucket spans at most 1/128
// of its values and the midpoint reported is within 0.4 % of every sample in it. Counts and the
// sum are 64/128-bit, so a run of billions of samples of any length cannot overflow.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ipcbench {

__extension__ using uint128 = unsigned __int128;

class histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::int64_t kExactBelow = std::int64_t{2} << kSubBits;  // 256

  histogram();

  void record(std::int64_t ns) noexcept;  // negative values count as 0
  void merge(const histogram& other);

  std::uint64_t count() const noexcept { return count_; }
  std::int64_t min() const noexcept { return count_ ? min_ : 0; }
  std::int64_t max() const noexcept { return count_ ? max_ : 0; }
  double mean() const noexcept;
  // Nearest-rank percentile, p in [0, 100]: the bucket midpoint, clamped to [min, max];
  // p = 0 and p = 100 give the exact min and max. 0 when empty.
  std::int64_t percentile(double p) const noexcept;

  // Sparse form for the control channel: {"buckets": [[index, count], ...], "min", "max", ...}.
  nlohmann::json to_json() const;
  static histogram from_json(const nlohmann::json& j);

  static std::size_t bucket_index(std::int64_t v) noexcept;
  static std::int64_t bucket_lowest(std::size_t index) noexcept;
  static std::int64_t bucket_highest(std::size_t index) noexcept;

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  uint128 sum_ = 0;
};

}  // namespace ipcbench
