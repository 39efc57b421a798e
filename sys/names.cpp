#include "names.hpp"

#include <sys/ipc.h>
#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "error.hpp"
#include "retry.hpp"

namespace ipcbench::names {
namespace {

std::uint32_t random_u32() {
  std::uint32_t v = 0;
  for (;;) {
    const ssize_t n = retry_on_eintr([&] { return ::getrandom(&v, sizeof v, 0); });
    if (n == static_cast<ssize_t>(sizeof v)) return v;
    if (n < 0) throw_errno("getrandom");
  }
}

// -1 until first asked; then the scope. An atomic so that a forked child sees a settled value.
std::atomic<int> g_scope{-1};

int scope_from_environment() noexcept {
  const char* v = std::getenv(kScopeVariable);
  if (v != nullptr && std::strlen(v) == 4) {
    unsigned s = 0;
    const auto [end, ec] = std::from_chars(v, v + 4, s, 16);
    if (ec == std::errc() && end == v + 4) return static_cast<int>(s);
  }
  return static_cast<int>(static_cast<std::uint32_t>(::getpid()) & 0xffffu);
}

}  // namespace

std::uint16_t scope() noexcept {
  int s = g_scope.load(std::memory_order_relaxed);
  if (s < 0) {
    s = scope_from_environment();
    g_scope.store(s, std::memory_order_relaxed);
  }
  return static_cast<std::uint16_t>(s);
}

void set_scope(std::uint16_t s) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", static_cast<unsigned>(s));
  check(::setenv(kScopeVariable, buf, 1), "setenv(IPCBENCH_SCOPE)");
  g_scope.store(s, std::memory_order_relaxed);
}

std::string scope_prefix(std::uint16_t s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "ipcbench-%04x-", static_cast<unsigned>(s));
  return buf;
}

std::string unique_posix_name(std::string_view what) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/%s%d-%08x", scope_prefix().c_str(), static_cast<int>(::getpid()),
                static_cast<unsigned>(random_u32()));
  std::string name = buf;
  if (!what.empty()) name.append("-").append(what);
  return name;
}

key_t unique_key() {
  for (;;) {
    const auto key = static_cast<key_t>((random_u32() & 0x7fff0000u) | scope());
    if (key != IPC_PRIVATE) return key;
  }
}

std::string key_text(key_t key) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(key));
  return buf;
}

int create_with_unique_key(const std::function<int(key_t)>& get, std::string_view what,
                           key_t& key) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    key = unique_key();
    const int id = get(key);
    if (id >= 0) return id;
    if (errno != EEXIST) throw_errno(std::string(what) + "(key " + key_text(key) + ")");
  }
  throw_errno(std::string(what) + "(64 keys of scope in use)", EEXIST);
}

}  // namespace ipcbench::names
