// Claim 5: message queues. System V (msgop(2)): a message carries at most msgmax bytes, a queue
// at most msgmnb, and msgsnd(2) on a full queue blocks (EAGAIN with IPC_NOWAIT); msgrcv(2)
// selects by type; a queue outlives its creator (sysvipc(7)). POSIX (mq_overview(7)): mq_open
// works, a queue holds at most msg_max messages of at most msgsize_max bytes (defaults 10 and
// 8192). The keys that name System V objects: ftok(3) takes the low 8 bits of proj_id and the
// file's inode, not its path.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "probe/probe.hpp"
#include "sys/cleanup.hpp"
#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

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
  msqid_ds stat() const {
    msqid_ds ds{};
    check(::msgctl(id_, IPC_STAT, &ds), "msgctl(IPC_STAT)");
    return ds;
  }

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

outcome sysv_outlives_creator(const deadline& d) {
  struct msg {
    long type;
    char text[4];
  };
  auto made = create_in_child(
      [] {
        key_t key = 0;
        return names::create_with_unique_key(
            [](key_t k) { return ::msgget(k, IPC_CREAT | IPC_EXCL | 0600); }, "msgget", key);
      },
      [](int id) {
        const msg m{7, {'k', 'e', 'p', 't'}};
        return ::msgsnd(id, &m, sizeof m.text, IPC_NOWAIT) == 0 ? 0 : 1;
      },
      d);
  const int id = made.id;
  cleanup::guard g(cleanup::kind::sysv_msg, id);
  struct remover {
    int id;
    ~remover() { ::msgctl(id, IPC_RMID, nullptr); }
  } remove_at_end{id};
  const int st = wait_exit(made.creator, d, "waiting for the creator to exit");
  const pid_t creator_pid = made.creator.pid();

  msqid_ds ds{};
  const bool exists = ::msgctl(id, IPC_STAT, &ds) == 0;
  msg m{};
  const bool received = exists && ::msgrcv(id, &m, sizeof m.text, 0, IPC_NOWAIT) ==
                                      static_cast<ssize_t>(sizeof m.text);
  const bool intact = received && m.type == 7 && std::memcmp(m.text, "kept", 4) == 0;
  check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
  msqid_ds after{};
  const bool gone = ::msgctl(id, IPC_STAT, &after) < 0 && (errno == EINVAL || errno == EIDRM);
  g.release();

  outcome o;
  const bool creator_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  o.value = {{"creator", describe_wait_status(st)},
             {"queue after creator exit", exists ? "exists" : "gone"},
             {"messages queued", exists ? static_cast<long>(ds.msg_qnum) : -1},
             {"last sender was the creator", exists && ds.msg_lspid == creator_pid},
             {"message intact", intact},
             {"after IPC_RMID", gone ? "gone" : "still there"}};
  o.result = creator_ok && exists && intact && gone ? verdict::holds : verdict::does_not_hold;
  o.detail = "the creator (pid " + std::to_string(creator_pid) + ") " + describe_wait_status(st) +
             " after sending one message, without removing its queue; the queue " +
             (exists ? "was still there (msg_qnum " + std::to_string(ds.msg_qnum) + ", msg_lspid " +
                           std::to_string(ds.msg_lspid) + ") and its message " +
                           (intact ? "came out intact" : "did not come out intact")
                     : std::string("was gone")) +
             ", and " + (gone ? "gone after IPC_RMID" : "still there after IPC_RMID");
  return o;
}

