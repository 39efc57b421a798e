// Test-only: a known slowdown or a known corruption to plant, for measuring what the regression
// gate catches. A channel that is the mechanism it wraps, with the same id and traits, except
// that every send() first busy-waits the number of nanoseconds in the environment variable
// IPCBENCH_PLANT_DELAY_NS, and that every N-th send of an endpoint, N from
// IPCBENCH_PLANT_CORRUPT_EVERY, carries a copy of its message with one byte flipped (both read
// once per endpoint, when it opens; unset or 0: neither). Compiled into the registry only when
// CMake's IPCBENCH_PLANT_DELAY is ON, for the mechanisms it names; never in a normal build.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <span>
#include <utility>
#include <vector>

#include "mechanisms/adapter.hpp"
#include "sys/system.hpp"

namespace ipcbench {

inline std::int64_t planted_number(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoll(v, nullptr, 10) : 0;
}

template <endpoint E>
class delayed_endpoint {
 public:
  explicit delayed_endpoint(E inner)
      : inner_(std::move(inner)),
        delay_ns_(planted_number("IPCBENCH_PLANT_DELAY_NS")),
        corrupt_every_(planted_number("IPCBENCH_PLANT_CORRUPT_EVERY")) {}
  io_status send(std::span<const std::byte> out) {
    if (delay_ns_ > 0) {
      const std::int64_t until = now_ns() + delay_ns_;
      while (now_ns() < until) {
      }
    }
    if (corrupt_every_ > 0 && ++sent_ % corrupt_every_ == 0 && !out.empty()) {
      damaged_.assign(out.begin(), out.end());
      damaged_[damaged_.size() - 1] ^= std::byte{0x5a};  // the payload's last byte
      return inner_.send(damaged_);
    }
    return inner_.send(out);
  }
  std::ptrdiff_t receive(std::span<std::byte> in) { return inner_.receive(in); }

 private:
  E inner_;
  std::int64_t delay_ns_;
  std::int64_t corrupt_every_;
  std::int64_t sent_ = 0;
  std::vector<std::byte> damaged_;
};

template <channel C>
class delayed_channel : public C {
 public:
  using C::C;
  static mechanism_traits describe() { return C::describe(); }
  auto open(role r) { return delayed_endpoint<decltype(C::open(r))>(C::open(r)); }
};

}  // namespace ipcbench
