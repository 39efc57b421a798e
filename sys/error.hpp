// Checked system calls: failures become std::system_error naming the call and its key argument.
// Usable on both sides of a fork.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

namespace ipcbench {

[[noreturn]] inline void throw_errno(std::string_view what, int err = errno) {
  throw std::system_error(err, std::system_category(), std::string(what));
}

// For APIs that return the error number instead of setting errno (pthread_*, posix_spawn*).
inline void check_rc(int rc, std::string_view what) {
  if (rc != 0) throw_errno(what, rc);
}

// For calls that return -1 and set errno.
template <class T>
T check(T rc, std::string_view what) {
  if (rc == static_cast<T>(-1)) throw_errno(what);
  return rc;
}

}  // namespace ipcbench
