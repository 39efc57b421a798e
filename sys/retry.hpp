// The one EINTR idiom (fmt's FMT_RETRY, iceoryx's IOX_POSIX_CALL): a call a signal interrupted
// is made again. Header-only and allocation-free: usable on both sides of a fork, on timed paths
// and in noexcept code.
//
// Only where EINTR means "nothing happened, do it again". Where it is a result of its own it is
// handled by hand: a wait that returns to its caller to re-check a word (FUTEX_WAIT, the shm
// sleep_result::interrupted), a connect(2) that goes on in the background, close(2) (never
// retried). A wait with a deadline computes its timeout inside the call, so that every try gets
// what is left.
#pragma once

#include <cerrno>
#include <utility>

namespace ipcbench {

// Calls call() until it returns something other than a negative value with error() == EINTR;
// returns that last result, with errno as the last call left it. `error` reads the error number
// of an API that keeps its own (zmq_errno).
template <class F, class E>
auto retry_on_eintr(F&& call, E&& error) {
  for (;;) {
    auto r = call();
    if (!(r < 0 && error() == EINTR)) return r;
  }
}

// For calls that return a negative value (-1) and set errno.
template <class F>
auto retry_on_eintr(F&& call) {
  return retry_on_eintr(std::forward<F>(call), [] { return errno; });
}

}  // namespace ipcbench