outcome sysv_full_blocks(const deadline& d) {
  const auto msgmax = read_integer("/proc/sys/kernel/msgmax");
  const auto msgmnb = read_integer("/proc/sys/kernel/msgmnb");
  if (!msgmax || !msgmnb || *msgmax <= 0 || *msgmnb <= 0)
    return {nullptr, verdict::not_applicable, "/proc/sys/kernel/msgmax or msgmnb cannot be read"};
  if (*msgmnb > kLargestTried)
    return {{{"msgmnb", *msgmnb}},
            verdict::not_applicable,
            "msgmnb is above the 16 MiB this probe is willing to queue"};
  sysv_queue q;
  const long long qbytes = static_cast<long long>(q.stat().msg_qbytes);
  // Fill with the largest messages that fit, then single bytes, until EAGAIN.
  const std::size_t big = static_cast<std::size_t>(std::min(*msgmax, qbytes));
  std::vector<char> buf(sizeof(long) + big, 'f');
  long long queued = 0;
  std::string full;
  for (std::size_t size : {big, std::size_t{1}}) {
    for (;;) {
      const std::string r = try_send(q.id(), buf, size, 1);
      if (r == "ok") {
        queued += static_cast<long long>(size);
        continue;
      }
      full = r;
      break;
    }
    if (full != "EAGAIN") break;
  }
  if (full != "EAGAIN")
    return {{{"msg_qbytes", qbytes}, {"bytes queued", queued}, {"then", full}},
            verdict::does_not_hold,
            "msgsnd(IPC_NOWAIT) to the filling queue failed with " + full + ", not EAGAIN"};
  auto w = watch_blocking(
      [&](int ready) {
        long one = 1;
        std::vector<char> m(sizeof one + 1, 'b');
        std::memcpy(m.data(), &one, sizeof one);
        announce(ready);
        return ::msgsnd(q.id(), m.data(), 1, 0) == 0 ? 0 : 1;
      },
      kBlockingWindow, d);
  outcome o;
  if (!w.blocked) {
    o.value = {{"msg_qbytes", qbytes},
               {"bytes queued until EAGAIN", queued},
               {"blocking msgsnd after 200 ms", w.state}};
    o.result = verdict::does_not_hold;
    o.detail = "msgsnd without IPC_NOWAIT to the full queue did not block: the sender " + w.state;
    return o;
  }
  // Taking one message out makes room for the blocked one.
  const ssize_t got = ::msgrcv(q.id(), buf.data(), big, 0, IPC_NOWAIT);
  const auto st = wait_unblocked(w.child, std::chrono::seconds(2), d);
  const bool sent = st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
  o.value = {{"msgmnb", *msgmnb},
             {"msg_qbytes", qbytes},
             {"bytes queued until EAGAIN", queued},
             {"IPC_NOWAIT on the full queue", full},
             {"blocking msgsnd after 200 ms", w.state},
             {"sent once a message was received", sent}};
  o.result = queued == qbytes && sent && got > 0 ? verdict::holds : verdict::does_not_hold;
  o.detail = "the queue took " + std::to_string(queued) + " bytes (msg_qbytes " +
             std::to_string(qbytes) + ", from msgmnb " + std::to_string(*msgmnb) +
             "), then msgsnd(IPC_NOWAIT) failed with EAGAIN; a 1-byte msgsnd without IPC_NOWAIT "
             "was " +
             w.state + " 200 ms later, " +
             (sent ? "and returned once the parent received a message"
                   : "and did not return after the parent received a message");
  return o;
}

// Creates the file at `path` (which must not exist), empty.
void create_file(const std::string& path) {
  unique_fd fd(check(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600),
                     "open(" + path + ", O_CREAT)"));
}

// glibc's ftok(3): (proj_id & 0xff) << 24 | (st_dev & 0xff) << 16 | (st_ino & 0xffff).
key_t checked_ftok(const std::string& path, int proj) {
  const key_t k = ::ftok(path.c_str(), proj);
  if (k == static_cast<key_t>(-1)) throw_errno("ftok(" + path + ")");
  return k;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  check(::stat(path.c_str(), &st), "stat(" + path + ")");
  return st.st_ino;
}

outcome ftok_low_bits(const deadline&) {
  const private_dir dir;
  const std::string path = (dir.path() / "key-file").string();
  create_file(path);
  const key_t k1 = checked_ftok(path, 1), k257 = checked_ftok(path, 257),
              k2 = checked_ftok(path, 2);
  const key_t z = checked_ftok(path, 'z'), z256 = checked_ftok(path, 'z' + 256);
  outcome o;
  o.value = {{"ftok(path, 1)", names::key_text(k1)},
             {"ftok(path, 257)", names::key_text(k257)},
             {"ftok(path, 2)", names::key_text(k2)},
             {"ftok(path, 'z')", names::key_text(z)},
             {"ftok(path, 'z' + 256)", names::key_text(z256)}};
  const bool same = k1 == k257 && z == z256;
  o.result = same && k1 != k2 ? verdict::holds : verdict::does_not_hold;
  o.detail = same ? "proj_id 1 and 257 (and 'z' and 'z' + 256) give the same key, while 2 gives "
                    "another: only proj_id's low 8 bits reach the key (its top byte here)"
                  : "proj_id 1 and 257 give different keys";
  return o;
}

