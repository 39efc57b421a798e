// Claim 5: message queues. System V (msgop(2)): a message carries at most msgmax bytes, a queue
// at most msgmnb; msgrcv(2) selects by type. POSIX (mq_overview(7)): mq_open works, a queue
// holds at most msg_max messages of at most msgsize_max bytes (defaults 10 and 8192).
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "probe/probe.hpp"
#include "sys/cleanup.hpp"
#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/system.hpp"

namespace ipcbench::probes {
namespace {

constexpr long long kLargestTried = 16 << 20;

// A System V queue, removed with IPC_RMID when it goes out of scope.
class sysv_queue {
 public:
  sysv_queue()
      : id_([] {
          key_t key = 0;
          return names::create_with_unique_key(
              [](key_t k) { return ::msgget(k, IPC_CREAT | IPC_EXCL | 0600); }, "msgget", key);
        }()),
        guard_(cleanup::kind::sysv_msg, id_) {}
  sysv_queue(const sysv_queue&) = delete;
  sysv_queue& operator=(const sysv_queue&) = delete;
  ~sysv_queue() { ::msgctl(id_, IPC_RMID, nullptr); }
  int id() const noexcept { return id_; }

 private:
  int id_;
  cleanup::guard guard_;
};

// msgsnd with IPC_NOWAIT; "ok" or the errno name.
std::string try_send(int id, std::vector<char>& buf, std::size_t size, long type) {
  std::memcpy(buf.data(), &type, sizeof type);
  if (::msgsnd(id, buf.data(), size, IPC_NOWAIT) == 0) return "ok";
  return errno_name(errno);
}

outcome sysv_limits(const deadline&) {
  const auto msgmax = read_integer("/proc/sys/kernel/msgmax");
  const auto msgmnb = read_integer("/proc/sys/kernel/msgmnb");
  if (!msgmax || !msgmnb)
    return {nullptr, verdict::not_applicable, "/proc/sys/kernel/msgmax or msgmnb cannot be read"};
  if (*msgmax > kLargestTried)
    return {{{"msgmax", *msgmax}, {"msgmnb", *msgmnb}},
            verdict::not_applicable,
            "msgmax is above the 16 MiB this probe is willing to allocate"};
  sysv_queue q;
  std::vector<char> buf(sizeof(long) + static_cast<std::size_t>(*msgmax) + 1, 'm');
  const std::string at_max = try_send(q.id(), buf, static_cast<std::size_t>(*msgmax), 1);
  if (at_max == "ok")
    ::msgrcv(q.id(), buf.data(), static_cast<std::size_t>(*msgmax), 0, IPC_NOWAIT);
  const std::string above = try_send(q.id(), buf, static_cast<std::size_t>(*msgmax) + 1, 1);
  outcome o;
  o.value = {{"msgmax", *msgmax},
             {"msgmnb", *msgmnb},
             {"msgsnd(msgmax)", at_max},
             {"msgsnd(msgmax+1)", above}};
  o.result = at_max == "ok" && above == "EINVAL" ? verdict::holds : verdict::does_not_hold;
  o.detail = "a message of msgmax = " + std::to_string(*msgmax) + " bytes: " + at_max +
             "; one byte more: " + above +
             "; a queue holds at most msgmnb = " + std::to_string(*msgmnb) +
             " bytes (textbook defaults 8192 and 16384)";
  if (at_max == "EAGAIN") o.detail += "; msgmax is larger than msgmnb here";
  return o;
}

outcome sysv_by_type(const deadline&) {
  sysv_queue q;
  struct msg {
    long type;
    char text[8];
  };
  const std::vector<std::pair<long, char>> sent = {{1, 'a'}, {2, 'b'}, {3, 'c'}, {1, 'd'}};
  for (const auto& [type, ch] : sent) {
    msg m{type, {ch}};
    check(::msgsnd(q.id(), &m, 1, IPC_NOWAIT), "msgsnd");
  }
  // msgtyp 3: the first message of type 3; 0: the first in the queue; -2: the first of the
  // lowest type <= 2.
  std::string received;
  for (long msgtyp : {3L, 0L, -2L, 0L}) {
    msg m{};
    const ssize_t n = ::msgrcv(q.id(), &m, sizeof m.text, msgtyp, IPC_NOWAIT);
    if (!received.empty()) received += ", ";
    received += "msgtyp " + std::to_string(msgtyp) + " -> ";
    received += n == 1 ? std::to_string(m.type) + m.text[0] : errno_name(errno);
  }
  const std::string expected = "msgtyp 3 -> 3c, msgtyp 0 -> 1a, msgtyp -2 -> 1d, msgtyp 0 -> 2b";
  outcome o;
  o.value = {{"sent", "1a, 2b, 3c, 1d"}, {"received", received}};
  o.result = received == expected ? verdict::holds : verdict::does_not_hold;
  o.detail = received == expected
                 ? "msgrcv took the type-3 message first, then the oldest, then the lowest type "
                   "<= 2: messages leave out of their send order when selected by type"
                 : "expected " + expected;
  return o;
}

bool mqueue_mounted() {
  std::ifstream in("/proc/mounts");
  std::string dev, dir, type;
  std::string rest;
  while (in >> dev >> dir >> type && std::getline(in, rest))
    if (type == "mqueue") return true;
  return false;
}

// A POSIX queue, unlinked as soon as it is open; closed on destruction.
struct posix_queue {
  mqd_t q = static_cast<mqd_t>(-1);
  ~posix_queue() {
    if (q != static_cast<mqd_t>(-1)) ::mq_close(q);
  }
};

outcome posix_mq(const deadline&) {
  const auto msg_max = read_integer("/proc/sys/fs/mqueue/msg_max");
  const auto msgsize_max = read_integer("/proc/sys/fs/mqueue/msgsize_max");
  const bool mounted = mqueue_mounted();
  if (!msg_max || !msgsize_max)
    return {{{"mqueue mounted", mounted}},
            verdict::not_applicable,
            "/proc/sys/fs/mqueue cannot be read: no POSIX message queue support"};
  if (*msg_max * *msgsize_max > kLargestTried)
    return {{{"msg_max", *msg_max}, {"msgsize_max", *msgsize_max}},
            verdict::not_applicable,
            "a full queue would be larger than the 16 MiB this probe is willing to fill"};
  mq_attr attr{};
  attr.mq_maxmsg = *msg_max;
  attr.mq_msgsize = *msgsize_max;
  const std::string name = names::unique_posix_name("probe-mq");
  posix_queue pq;
  {
    cleanup::guard g(cleanup::kind::posix_mq, -1, name.c_str());
    pq.q = ::mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, 0600, &attr);
    if (pq.q == static_cast<mqd_t>(-1)) throw_errno("mq_open(" + name + ")");
    ::mq_unlink(name.c_str());
  }
  std::vector<char> buf(static_cast<std::size_t>(*msgsize_max) + 1, 'q');
  long sent = 0;
  int full_err = 0;
  for (;;) {
    if (::mq_send(pq.q, buf.data(), static_cast<std::size_t>(*msgsize_max), 0) == 0) {
      ++sent;
      if (sent > *msg_max) break;
      continue;
    }
    full_err = errno;
    break;
  }
  unsigned prio = 0;
  const ssize_t got = ::mq_receive(pq.q, buf.data(), buf.size(), &prio);
  // A queue asking for one byte more than msgsize_max.
  std::string above;
  {
    mq_attr big = attr;
    big.mq_msgsize = *msgsize_max + 1;
    const std::string name2 = names::unique_posix_name("probe-mq");
    cleanup::guard g(cleanup::kind::posix_mq, -1, name2.c_str());
    mqd_t q2 = ::mq_open(name2.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &big);
    if (q2 == static_cast<mqd_t>(-1)) {
      above = errno_name(errno);
    } else {
      above = "accepted";
      ::mq_unlink(name2.c_str());
      ::mq_close(q2);
    }
  }
  const bool privileged = has_cap_sys_resource();
  outcome o;
  o.value = {{"msg_max", *msg_max},      {"msgsize_max", *msgsize_max},
             {"mq_open", "works"},       {"messages until full", sent},
             {"msgsize_max + 1", above}, {"mqueue mounted", mounted}};
  const bool full_at_limit = sent == *msg_max && full_err == EAGAIN && got == *msgsize_max;
  const bool limit_enforced = above == "EINVAL" || (privileged && above == "accepted");
  o.result = full_at_limit && limit_enforced ? verdict::holds : verdict::does_not_hold;
  o.detail =
      "mq_open works" + std::string(mounted ? "" : " although no mqueue file system is mounted") +
      "; the queue took " + std::to_string(sent) +
      " messages of msgsize_max = " + std::to_string(*msgsize_max) + " bytes, then " +
      (full_err ? errno_name(full_err) : std::string("no error")) +
      "; a queue with msgsize_max + 1: " + above +
      (privileged ? " (CAP_SYS_RESOURCE lifts the limit up to the kernel's hard maximum)" : "");
  return o;
}

}  // namespace

