#include "spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string_view>

#include "harness/protocol.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

template <class T>
T number(std::string_view text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw std::invalid_argument("'" + std::string(text) + "' is not a number");
  return v;
}

}  // namespace

std::vector<std::string> spawned_peer_args(const spawned_peer& p) {
  return {"--peer=" + p.mechanism_id,
          std::string("--role=") + to_string(p.r),
          "--peer-control-fd=" + std::to_string(p.control_fd),
          "--cpu=" + std::to_string(p.cpu),
          "--coordinator-pid=" + std::to_string(p.coordinator),
          "--request=" + nlohmann::json(p.req).dump(),
          "--rendezvous=" + p.rendezvous.dump()};
}

bool is_peer_invocation(int argc, char** argv) noexcept {
  return argc > 1 && std::strncmp(argv[1], "--peer=", 7) == 0;
}

spawned_peer parse_spawned_peer(int argc, char** argv) {
  spawned_peer p;
  bool have_role = false, have_fd = false, have_pid = false, have_req = false, have_rv = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto eq = a.find('=');
    if (a.substr(0, 2) != "--" || eq == std::string_view::npos)
      throw std::invalid_argument("peer mode: unexpected argument '" + std::string(a) + "'");
    const std::string_view key = a.substr(0, eq), value = a.substr(eq + 1);
    try {
      if (key == "--peer") {
        p.mechanism_id = value;
      } else if (key == "--role") {
        if (value != "producer" && value != "consumer")
          throw std::invalid_argument("must be producer or consumer");
        p.r = value == "producer" ? role::producer : role::consumer;
        have_role = true;
      } else if (key == "--peer-control-fd") {
        p.control_fd = number<int>(value);
        have_fd = true;
      } else if (key == "--cpu") {
        p.cpu = number<int>(value);
      } else if (key == "--coordinator-pid") {
        p.coordinator = number<pid_t>(value);
        have_pid = true;
      } else if (key == "--request") {
        p.req = nlohmann::json::parse(value).get<run_request>();
        have_req = true;
      } else if (key == "--rendezvous") {
        p.rendezvous = nlohmann::json::parse(value);
        have_rv = true;
      } else {
        throw std::invalid_argument("unknown option");
      }
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument("peer mode: " + std::string(key) + ": " + e.what());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("peer mode: " + std::string(key) + ": " + e.what());
    }
  }
  if (p.mechanism_id.empty() || !have_role || !have_fd || !have_pid || !have_req || !have_rv)
    throw std::invalid_argument(
        "peer mode needs --peer, --role, --peer-control-fd, --coordinator-pid, --request and "
        "--rendezvous");
  return p;
}

int run_spawned_peer(const spawned_peer& p, const attach_fn& attach_and_run) {
  // Also set before execve by child_process::spawn; again here so a peer started any other way
  // dies with its coordinator too. The check catches a coordinator that died before the prctl.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || ::getppid() != p.coordinator) return 71;
  struct stat st {};
  if (::fstat(p.control_fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
    std::fprintf(stderr, "ipcbench: peer mode: --peer-control-fd=%d is not an open socket\n",
                 p.control_fd);
    return 2;
  }
  // Nothing this peer starts may inherit the control channel.
  if (::fcntl(p.control_fd, F_SETFD, FD_CLOEXEC) < 0) return 2;
  control_link link{unique_fd(p.control_fd)};
  try {
    if (p.cpu >= 0) pin_to_cpu(p.cpu);
    return attach_and_run(p.rendezvous, p.r, link, p.req);
  } catch (const std::exception& e) {
    try {
      send_message(link, peer_error{e.what()});
    } catch (...) {
    }
    return 1;
  }
}

}  // namespace ipcbench
