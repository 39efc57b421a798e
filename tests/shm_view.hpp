// What the POSIX shm tests use to look into a channel's ring from outside it: the segment mapped
// a second time, and the ring's words read as its peers read them.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "mechanisms/shm/shm_segment.hpp"
#include "sys/mapping.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::test {

// The segment of a POSIX shm channel, mapped a second time to look into the ring (before
// opened(), which unlinks the name).
template <class C>
mapping map_view(const C& ch) {
  const auto name = ch.rendezvous().at("name").template get<std::string>();
  unique_fd fd(::shm_open(name.c_str(), O_RDWR, 0));
  if (!fd) throw std::runtime_error("shm_open(" + name + ")");
  return shm::map_segment(fd.get(), name);
}

inline std::uint32_t load(std::uint32_t& w) {
  return std::atomic_ref<std::uint32_t>(w).load(std::memory_order_acquire);
}
inline std::uint64_t load64(std::uint64_t& w) {
  return std::atomic_ref<std::uint64_t>(w).load(std::memory_order_acquire);
}

}  // namespace ipcbench::test
