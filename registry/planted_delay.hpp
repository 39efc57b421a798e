// Test-only: a known slowdown to plant, for measuring what the regression gate catches. A channel
// that is the mechanism it wraps, with the same id and traits, except that every send() first
// busy-waits the number of nanoseconds in the environment variable IPCBENCH_PLANT_DELAY_NS (read
// once per endpoint, when it opens; unset or 0: no wait). Compiled into the registry only when
// CMake's IPCBENCH_PLANT_DELAY is ON, for the mechanisms it names; never in a normal build.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <span>
#include <utility>

#include "mechanisms/adapter.hpp"
#include "sys/system.hpp"

namespace ipcbench {

inline std::int64_t planted_delay_ns() {
  const char* v = std::getenv("IPCBENCH_PLANT_DELAY_NS");
  return v != nullptr ? std::strtoll(v, nullptr, 10) : 0;
}

template <endpoint E>
class delayed_endpoint {
 public:
  explicit delayed_endpoint(E inner) : inner_(std::move(inner)), delay_ns_(planted_delay_ns()) {}
  io_status send(std::span<const std::byte> out) {
    if (delay_ns_ > 0) {
      const std::int64_t until = now_ns() + delay_ns_;
      while (now_ns() < until) {
      }
    }
    return inner_.send(out);
  }
  std::ptrdiff_t receive(std::span<std::byte> in) { return inner_.receive(in); }

 private:
  E inner_;
  std::int64_t delay_ns_;
};

template <channel C>
class delayed_channel : public C {
 public:
  using C::C;
  static mechanism_traits describe() { return C::describe(); }
  auto open(role r) { return delayed_endpoint<decltype(C::open(r))>(C::open(r)); }
};

}  // namespace ipcbench
