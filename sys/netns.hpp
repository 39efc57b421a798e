// Two network namespaces joined by a veth pair, as two containers on one host talk: made with
// unshare(CLONE_NEWNET) in a short-lived thread and configured over rtnetlink, with no name in
// /run/netns. Each namespace lives only as long as a descriptor or a task refers to it, so the
// kernel removes both, and the veth pair with them, on every exit path of whoever holds them,
// SIGKILL included: nothing for a journal to sweep. Needs CAP_SYS_ADMIN (unshare, setns) and
// CAP_NET_ADMIN (the veth pair); both sides of a fork.
#pragma once

#include <string>

#include "unique_fd.hpp"

namespace ipcbench {

struct veth_namespaces {
  unique_fd a, b;  // /proc/thread-self/ns/net of each namespace
  // The veth end in each (MTU 1500, up) and its IPv4 address, /24; the loopback is up in both.
  static constexpr const char* kIfA = "ipcb0";
  static constexpr const char* kIfB = "ipcb1";
  static constexpr const char* kAddrA = "10.250.0.1";
  static constexpr const char* kAddrB = "10.250.0.2";
  // Their interface indices, different from each other (see make_veth_namespaces).
  static constexpr int kIndexA = 10;
  static constexpr int kIndexB = 11;
};

// Makes the pair and returns once both ends are running (until then a packet sent is dropped).
// The calling thread's own namespace is not changed. Throws std::system_error
// naming the call (EPERM without the capabilities).
veth_namespaces make_veth_namespaces();

// Moves the calling thread into the network namespace `ns_fd` (setns(2)); a socket made after
// this lives there. Throws std::system_error.
void enter_netns(int ns_fd);

}  // namespace ipcbench
