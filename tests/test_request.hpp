// The run request of the harness tests that check data and cleanup, not speed: a few messages
// (8 from 1 MiB up, else 40) after 3 of warm-up, peers on two CPUs where there are two.
#pragma once

#include <chrono>
#include <cstddef>

#include "harness/placement.hpp"
#include "harness/runner.hpp"

namespace ipcbench::test {

inline run_request small_request(pattern p, std::size_t size) {
  run_request req;
  req.pat = p;
  req.message_size = size;
  req.place = choose_cpus(placement::cross).impossible.empty() ? placement::cross : placement::none;
  req.fixed_messages = size >= (1u << 20) ? 8 : 40;
  req.warmup_messages = 3;
  req.timeout = std::chrono::seconds(20);
  return req;
}

}  // namespace ipcbench::test
