// Unique names for kernel IPC objects, the one generator in the suite. Every name and System V
// key carries a 16-bit scope: the low 16 bits of the key, and "ipcbench-<scope>-" at the start
// of a POSIX name. The scope is read once from the environment variable IPCBENCH_SCOPE (four hex
// digits), so processes a run starts share it, and otherwise is the low 16 bits of the pid. A
// test sets its own scope and counts the objects that carry it, whatever runs beside it; the
// sweep of a killed run checks a System V object's scope before it removes it. The owner creates
// every name exclusively (O_EXCL, IPC_CREAT | IPC_EXCL). Both sides of a fork.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ipcbench::names {

inline constexpr const char* kScopeVariable = "IPCBENCH_SCOPE";

// This process's scope (see above).
std::uint16_t scope() noexcept;
// Sets this process's scope and exports it in IPCBENCH_SCOPE for the processes it starts.
void set_scope(std::uint16_t s);
// "ipcbench-<scope as 4 hex digits>-": how every POSIX name of the scope starts (after its '/').
std::string scope_prefix(std::uint16_t s = scope());

// "/ipcbench-<scope>-<pid>-<8 random hex digits>", then "-<what>" when `what` is not empty.
// Throws std::system_error when getrandom(2) fails.
std::string unique_posix_name(std::string_view what = {});

// A System V key of this scope: random high bits, the scope in the low 16, never IPC_PRIVATE.
key_t unique_key();
// Whether `key` carries scope `s`.
constexpr bool key_in_scope(key_t key, std::uint16_t s) noexcept {
  return key != 0 && (static_cast<std::uint32_t>(key) & 0xffffu) == s;
}

// Calls `get(key)` (msgget, semget or shmget with IPC_CREAT | IPC_EXCL) with fresh keys of this
// scope until one is free; returns the id and stores the key. Throws std::system_error naming
// `what` and the key on any error but EEXIST, or after 64 keys in use.
int create_with_unique_key(const std::function<int(key_t)>& get, std::string_view what, key_t& key);

// "0x1234abcd", for error messages.
std::string key_text(key_t key);

}  // namespace ipcbench::names
