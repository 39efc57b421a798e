// The plumbing of the tests' pipe-backed fake channels: a pipe each way, made in the coordinator
// before fork; each role takes its two ends as Endpoint(in, out, is_producer), and opened()
// drops the coordinator's copies, as a real channel does.
#pragma once

#include <utility>

#include "mechanisms/adapter.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::test {

template <class Endpoint>
class two_pipes {
 public:
  two_pipes() : forward_(make_pipe()), back_(make_pipe()) {}
  void opened() noexcept {
    forward_ = {};
    back_ = {};
  }
  Endpoint open(role r) {
    if (r == role::producer)
      return Endpoint(std::move(back_.read_end), std::move(forward_.write_end), true);
    return Endpoint(std::move(forward_.read_end), std::move(back_.write_end), false);
  }

 private:
  fd_pair forward_, back_;
};

}  // namespace ipcbench::test