std::vector<probe> message_queue_probes() {
  return {
      {"sysv_msg_limits",
       "A System V message carries at most msgmax bytes (8192 by default); msgsnd of msgmax + 1 "
       "fails with EINVAL",
       "man 2 msgop (EINVAL above msgmax); man 5 proc (msgmax, msgmnb); tutorial 000, "
       "section '消息队列' (message queues: a message below the system's limit)",
       "read msgmax and msgmnb from /proc/sys/kernel; msgsnd(IPC_NOWAIT) a message of msgmax "
       "bytes and one of msgmax + 1 to a private queue",
       sysv_limits},
      {"sysv_msg_by_type",
       "msgrcv(2) selects messages by type, so they can leave a System V queue out of order",
       "tutorial 000, section '消息队列' (message queues: received by type, not in queue order); "
       "man 2 msgop",
       "send types 1, 2, 3, 1 (a, b, c, d); receive with msgtyp 3, 0, -2, 0", sysv_by_type},
      {"posix_mq",
       "POSIX message queues work (mq_open) and hold at most msg_max messages (10 by default) of "
       "at most msgsize_max bytes (8192)",
       "man 7 mq_overview; tutorial 003, section '消息队列' (message queues: POSIX and System V)",
       "read /proc/sys/fs/mqueue; mq_open a queue at those limits, send msgsize_max-byte messages "
       "(O_NONBLOCK) until it is full; mq_open another asking msgsize_max + 1",
       posix_mq},
  };
}

}  // namespace ipcbench::probes
