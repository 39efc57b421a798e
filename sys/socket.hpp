// Socket calls shared by the socket mechanisms: checked socket/bind/listen/accept/connect that
// retry EINTR and throw std::system_error naming the call and the address. Both sides of a fork.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <filesystem>
#include <string>

#include "unique_fd.hpp"

namespace ipcbench {

unique_fd make_socket(int domain, int type);
void bind_to(int fd, const sockaddr* addr, socklen_t len, const std::string& what);
unique_fd accept_one(int listener, const std::string& what);
void connect_to(int fd, const sockaddr* addr, socklen_t len, const std::string& what);
// A new socket connected to `addr`, for a peer that may connect before its partner listens:
// ENOENT and ECONNREFUSED mean "not listening yet" and are retried with a short, growing sleep
// (setup only). A partner that never listens leaves this to the coordinator's watchdog, which
// kills both peers after its deadline. Other errors throw std::system_error naming `what`.
unique_fd connect_when_listening(int domain, const sockaddr* addr, socklen_t len,
                                 const std::string& what);
void set_int_option(int fd, int level, int name, int value, const char* what);
int get_int_option(int fd, int level, int name, const char* what);

// A TCP socket listening on 127.0.0.1 at a port the kernel picks, written to `a`, with room in
// its backlog for `backlog` connections. Throws std::system_error naming the call.
unique_fd listen_on_loopback(sockaddr_in& a, int backlog);

// The AF_UNIX address of a path; throws std::length_error when it does not fit sun_path.
sockaddr_un unix_address(const std::filesystem::path& p);

// The largest datagram send(2) accepts on the connected socket `tx`, found by bisection in
// [1, limit] with non-blocking sends; every accepted probe is drained from `rx` (which may be
// `tx` for a socket connected to itself). EMSGSIZE means too large; other errors throw.
std::size_t probe_max_datagram(int tx, int rx, std::size_t limit);

}  // namespace ipcbench
