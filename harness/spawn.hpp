// The spawn process model's peer side: the command line of a separately launched peer (built by
// the coordinator, read back by the bench binary's hidden peer mode) and that peer's life.
//
// The control channel is the same socketpair as for a forked peer: the coordinator keeps its
// end and the child's end survives execve (its FD_CLOEXEC is cleared in that child only, see
// child_process::spawn), its number passed as --peer-control-fd. An inherited socketpair, not
// a socket path, because it needs no name, no connect race and no cleanup, and it keeps the
// fork model's behaviour exactly: either side's death reads as EOF on the other's end.
//
// Peer mode, first argument --peer (never in --help):
//   <program> --peer=<id> --role=producer|consumer --peer-control-fd=N --cpu=C
//             --coordinator-pid=P --request=<json> --rendezvous=<json>
// where the request carries what run_peer() reads: pattern, message size, timeout, lossy (its
// JSON form is to_json(run_request) in harness/protocol.hpp).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/control.hpp"
#include "harness/session.hpp"
#include "mechanisms/adapter.hpp"

namespace ipcbench {

// Everything a launched peer needs.
struct spawned_peer {
  std::string mechanism_id;
  role r = role::producer;
  int control_fd = -1;
  int cpu = -1;  // -1: not pinned
  pid_t coordinator = -1;
  run_request req;  // pattern, message_size and timeout travel; the rest stays behind
  nlohmann::json rendezvous;
};

// Opens the endpoint by the rendezvous and runs the peer loop (the registry's entry for a
// named channel). Throws on failure.
using attach_fn =
    std::function<int(const nlohmann::json& rendezvous, role, control_link&, const run_request&)>;

// Coordinator: the arguments after the program name.
std::vector<std::string> spawned_peer_args(const spawned_peer& p);

// Whether argv asks for the peer mode (argv[1] starts with --peer=).
bool is_peer_invocation(int argc, char** argv) noexcept;
// Peer mode: reads spawned_peer_args() back. Throws std::invalid_argument naming the bad item.
spawned_peer parse_spawned_peer(int argc, char** argv);

// Peer mode, the whole life of the peer: dies with the coordinator (PR_SET_PDEATHSIG; exits 71
// when it is already gone), takes the control channel, pins itself, runs `attach_and_run`; a
// failure is sent to the coordinator as an "error" message and exits 1. Returns the exit code.
int run_spawned_peer(const spawned_peer& p, const attach_fn& attach_and_run);

}  // namespace ipcbench