outcome ftok_new_inode(const deadline&) {
  const private_dir dir;
  const std::string path = (dir.path() / "key-file").string();
  create_file(path);
  const ino_t ino1 = inode_of(path);
  const key_t k1 = checked_ftok(path, 1);
  check(::unlink(path.c_str()), "unlink(" + path + ")");
  create_file(path);
  ino_t ino2 = inode_of(path);
  key_t k2 = checked_ftok(path, 1);
  const bool reused = ino2 == ino1;
  unique_fd holder;
  if (reused) {
    // The file system gave the new file the freed inode. Delete it again, let a second file take
    // that inode and hold it open, then create the path again: it must get another inode.
    check(::unlink(path.c_str()), "unlink(" + path + ")");
    const std::string other = (dir.path() / "inode-holder").string();
    holder = unique_fd(check(::open(other.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600),
                             "open(" + other + ", O_CREAT)"));
    create_file(path);
    ino2 = inode_of(path);
    k2 = checked_ftok(path, 1);
  }
  outcome o;
  o.value = {{"inode before", ino1},
             {"key before", names::key_text(k1)},
             {"inode after", ino2},
             {"key after", names::key_text(k2)},
             {"first re-creation reused the inode", reused}};
  if (ino2 == ino1) {
    o.result = verdict::not_applicable;
    o.detail = "the file system gave the re-created file the same inode (" + std::to_string(ino1) +
               ") even with a second file holding the freed one, so the key could not change";
    return o;
  }
  o.result = k2 != k1 ? verdict::holds : verdict::does_not_hold;
  o.detail = "deleting the file and creating it again under the same path gave inode " +
             std::to_string(ino2) + " instead of " + std::to_string(ino1) + " and key " +
             names::key_text(k2) + " instead of " + names::key_text(k1);
  if (reused)
    o.detail += " (the first re-creation reused inode " + std::to_string(ino1) +
                " by chance and kept the key; a second file then held that inode)";
  if (k2 == k1)
    o.detail += ": the inodes differ only above the 16 bits ftok keeps";
  else
    o.detail +=
        ". Tutorial 002 says the same arguments give the same key: only while the path names the "
        "same file, since the key is made of the file's inode and device numbers, not its name";
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
      {"sysv_msg_full_blocks",
       "msgsnd(2) to a System V queue full at msgmnb bytes blocks until there is room, and fails "
       "with EAGAIN under IPC_NOWAIT",
       "man 2 msgop (msg_qbytes, IPC_NOWAIT); tutorial 004, section 4 '消息队列' (message queues "
       "have a maximum length)",
       "fill a private queue (msg_qbytes = msgmnb) with msgsnd(IPC_NOWAIT) until EAGAIN; a forked "
       "child sends 1 byte without IPC_NOWAIT and must still be asleep after 200 ms; then the "
       "parent receives a message",
       sysv_full_blocks},
      {"sysv_msg_by_type",
       "msgrcv(2) selects messages by type, so they can leave a System V queue out of order",
       "tutorial 000, section '消息队列' (message queues: received by type, not in queue order); "
       "man 2 msgop",
       "send types 1, 2, 3, 1 (a, b, c, d); receive with msgtyp 3, 0, -2, 0", sysv_by_type},
      {"sysv_msg_kernel_persistence",
       "A System V message queue outlives the process that created it, until IPC_RMID",
       "tutorial 000, section '消息队列' (message queues: lifetime follows the kernel); tutorial "
       "004, section 4 '消息队列'; man 7 sysvipc",
       "a forked child creates a queue, sends one message, sends the id and exits without "
       "IPC_RMID; the parent stats the queue (IPC_STAT), receives the message, removes the queue "
       "and stats again",
       sysv_outlives_creator},
      {"ftok_low_8_bits",
       "ftok(3) uses only the low 8 bits of proj_id: ftok(path, 1) == ftok(path, 257)",
       "tutorial 000, section '消息队列' (message queues: ftok's id uses only 8 bits); man 3 ftok",
       "ftok on a file in a private directory with proj_id 1, 257, 2, 'z' and 'z' + 256",
       ftok_low_bits},
      {"ftok_new_inode_new_key",
       "ftok(3)'s key changes when its file is deleted and created again under the same path (the "
       "key comes from the inode, not the name)",
       "tutorial 002, section 'ftok函数生成key值' (ftok makes the key: the same arguments give the "
       "same key); man 3 ftok",
       "ftok(path, 1) of a file in a private directory; unlink and create the path again, ftok "
       "again; when the new file got the freed inode by chance, repeat with a second file holding "
       "that inode open",
       ftok_new_inode},
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
