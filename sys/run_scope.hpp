// run_scope holds what the channels of one run may share: a helper that costs more to start than
// a repetition takes to run (iceoryx's RouDi: about 125 ms to start, against about 70 ms from
// one typical repetition's start to the next's on the 2-vCPU VM). The first channel that needs
// one makes it; later channels of the run use the same one, and it goes when the scope does. The
// bench program holds one for its whole run (bench/session.cpp); without one (a test, a probe,
// one channel on its own) each channel starts its own. Coordinator side, one thread.
#pragma once

#include <memory>
#include <typeindex>
#include <utility>
#include <vector>

namespace ipcbench {

class run_scope {
 public:
  // What a scope holds: destroyed with the scope, newest first.
  struct member {
    virtual ~member() = default;
  };

  run_scope() = default;
  run_scope(const run_scope&) = delete;
  run_scope& operator=(const run_scope&) = delete;
  ~run_scope() {
    while (!members_.empty()) members_.pop_back();
  }

  // The scope's member of type T (derived from member), made by `make()` (returning
  // std::unique_ptr<T>) the first time it is asked for. A `make` that throws leaves none.
  template <class T, class Make>
  T& get(Make&& make) {
    for (auto& [type, m] : members_)
      if (type == std::type_index(typeid(T))) return static_cast<T&>(*m);
    std::unique_ptr<T> made = std::forward<Make>(make)();
    T& ref = *made;
    members_.emplace_back(std::type_index(typeid(T)), std::move(made));
    return ref;
  }

 private:
  std::vector<std::pair<std::type_index, std::unique_ptr<member>>> members_;
};

}  // namespace ipcbench
