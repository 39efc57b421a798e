#include "ipc_name.hpp"

#include <sys/ipc.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "sys/error.hpp"

namespace ipcbench {
namespace {

std::uint32_t random_u32() {
  std::uint32_t v = 0;
  for (;;) {
    const ssize_t n = ::getrandom(&v, sizeof v, 0);
    if (n == static_cast<ssize_t>(sizeof v)) return v;
    if (n < 0 && errno != EINTR) throw_errno("getrandom");
  }
}

}  // namespace

std::string unique_posix_name() {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/ipcbench-%d-%08x", static_cast<int>(::getpid()),
                static_cast<unsigned>(random_u32()));
  return buf;
}

std::string key_text(key_t key) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(key));
  return buf;
}

int create_with_unique_key(const std::function<int(key_t)>& get, std::string_view what,
                           key_t& key) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    // The pid in the high bits keeps concurrent runs apart; the random rest makes reuse unlikely.
    key = static_cast<key_t>(((static_cast<std::uint32_t>(::getpid()) & 0x7fff) << 16) ^
                             (random_u32() & 0x7fffffff));
    if (key == IPC_PRIVATE) continue;
    const int id = get(key);
    if (id >= 0) return id;
    if (errno != EEXIST) throw_errno(std::string(what) + "(key " + key_text(key) + ")");
  }
  throw_errno(std::string(what) + "(64 random keys in use)", EEXIST);
}

}  // namespace ipcbench
