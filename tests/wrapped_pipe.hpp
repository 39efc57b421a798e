// A pipe whose endpoints the tests wrap to misbehave or to note what passes:
// wrapped_pipe<Endpoint> is the pipe mechanism with each end made into
// `Endpoint(stream_endpoint, bool producer)`, reported under `Endpoint::kId`.
#pragma once

#include "mechanisms/pipes/pipe.hpp"

namespace ipcbench::test {

template <class Endpoint>
class wrapped_pipe {
 public:
  static mechanism_traits describe() {
    auto t = pipe_channel::describe();
    t.id = Endpoint::kId;
    return t;
  }
  explicit wrapped_pipe(const channel_config& cfg) : inner_(cfg) {}
  void opened() noexcept { inner_.opened(); }
  Endpoint open(role r) { return Endpoint(inner_.open(r), r == role::producer); }

 private:
  pipe_channel inner_;
};

}  // namespace ipcbench::test
