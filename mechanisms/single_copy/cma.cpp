#include "mechanisms/single_copy/cma.hpp"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "mechanisms/single_copy/notify_socket.hpp"
#include "sys/child.hpp"
#include "sys/error.hpp"
#include "sys/retry.hpp"

namespace ipcbench {
namespace {

using single_copy::record;
using single_copy::record_kind;

// Exit codes of the probe's child other than an errno.
constexpr int kWrongBytes = 200;
constexpr int kNoGo = 201;

// Lets `pid` read this process's memory under Yama's ptrace_scope 1 (siblings may not
// otherwise). A kernel without Yama refuses the option (EINVAL) and needs none.
void allow_ptracer(pid_t pid) {
  if (::prctl(PR_SET_PTRACER, static_cast<unsigned long>(pid), 0, 0, 0) != 0 && errno != EINVAL)
    throw_errno("prctl(PR_SET_PTRACER, " + std::to_string(pid) + ")");
}

// The marker the probe's child reads from its parent: written after fork, so the child's own
// copy of it is still the old text and only a real cross-process read sees the new one.
char probe_marker[32] = "written before fork";
constexpr char kAfterFork[] = "written after fork";

}  // namespace

std::string yama_ptrace_scope() {
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  std::string v;
  if (!(in >> v)) return "absent (no Yama)";
  return v;
}

std::string probe_process_vm_readv() {
  // A socketpair, not a pipe: the go is sent with MSG_NOSIGNAL, so a child that died first is a
  // value here, never a SIGPIPE that kills the coordinator.
  auto [go_out, go_in] = make_socketpair(SOCK_STREAM);
  const int go_fd = go_in.get();
  char* const marker = probe_marker;
  child_process child = child_process::fork([go_fd, marker] {
    char b;
    if (retry_on_eintr([&] { return ::read(go_fd, &b, 1); }) != 1) return kNoGo;
    char got[sizeof kAfterFork];
    iovec local{got, sizeof got};
    iovec remote{marker, sizeof got};
    const ssize_t n = ::process_vm_readv(::getppid(), &local, 1, &remote, 1, 0);
    if (n < 0) return errno;
    return n == static_cast<ssize_t>(sizeof got) && std::memcmp(got, kAfterFork, sizeof got) == 0
               ? 0
               : kWrongBytes;
  });
  go_in.reset();
  // Through a volatile pointer: the store must reach memory before the child reads it, though
  // nothing in this process reads it again.
  volatile char* m = probe_marker;
  for (std::size_t i = 0; i < sizeof kAfterFork; ++i) m[i] = kAfterFork[i];
  std::string why;
  try {
    allow_ptracer(child.pid());
  } catch (const std::exception& e) {
    why = e.what();
  }
  const char b = 'g';
  (void)send_all(go_out.get(), std::as_bytes(std::span(&b, 1)));
  const auto status = child.wait_for(std::chrono::seconds(10));
  allow_ptracer(0);  // nobody may read the coordinator any more
  if (!why.empty()) return why + "; /proc/sys/kernel/yama/ptrace_scope: " + yama_ptrace_scope();
  if (!status) return "the probe's child did not answer within 10 s";
  if (!WIFEXITED(*status)) return "the probe's child was " + describe_wait_status(*status);
  const int code = WEXITSTATUS(*status);
  if (code == 0) return {};
  std::string what;
  if (code == kWrongBytes)
    what = "process_vm_readv read other bytes than the parent's";
  else if (code == kNoGo)
    what = "the probe's child never got its go";
  else
    what = "process_vm_readv from the parent in a forked child: " +
           std::error_code(code, std::system_category()).message() + " (errno " +
           std::to_string(code) + ")";
  return what + "; /proc/sys/kernel/yama/ptrace_scope: " + yama_ptrace_scope();
}

io_status cma_endpoint::send(std::span<const std::byte> msg) {
  record r;
  r.kind = record_kind::message;
  r.addr = reinterpret_cast<std::uintptr_t>(msg.data());
  r.len = msg.size();
  r.seq = sent_;
  if (single_copy::send_record(sock_.get(), r) != io_status::ok) return io_status::closed;
  // The partner reads the bytes where they lie: the buffer is ours again only after its ack.
  record a;
  if (single_copy::expect_record(sock_.get(), record_kind::ack, sent_, a, "cma send") !=
      io_status::ok)
    return io_status::closed;
  ++sent_;
  return io_status::ok;
}

std::ptrdiff_t cma_endpoint::receive(std::span<std::byte> buf) {
  record r;
  if (single_copy::expect_record(sock_.get(), record_kind::message, received_, r, "cma receive") !=
      io_status::ok)
    return kPeerGone;
  if (r.len > buf.size())
    throw std::runtime_error("cma: message " + std::to_string(r.seq) + " of " +
                             std::to_string(r.len) + " bytes does not fit the receive buffer of " +
                             std::to_string(buf.size()));
  // process_vm_readv may move fewer bytes than asked (it stops at a fault, and one call moves
  // at most MAX_RW_COUNT): go on from where it stopped.
  std::size_t done = 0;
  while (done < r.len) {
    iovec local{buf.data() + done, r.len - done};
    iovec remote{reinterpret_cast<void*>(r.addr + done), r.len - done};
    const ssize_t n =
        retry_on_eintr([&] { return ::process_vm_readv(partner_, &local, 1, &remote, 1, 0); });
    if (n < 0) {
      if (errno == ESRCH) return kPeerGone;  // the partner has exited
      throw_errno("process_vm_readv(pid " + std::to_string(partner_) + ", " +
                  std::to_string(r.len - done) +
                  " bytes); /proc/sys/kernel/yama/ptrace_scope: " + yama_ptrace_scope());
    }
    if (n == 0)
      throw std::runtime_error("cma: process_vm_readv(pid " + std::to_string(partner_) +
                               ") read nothing of the " + std::to_string(r.len - done) +
                               " bytes left");
    done += static_cast<std::size_t>(n);
  }
  ++received_;
  return single_copy::acknowledge(sock_.get(), r);
}

mechanism_traits cma_channel::describe() {
  if (std::string why = probe_process_vm_readv(); !why.empty()) throw std::runtime_error(why);
  mechanism_traits t;
  t.id = "cma";
  t.mechanism = "cma";
  t.variant = "default";
  t.family = "cross memory attach";
  t.kind = channel_kind::message;
  t.related_only = true;
  t.single_copy = true;
  t.wait = "blocking recv(2) of the notify record (SOCK_SEQPACKET socketpair)";
  t.description =
      "Cross Memory Attach: the receiver copies each message straight out of the sender's "
      "buffer with process_vm_readv(2) (one copy), told where by a notify record over a Unix "
      "socketpair, and acks it so the sender may reuse its buffer";
  t.notes["copies"] = "1: process_vm_readv(2) from the sender's buffer into the receiver's";
  t.notes["yama_ptrace_scope"] = yama_ptrace_scope();
  t.notes["ptracer"] =
      "each peer allows its partner with prctl(PR_SET_PTRACER, partner pid) at open (Yama "
      "ptrace_scope 1 forbids siblings otherwise; 2 and 3 forbid it regardless)";
  t.notes["ack"] = "send() returns after the receiver's ack: one message in flight per direction";
  return t;
}

cma_channel::cma_channel(const channel_config& cfg) : sockets_(cfg.peers_are_threads) {}

void cma_channel::opened() noexcept {
  sockets_.release();
}

cma_endpoint cma_channel::open(role r) {
  unique_fd sock = sockets_.take(r);
  record hello;
  hello.kind = record_kind::hello;
  hello.pid = ::getpid();
  record theirs;
  if (single_copy::send_record(sock.get(), hello) != io_status::ok ||
      single_copy::expect_record(sock.get(), record_kind::hello, 0, theirs, "cma open") !=
          io_status::ok)
    throw std::runtime_error("cma: the partner closed its end before its hello");
  // Two threads of one process read their own memory: no permission to give.
  if (theirs.pid != hello.pid) allow_ptracer(theirs.pid);
  return cma_endpoint(std::move(sock), theirs.pid);
}

}  // namespace ipcbench
