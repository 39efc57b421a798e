// The single-copy and fd-passing mechanisms (mechanisms/single_copy/) beyond the contract suite:
// every byte arrives across PIPE_BUF, 64 KiB and into MiBs through the harness, in both
// patterns; memfd.per_connection skips what its slot cannot hold, with the limit; a
// per-message memfd arrives sealed against writing and resizing, and one that is not is refused;
// no descriptor is left open, in the peers' own process either; cma's probe and its unavailable
// path give the reason with Yama's ptrace_scope; a cma read of memory the partner does not have
// fails naming process_vm_readv.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>

#include <cstring>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "harness/placement.hpp"
#include "harness/runner.hpp"
#include "mechanisms/single_copy/cma.hpp"
#include "mechanisms/single_copy/memfd.hpp"
#include "mechanisms/single_copy/notify_socket.hpp"
#include "registry/registry.hpp"
#include "sys/child.hpp"
#include "test_env.hpp"
#include "test_request.hpp"

namespace ipcbench {
namespace {

using test::open_fds;

using test::pattern_bytes;

using test::small_request;

const char* const kSingleCopyIds[] = {"cma", "memfd.per_connection", "memfd.per_message"};

// Both ends of a channel in this process, opened by two threads (their opens wait for each
// other), as --peers threads does.
template <class C>
auto open_both(C& ch) {
  auto consumer = std::async(std::launch::async, [&] { return ch.open(role::consumer); });
  auto producer = ch.open(role::producer);
  auto c = consumer.get();
  ch.opened();
  return std::make_pair(std::move(producer), std::move(c));
}

// Messages of `sizes` each way between two threads: the receiver gets exactly the bytes sent.
template <class C>
void round_trips(const std::vector<std::size_t>& sizes) {
  const std::size_t before = open_fds();
  {
    C ch(channel_config{0, pattern::latency, nullptr, true, true});
    auto [producer, consumer] = open_both(ch);
    const std::size_t opened = open_fds();
    unsigned seed = 1;
    for (std::size_t n : sizes) {
      const auto out = pattern_bytes(n, seed++);
      const auto back = pattern_bytes(n, seed++);
      std::vector<std::byte> got(n + 1);
      auto reply = std::async(std::launch::async, [&] {
        std::vector<std::byte> in(n + 1);
        const auto len = consumer.receive(in);
        EXPECT_EQ(len, static_cast<std::ptrdiff_t>(n));
        EXPECT_TRUE(std::equal(out.begin(), out.end(), in.begin())) << n << " bytes";
        EXPECT_EQ(consumer.send(back), io_status::ok);
      });
      ASSERT_EQ(producer.send(out), io_status::ok) << n;
      ASSERT_EQ(producer.receive(got), static_cast<std::ptrdiff_t>(n));
      reply.get();
      EXPECT_TRUE(std::equal(back.begin(), back.end(), got.begin())) << n << " bytes back";
    }
    // Nothing a message made (a memfd, its mapping's descriptor) stays open.
    EXPECT_EQ(open_fds(), opened);
  }
  EXPECT_EQ(open_fds(), before);
}

const std::vector<std::size_t> kSingleCopySizes = {1, 4096, 4097, 65536, 65537, 1u << 20, 4u << 20};

TEST(SingleCopy, CmaMovesEveryByteAndClosesItsSocket) {
  if (const std::string why = probe_process_vm_readv(); !why.empty()) GTEST_SKIP() << why;
  round_trips<cma_channel>(kSingleCopySizes);
}

TEST(SingleCopy, MemfdPerConnectionMovesEveryByteAndClosesEveryDescriptor) {
  round_trips<memfd_per_connection_channel>(kSingleCopySizes);
}

TEST(SingleCopy, MemfdPerMessageMovesEveryByteAndClosesEveryDescriptor) {
  round_trips<memfd_per_message_channel>(kSingleCopySizes);
}

// Through the harness, forked peers, both patterns: every message intact, nothing left behind.
TEST(SingleCopy, DataArrivesIntactThroughTheHarnessAtEverySize) {
  for (const char* id : kSingleCopyIds) {
    const mechanism_entry* m = find_mechanism(id);
    ASSERT_NE(m, nullptr) << id;
    if (!m->unavailable.empty()) {
      EXPECT_EQ(std::string(id), "cma") << m->unavailable;  // memfd is in every kernel we run on
      continue;
    }
    EXPECT_TRUE(m->traits.single_copy) << id;
    for (pattern p : {pattern::latency, pattern::throughput}) {
      for (std::size_t size : kSingleCopySizes) {
        const std::size_t objects = test::kernel_objects();
        const run_result r = m->run(small_request(p, size));
        ASSERT_EQ(r.status, run_status::ok)
            << id << " " << to_string(p) << " " << size << ": " << r.reason;
        EXPECT_EQ(r.integrity_errors, 0u);
        EXPECT_TRUE(test::no_children());
        EXPECT_TRUE(test::kernel_objects_back_to(objects));
      }
    }
  }
}

TEST(SingleCopy, PerConnectionSkipsWhatItsSlotCannotHoldWithTheLimit) {
  const mechanism_entry* m = find_mechanism("memfd.per_connection");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->traits.max_message, memfd::kSlotBytes);
  const run_result r = m->run(small_request(pattern::latency, memfd::kSlotBytes + 1));
  EXPECT_EQ(r.status, run_status::skipped);
  EXPECT_NE(r.reason.find(std::to_string(memfd::kSlotBytes)), std::string::npos) << r.reason;
}

// What the receiver of a per-message memfd gets: sealed against writes and resizing (and
// against unsealing), the message's size, and every way to change it refused.
TEST(SingleCopy, PerMessageMemfdArrivesSealed) {
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  memfd_message_endpoint tx(std::move(a), 4);
  const auto msg = pattern_bytes(10000, 7);
  ASSERT_EQ(tx.send(msg), io_status::ok);
  single_copy::record r;
  unique_fd fd;
  ASSERT_EQ(single_copy::receive_record(b.get(), r, &fd), io_status::ok);
  ASSERT_TRUE(fd);
  EXPECT_EQ(r.len, msg.size());
  EXPECT_EQ(memfd::seals_of(fd.get()) & memfd::kMessageSeals, memfd::kMessageSeals);
  const std::byte one{1};
  EXPECT_EQ(::pwrite(fd.get(), &one, 1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::ftruncate(fd.get(), 1), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::ftruncate(fd.get(), 1 << 20), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::mmap(nullptr, msg.size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
  EXPECT_EQ(errno, EPERM);
  std::vector<std::byte> got(msg.size());
  EXPECT_EQ(::pread(fd.get(), got.data(), got.size(), 0), static_cast<ssize_t>(got.size()));
  EXPECT_EQ(got, msg);
}

// A memfd that arrives without the seals is refused, with the seals it has and those wanted,
// and the descriptor is closed all the same.
TEST(SingleCopy, PerMessageReceiverRefusesAnUnsealedMemfd) {
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  memfd_message_endpoint rx(std::move(b), 4);
  const std::size_t before = open_fds();
  {
    const unique_fd fd = memfd::create("unsealed");
    ASSERT_EQ(::ftruncate(fd.get(), 100), 0);
    ASSERT_EQ(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    single_copy::record r;
    r.kind = single_copy::record_kind::message;
    r.len = 100;
    ASSERT_EQ(single_copy::send_record(a.get(), r, fd.get()), io_status::ok);
  }
  std::vector<std::byte> buf(100);
  try {
    rx.receive(buf);
    ADD_FAILURE() << "an unsealed memfd was accepted";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("sealed F_SEAL_SHRINK | F_SEAL_GROW, not F_SEAL_WRITE"), std::string::npos)
        << what;
  }
  EXPECT_EQ(open_fds(), before);
}

// A message record without its memfd, or a memfd of another size than the record says, is
// refused too.
TEST(SingleCopy, PerMessageReceiverRefusesAMissingOrMisSizedMemfd) {
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  memfd_message_endpoint rx(std::move(b), 4);
  std::vector<std::byte> buf(100);
  single_copy::record r;
  r.kind = single_copy::record_kind::message;
  r.len = 100;
  ASSERT_EQ(single_copy::send_record(a.get(), r), io_status::ok);
  EXPECT_THROW(rx.receive(buf), std::runtime_error);
  const unique_fd fd = memfd::create("short");
  ASSERT_EQ(::ftruncate(fd.get(), 50), 0);
  ASSERT_EQ(::fcntl(fd.get(), F_ADD_SEALS, memfd::kMessageSeals), 0);
  ASSERT_EQ(single_copy::send_record(a.get(), r, fd.get()), io_status::ok);
  try {
    rx.receive(buf);
    ADD_FAILURE() << "a memfd of 50 bytes was taken for 100";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("has 50 bytes, expected 100"), std::string::npos)
        << e.what();
  }
}

// A partner gone reads as such: kPeerGone for the receiver, closed for the sender.
TEST(SingleCopy, APartnerGoneIsSeenOnTheSocket) {
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  memfd_message_endpoint rx(std::move(b), 1);
  a.reset();
  std::vector<std::byte> buf(8);
  EXPECT_EQ(rx.receive(buf), kPeerGone);
  EXPECT_EQ(rx.send(buf), io_status::closed);
  auto [c, d] = make_socketpair(SOCK_SEQPACKET);
  cma_endpoint tx(std::move(c), ::getpid());
  d.reset();
  EXPECT_EQ(tx.send(buf), io_status::closed);
}

// The unavailable path: the probe's answer is empty exactly when the registry's cma is
// available, and otherwise names the error and Yama's ptrace_scope.
TEST(SingleCopy, CmaProbeAndUnavailableReasonAgree) {
  const std::string scope = yama_ptrace_scope();
  EXPECT_TRUE(scope == "absent (no Yama)" ||
              (scope.size() == 1 && scope[0] >= '0' && scope[0] <= '3'))
      << scope;
  const std::string why = probe_process_vm_readv();
  const mechanism_entry* m = find_mechanism("cma");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->traits.family, "cross memory attach");
  if (why.empty()) {
    EXPECT_TRUE(m->unavailable.empty()) << m->unavailable;
    EXPECT_EQ(m->traits.notes.at("yama_ptrace_scope"), scope);
  } else {
    EXPECT_NE(m->unavailable.find("ptrace_scope"), std::string::npos) << m->unavailable;
    const run_result r = m->run(small_request(pattern::latency, 64));
    EXPECT_EQ(r.status, run_status::skipped);
    EXPECT_NE(r.reason.find(why), std::string::npos) << r.reason;
  }
}

// Where a seccomp filter refuses process_vm_readv (as container runtimes' profiles may), the
// probe says so, with the error and Yama's ptrace_scope: in a child that installs such a filter
// (inherited by the probe's own child).
TEST(SingleCopy, CmaProbeNamesTheErrorWhereSeccompRefusesTheCall) {
  auto child = child_process::fork([] {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      return 2;
    const std::string why = probe_process_vm_readv();
    const bool named = why.find("Operation not permitted (errno 1)") != std::string::npos &&
                       why.find("ptrace_scope: " + yama_ptrace_scope()) != std::string::npos;
    if (!named) std::fprintf(stderr, "probe said: '%s'\n", why.c_str());
    return named ? 0 : 1;
  });
  const auto status = child.wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(status);
#if !defined(__x86_64__)
  GTEST_SKIP() << "the filter is written for x86_64";
#endif
  ASSERT_TRUE(WIFEXITED(*status)) << describe_wait_status(*status);
  EXPECT_EQ(WEXITSTATUS(*status), 0) << "2: no seccomp filter; 1: the probe did not name it";
}

// A record pointing at memory the partner does not have fails the read, naming the call.
TEST(SingleCopy, CmaReadOfUnmappedMemoryFailsNamingTheCall) {
  if (const std::string why = probe_process_vm_readv(); !why.empty()) GTEST_SKIP() << why;
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  cma_endpoint rx(std::move(b), ::getpid());
  // Two pages, the second unmapped: the first read stops at the hole (a partial count), the
  // next one fails.
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* p = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ::munmap(static_cast<std::byte*>(p) + page, page);
  single_copy::record r;
  r.kind = single_copy::record_kind::message;
  r.addr = reinterpret_cast<std::uintptr_t>(p);
  r.len = 2 * page;
  ASSERT_EQ(single_copy::send_record(a.get(), r), io_status::ok);
  std::vector<std::byte> buf(2 * page);
  try {
    rx.receive(buf);
    ADD_FAILURE() << "a read across a hole succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EFAULT) << e.what();
    EXPECT_NE(std::string(e.what()).find("process_vm_readv"), std::string::npos) << e.what();
  }
  ::munmap(p, page);
}

}  // namespace
}  // namespace ipcbench
