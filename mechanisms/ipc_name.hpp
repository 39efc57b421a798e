// Unique names for kernel IPC objects: "/ipcbench-<pid>-<random>" for POSIX objects (queues,
// semaphores) and random SysV keys, so parallel runs and other users never collide; the owner
// creates them exclusively (O_EXCL, IPC_CREAT | IPC_EXCL). Both sides of a fork.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

namespace ipcbench {

// "/ipcbench-<pid>-<8 random hex digits>". Throws std::system_error when getrandom(2) fails.
std::string unique_posix_name();

// Calls `get(key)` (msgget, semget, shmget with IPC_CREAT | IPC_EXCL) with fresh random keys
// until one is free; returns the id and stores the key. Throws std::system_error naming `what`
// and the key on any error but EEXIST, or after many keys in use.
int create_with_unique_key(const std::function<int(key_t)>& get, std::string_view what, key_t& key);

// "0x1234abcd", for error messages.
std::string key_text(key_t key);

}  // namespace ipcbench
