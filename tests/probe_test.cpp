// The textbook-claim probes: each probe's mechanics on this machine, the atomicity checker on
// deliberately torn streams, probes that cannot run, the whole run leaving nothing behind, the
// ipcbench-probe command line and the `probes` array in the bench report.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "bench/answer.hpp"
#include "probe/atomicity.hpp"
#include "probe/host_state.hpp"
#include "probe/probe.hpp"
#include "probe/report_probes.hpp"
#include "probe/semaphore.hpp"
#include "probe/zerocopy.hpp"
#ifdef IPCBENCH_HAVE_URING
#include "mechanisms/uring/uring_ring.hpp"
#endif
#include "sys/child.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"
#include "test_env.hpp"

namespace bp = boost::process;

namespace ipcbench::probes {
namespace {

using namespace std::chrono_literals;

const probe& find_probe(const std::string& id) {
  static const std::vector<probe> all = all_probes();
  for (const auto& p : all)
    if (p.id == id) return p;
  throw std::invalid_argument("no probe " + id);
}

finding run(const std::string& id) {
  return run_probe(find_probe(id), 20s);
}

std::vector<std::byte> record(std::size_t size, std::uint16_t writer, std::uint32_t seq) {
  std::vector<std::byte> r(size);
  encode_record(r, writer, seq);
  return r;
}

std::vector<std::byte> concat(std::initializer_list<std::span<const std::byte>> parts) {
  std::vector<std::byte> out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(Atomicity, IntactRecordsPassTheChecker) {
  std::vector<std::byte> stream;
  for (std::uint32_t seq = 0; seq < 5; ++seq)
    for (int w : {2, 0, 1}) {
      const auto r = record(4097, static_cast<std::uint16_t>(w), seq);
      stream.insert(stream.end(), r.begin(), r.end());
    }
  const auto c = check_stream(stream, 4097, 3);
  EXPECT_EQ(c.records, 15u);
  EXPECT_EQ(c.intact, 15u);
  EXPECT_EQ(c.torn, 0u);
  EXPECT_EQ(c.out_of_order, 0u);
}

TEST(Atomicity, CheckerCountsInterleavedWrites) {
  // Two 8192-byte writes interleaved page by page, as when a writer sleeps on a full pipe and
  // another one's data lands in between: A0 B0 A1 B1. Both writes are torn.
  const auto a = record(8192, 0, 0), b = record(8192, 1, 0), c = record(8192, 2, 0);
  const std::span<const std::byte> sa(a), sb(b), sc(c);
  const auto both =
      concat({sa.first(4096), sb.first(4096), sa.subspan(4096), sb.subspan(4096), sc});
  const auto r = check_stream(both, 8192, 3);
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(r.torn, 2u);
  EXPECT_EQ(r.intact, 1u);
  // One byte of A, then all of B, then the rest of A: only A is torn, though no record is on the
  // size grid any more until the end of A.
  const auto one = concat({sa.first(1), sb, sa.subspan(1), sc});
  const auto s = check_stream(one, 8192, 3);
  EXPECT_EQ(s.torn, 1u);
  EXPECT_EQ(s.intact, 2u);
}

TEST(Atomicity, CheckerCatchesCorruptionAndOrder) {
  // Same writer, next sequence: only the fill pattern differs.
  auto a = record(4097, 3, 7);
  const auto b = record(4097, 3, 8);
  std::copy(b.begin() + 4000, b.end(), a.begin() + 4000);
  EXPECT_EQ(check_stream(concat({a, b}), 4097, 4).torn, 1u);
  // A writer id beyond the writers is not a record of this run.
  EXPECT_EQ(check_stream(record(512, 1, 0), 512, 1).torn, 1u);
  // A record behind an earlier one of its writer is intact but counted apart.
  const auto order = check_stream(concat({record(512, 0, 1), record(512, 0, 0)}), 512, 1);
  EXPECT_EQ(order.torn, 0u);
  EXPECT_EQ(order.out_of_order, 1u);
}

TEST(Atomicity, PipeBufWritesDoNotInterleaveHere) {
  for (auto type : {channel_type::pipe, channel_type::fifo}) {
    const auto r = run_interleave(type, 4096, 4, 256, deadline(20s));
    EXPECT_EQ(r.records, 1024u);
    EXPECT_EQ(r.intact, 1024u);
    EXPECT_EQ(r.torn, 0u);
    EXPECT_EQ(r.out_of_order, 0u);
  }
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

TEST(PipeProbes, CapacityEqualsGetPipeSz) {
  auto p = make_pipe(O_NONBLOCK);
  const int size = ::fcntl(p.write_end.get(), F_GETPIPE_SZ);
  EXPECT_EQ(fill_until_eagain(p.write_end.get(), deadline(5s)), static_cast<std::size_t>(size));
  const auto f = run("pipe_capacity");
  EXPECT_EQ(f.value.at("filled until EAGAIN"), size) << f.detail;
  EXPECT_EQ(f.value.at("F_GETPIPE_SZ"), size);
  EXPECT_EQ(f.result, size == 65536 ? verdict::holds : verdict::does_not_hold);
}

TEST(PipeProbes, FourReadWriteCasesHoldHere) {
  for (const char* id : {"pipe_read_empty_blocks", "pipe_read_eof", "pipe_write_sigpipe",
                         "pipe_write_full_blocks"}) {
    const auto f = run(id);
    EXPECT_EQ(f.result, verdict::holds) << id << ": " << f.detail;
  }
  EXPECT_TRUE(test::no_children());
}

TEST(PipeProbes, ThirteenByteWritesStopAtWholePages) {
  const auto f = run("pipe_13_byte_writes");
  const auto& v = f.value;
  // Whatever the page size, 13-byte writes never straddle a page of the pipe's buffer.
  const std::size_t page = v.at("page size"), size = v.at("F_GETPIPE_SZ");
  EXPECT_EQ(v.at("bytes until EAGAIN"), size / page * (page / 13 * 13)) << f.detail;
  EXPECT_EQ(v.at("bytes until EAGAIN").get<std::size_t>(),
            13 * v.at("13-byte writes").get<std::size_t>());
  EXPECT_EQ(v.at("bytes packed without page bounds"), size / 13 * 13);
  if (page == 4096 && size == 65536) {
    EXPECT_EQ(v.at("bytes until EAGAIN"), 65520);
    EXPECT_EQ(f.result, verdict::holds) << f.detail;
    EXPECT_NE(f.detail.find("315 writes"), std::string::npos) << f.detail;
  }
  EXPECT_TRUE(test::no_children());
}

TEST(FifoProbes, OpenRulesHoldHere) {
  const auto enxio = run("fifo_open_write_nonblock_enxio");
  EXPECT_EQ(enxio.result, verdict::holds) << enxio.detail;
  EXPECT_EQ(enxio.value.at("open(O_WRONLY|O_NONBLOCK)"), "ENXIO");
  for (const char* id :
       {"fifo_open_read_blocks", "fifo_open_write_blocks", "fifo_open_read_nonblock"}) {
    const auto f = run(id);
    EXPECT_EQ(f.result, verdict::holds) << id << ": " << f.detail;
  }
  EXPECT_EQ(run("fifo_open_write_blocks").value.at("returned once a reader opened"), true);
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
}

TEST(FifoProbes, ReadWriteOpenSucceedsAtOnceOnLinux) {
  const auto f = run("fifo_open_rdwr");
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_EQ(f.value.at("open(O_RDWR)"), "succeeded at once");
  EXPECT_EQ(f.value.at("reads back its own write"), "yes");
  EXPECT_NE(f.detail.find("Tutorial 000"), std::string::npos) << f.detail;
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
}

TEST(MessageQueueProbes, QueueOutlivesItsCreatorAndFullQueueBlocks) {
  const std::size_t objects = test::kernel_objects();
  const auto kept = run("sysv_msg_kernel_persistence");
  EXPECT_EQ(kept.result, verdict::holds) << kept.detail;
  EXPECT_EQ(kept.value.at("queue after creator exit"), "exists");
  EXPECT_EQ(kept.value.at("messages queued"), 1);
  EXPECT_EQ(kept.value.at("last sender was the creator"), true);
  EXPECT_EQ(kept.value.at("after IPC_RMID"), "gone");
  const auto full = run("sysv_msg_full_blocks");
  EXPECT_EQ(full.result, verdict::holds) << full.detail;
  EXPECT_EQ(full.value.at("IPC_NOWAIT on the full queue"), "EAGAIN");
  EXPECT_EQ(full.value.at("bytes queued until EAGAIN"), full.value.at("msg_qbytes"));
  EXPECT_EQ(full.value.at("sent once a message was received"), true);
  EXPECT_EQ(test::kernel_objects(), objects);
  EXPECT_TRUE(test::no_children());
}

TEST(FtokProbes, LowBitsOfProjIdAndTheInodeMakeTheKey) {
  const auto bits = run("ftok_low_8_bits");
  EXPECT_EQ(bits.result, verdict::holds) << bits.detail;
  EXPECT_EQ(bits.value.at("ftok(path, 1)"), bits.value.at("ftok(path, 257)"));
  EXPECT_NE(bits.value.at("ftok(path, 1)"), bits.value.at("ftok(path, 2)"));
  const auto inode = run("ftok_new_inode_new_key");
  EXPECT_EQ(inode.result, verdict::holds) << inode.detail;
  EXPECT_NE(inode.value.at("inode before"), inode.value.at("inode after"));
  EXPECT_NE(inode.value.at("key before"), inode.value.at("key after"));
  EXPECT_TRUE(test::leftovers().empty());
}

TEST(SysvShmProbes, RemovedSegmentStaysUsableAndAttachableOnLinux) {
  const std::size_t objects = test::kernel_objects();
  const auto f = run("sysv_shm_rmid_attached");
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_EQ(f.value.at("marked for removal (SHM_DEST)"), true);
  EXPECT_EQ(f.value.at("attached segment usable after IPC_RMID"), true);
  EXPECT_EQ(f.value.at("new shmat by id in another process"), "attached");
  EXPECT_NE(f.detail.find("Tutorial 004"), std::string::npos) << f.detail;
  EXPECT_EQ(test::kernel_objects(), objects);
  EXPECT_TRUE(test::no_children());
}

TEST(SysvShmProbes, ShmLockSynchronisesNothing) {
  const std::size_t objects = test::kernel_objects();
  const auto f = run("sysv_shm_lock_not_sync");
  // SHM_LOCK needs CAP_IPC_LOCK or room under RLIMIT_MEMLOCK; refused, the claim cannot be tried.
  if (f.result == verdict::not_applicable) {
    EXPECT_EQ(f.detail.rfind("shmctl(SHM_LOCK) failed with ", 0), 0u) << f.detail;
  } else {
    EXPECT_EQ(f.result, verdict::holds) << f.detail;
    EXPECT_EQ(f.value.at("SHM_LOCKED after SHM_LOCK"), true);
    EXPECT_EQ(f.value.at("other process read and wrote while locked"), true);
    EXPECT_NE(f.detail.find("Tutorial 003"), std::string::npos) << f.detail;
  }
  EXPECT_EQ(test::kernel_objects(), objects);
  EXPECT_TRUE(test::no_children());
}

TEST(MmapProbes, SharedWritesReachTheOtherProcessAndTheFilePrivateOnesNeither) {
  const auto f = run("mmap_shared_private");
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_EQ(f.value.at("MAP_SHARED: the parent sees the child's write"), true);
  EXPECT_EQ(f.value.at("MAP_SHARED: the file holds it (pread)"), true);
  EXPECT_EQ(f.value.at("MAP_PRIVATE: the parent sees the child's write"), false);
  EXPECT_EQ(f.value.at("MAP_PRIVATE: the file holds it (pread)"), false);
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
}

TEST(SemaphoreProbes, NowaitRemovalAndWaitForZeroHoldHere) {
  const std::size_t objects = test::kernel_objects();
  const auto nowait = run("sysv_sem_nowait_eagain");
  EXPECT_EQ(nowait.result, verdict::holds) << nowait.detail;
  EXPECT_EQ(nowait.value.at("value 0: semop(-1, IPC_NOWAIT)"), "EAGAIN");
  const auto removed = run("sysv_sem_rmid_wakes_eidrm");
  EXPECT_EQ(removed.result, verdict::holds) << removed.detail;
  EXPECT_EQ(removed.value.at("GETNCNT"), 1);
  EXPECT_EQ(removed.value.at("semop after IPC_RMID"), "EIDRM");
  const auto zero = run("sysv_sem_wait_for_zero");
  EXPECT_EQ(zero.result, verdict::holds) << zero.detail;
  EXPECT_EQ(zero.value.at("GETZCNT"), 1);
  const auto kept = run("sysv_sem_kernel_persistence");
  EXPECT_EQ(kept.result, verdict::holds) << kept.detail;
  EXPECT_EQ(kept.value.at("value"), 5);
  EXPECT_EQ(kept.value.at("last semop by the creator"), true);
  EXPECT_EQ(test::kernel_objects(), objects);
  EXPECT_TRUE(test::no_children());
}

TEST(SemaphoreProbes, UndoCostIsMeasuredNotAssumed) {
  // No timing threshold: only that it measured and decided within the allowed verdicts.
  const std::size_t objects = test::kernel_objects();
  const auto f = run("sysv_sem_undo_cost");
  EXPECT_NE(f.result, verdict::not_applicable) << f.detail;
  EXPECT_GT(f.value.at("median without").get<double>(), 0);
  EXPECT_GT(f.value.at("median with").get<double>(), 0);
  EXPECT_EQ(f.value.at("ns per semop with SEM_UNDO").size(), 7u);
  EXPECT_EQ(f.value.at("ns per semop without SEM_UNDO").size(), 7u);
  if (f.result == verdict::holds) {
    EXPECT_GT(f.value.at("with slower in share of pairs").get<double>(), 0.5);
    EXPECT_LE(f.value.at("rank test p").get<double>(), 0.1);
  }
  EXPECT_EQ(test::kernel_objects(), objects);
}

TEST(SemaphoreDecision, TheRankTestDecidesWhereOnlyTheExtremesOverlap) {
  // With SEM_UNDO slower in 47 of the 49 pairs, its fastest run (109) below two runs without
  // (110, 111): no complete separation, p = 2 x 4 / 3432.
  const std::vector<double> plain = {100, 101, 102, 103, 104, 110, 111};
  const std::vector<double> undo = {109, 112, 113, 114, 115, 116, 117};
  auto f = decide_undo_cost(plain, undo, 18000);
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_NEAR(f.value.at("rank test p").get<double>(), 8.0 / 3432, 1e-12);
  EXPECT_NEAR(f.value.at("with slower in share of pairs").get<double>(), 0.959, 1e-12);
  EXPECT_EQ(f.value.at("ratio of the medians"), 1.107);  // 114 / 103
  EXPECT_NE(f.detail.find("7 and 7 runs of 18000 semops: the run with SEM_UNDO was slower in "
                          "96 % of the pairs of runs (exact rank test, p = 0.0023)"),
            std::string::npos)
      << f.detail;

  // The mirror: SEM_UNDO shown faster refutes the claim here.
  f = decide_undo_cost(undo, plain, 18000);
  EXPECT_EQ(f.result, verdict::does_not_hold) << f.detail;
  EXPECT_NE(f.detail.find("faster in 96 %"), std::string::npos) << f.detail;

  // Interleaved runs: inconclusive, and says why.
  f = decide_undo_cost({100, 102, 104, 106, 108, 110, 112}, {101, 103, 105, 107, 109, 111, 99},
                       18000);
  EXPECT_EQ(f.result, verdict::inconclusive) << f.detail;
  EXPECT_NE(f.detail.find("the runs overlap too much"), std::string::npos) << f.detail;
  EXPECT_EQ(decide_undo_cost({100}, {}, 18000).result, verdict::inconclusive);
}

TEST(ZerocopyProbes, LoopbackIsMeasuredAtEverySizeAndLeavesNothing) {
  // No timing threshold: that it streamed every size both ways and decided within its verdicts.
  const auto f = run("tcp_zerocopy_loopback");
  ASSERT_NE(f.result, verdict::not_applicable) << f.detail;
  for (const char* size : {"4096 B", "16384 B", "65536 B", "262144 B"}) {
    const auto& row = f.value.at(size);
    EXPECT_GT(row.at("send GB/s, median").get<double>(), 0) << size;
    EXPECT_GT(row.at("MSG_ZEROCOPY GB/s, median").get<double>(), 0) << size;
    EXPECT_LE(row.at("rank test p").get<double>(), 1.0) << size;
    if (f.result == verdict::does_not_hold) continue;
    EXPECT_NE(row.at("shown"), "faster") << size << ": " << f.detail;
  }
  if (f.result == verdict::holds) {
    EXPECT_EQ(f.value.at("4096 B").at("shown"), "slower") << f.detail;
  }
  EXPECT_EQ(f.value.at("runs a side"), 7);
  EXPECT_NE(f.detail.find("MSG_ZEROCOPY"), std::string::npos) << f.detail;
  EXPECT_TRUE(test::no_children());
}

// The io_uring wake-up probes' rounds by the host's state, from the cache-line round trip before
// each round (0: none measured).
TEST(HostStates, RoundsSplitWhereTheirCacheLinesLieApart) {
  // Two states, 1.5x apart or more: the fast one first, each with its rounds and median.
  const double two[] = {105, 480, 110, 470, 104, 500, 490, 112, 108};
  const std::vector<host_state> split = states_of_rounds(two);
  ASSERT_EQ(split.size(), 2u);
  EXPECT_EQ(split[0].rounds, (std::vector<std::size_t>{0, 2, 4, 7, 8}));
  EXPECT_DOUBLE_EQ(split[0].line_ns, 108);
  EXPECT_EQ(split[1].rounds, (std::vector<std::size_t>{1, 3, 5, 6}));
  EXPECT_DOUBLE_EQ(split[1].line_ns, 485);
  // Closer than 1.5x (140 / 120): one state; a round without a floor is left out.
  const double one[] = {100, 140, 0, 120};
  const std::vector<host_state> whole = states_of_rounds(one);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].rounds, (std::vector<std::size_t>{0, 1, 3}));
  EXPECT_DOUBLE_EQ(whole[0].line_ns, 120);
  // No floor at all (the threads on one CPU): no state.
  const double none[] = {0, 0};
  EXPECT_TRUE(states_of_rounds(none).empty());
}

// decide_zerocopy on made-up runs (bytes per second, in units of 100 MB/s).
std::vector<double> runs_of(std::initializer_list<double> v) {
  std::vector<double> out;
  for (double x : v) out.push_back(x * 1e8);
  return out;
}
// Sizes above 10 KB whose runs interleave: no difference shown (p 0.90).
std::vector<zerocopy_runs> with_large_alike(zerocopy_runs small) {
  std::vector<zerocopy_runs> out = {std::move(small)};
  for (std::size_t size : {16384u, 65536u, 262144u})
    out.push_back({size, runs_of({1, 2, 4, 7, 10, 13, 14}), runs_of({3, 5, 6, 8, 9, 11, 12})});
  return out;
}

TEST(ZerocopyDecision, HoldsWhereTheRankTestShowsTheSmallLossThoughTheExtremesOverlap) {
  // At 4 KiB zerocopy's fastest run (9) beats two send runs (7, 8): no complete separation, but
  // it lost 47 of the 49 pairs, p = 0.0023.
  const auto f = decide_zerocopy(with_large_alike(
      {4096, runs_of({7, 8, 10, 11, 12, 13, 14}), runs_of({1, 2, 3, 4, 5, 6, 9})}));
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_EQ(f.value.at("4096 B").at("shown"), "slower");
  EXPECT_NEAR(f.value.at("4096 B").at("rank test p").get<double>(), 2.0 * 4 / 3432, 1e-12);
  EXPECT_NEAR(f.value.at("4096 B").at("zerocopy faster in share of pairs").get<double>(), 0.041,
              1e-12);
  EXPECT_EQ(f.value.at("65536 B").at("shown"), "no difference");
  EXPECT_EQ(f.value.at("rank test level"), nlohmann::json({{"slower", 0.1}, {"faster", 0.025}}));
  EXPECT_NE(f.detail.find("4096 B 0.36x (slower in 96 % of the pairs of runs, p = 0.0023)"),
            std::string::npos)
      << f.detail;
  EXPECT_NE(f.detail.find("16384 B 1.14x (no difference shown: faster in 53 % of the pairs of "
                          "runs, p = 0.9)"),
            std::string::npos)
      << f.detail;
}

TEST(ZerocopyDecision, AGainAtAnySizeRefutesButOnlyBelowItsStricterLevel) {
  const zerocopy_runs slower = {4096, runs_of({8, 9, 10, 11, 12, 13, 14}),
                                runs_of({1, 2, 3, 4, 5, 6, 7})};
  // Zerocopy faster at 64 KiB in 80 % of the pairs, p = 0.073: below 0.1 but not below 0.1 over
  // the four sizes, so no gain is shown and the claim still holds.
  auto sizes = with_large_alike(slower);
  sizes[2].send = runs_of({1, 2, 3, 4, 6, 9, 13});
  sizes[2].zerocopy = runs_of({5, 7, 8, 10, 11, 12, 14});
  auto f = decide_zerocopy(sizes);
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_EQ(f.value.at("65536 B").at("shown"), "no difference");
  EXPECT_NEAR(f.value.at("65536 B").at("rank test p").get<double>(), 250.0 / 3432, 1e-12);

  // Faster in every pair (p = 0.00058): a gain, the claim does not hold.
  sizes[2].zerocopy = runs_of({20, 21, 22, 23, 24, 25, 26});
  f = decide_zerocopy(sizes);
  EXPECT_EQ(f.result, verdict::does_not_hold) << f.detail;
  EXPECT_EQ(f.value.at("65536 B").at("shown"), "faster");
  EXPECT_NE(f.detail.find("65536 B"), std::string::npos);
  EXPECT_NE(f.detail.find("(faster in 100 % of the pairs of runs, p = 0.00058)"), std::string::npos)
      << f.detail;
}

TEST(ZerocopyDecision, AGainWithinTheMarginRefutesNothing) {
  // Zerocopy faster in every pair of runs at 256 KiB (p = 0.00058), by 1 to 13 %: the ratio's
  // interval at the gain's level reaches below 1.1, so the gain is not shown beyond the margin.
  auto sizes =
      with_large_alike({4096, runs_of({8, 9, 10, 11, 12, 13, 14}), runs_of({1, 2, 3, 4, 5, 6, 7})});
  sizes[3].send = runs_of({100, 101, 102, 103, 104, 105, 106});
  sizes[3].zerocopy = runs_of({107, 108, 109, 110, 111, 112, 113});
  auto f = decide_zerocopy(sizes);
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  const auto& at = f.value.at("262144 B");
  EXPECT_EQ(at.at("shown"), "faster, not beyond the margin");
  EXPECT_NEAR(at.at("rank test p").get<double>(), 2.0 / 3432, 1e-12);
  const double lo = at.at("ratio interval")[0].get<double>();
  const double hi = at.at("ratio interval")[1].get<double>();
  EXPECT_GT(lo, 1.0);
  EXPECT_LE(lo, 1.1);
  EXPECT_GT(hi, lo);
  EXPECT_EQ(f.value.at("gain margin").get<double>(), 0.1);
  EXPECT_NE(f.detail.find("262144 B 1.07x (faster in 100 % of the pairs of runs, p = 0.00058, "
                          "but the ratio's interval, 1.04 to 1.10, is not wholly beyond the 10 % "
                          "margin)"),
            std::string::npos)
      << f.detail;

  // The same separation 20 % up: the interval lies beyond the margin, the claim does not hold.
  sizes[3].zerocopy = runs_of({127, 128, 129, 130, 131, 132, 133});
  f = decide_zerocopy(sizes);
  EXPECT_EQ(f.result, verdict::does_not_hold) << f.detail;
  EXPECT_EQ(f.value.at("262144 B").at("shown"), "faster");
  EXPECT_GT(f.value.at("262144 B").at("ratio interval")[0].get<double>(), 1.1);
}

TEST(ZerocopyDecision, InconclusiveWhereTheSmallLossIsNotShown) {
  // At 4 KiB the runs interleave (p 0.90): no gain, no loss shown.
  const auto f = decide_zerocopy(with_large_alike(
      {4096, runs_of({1, 2, 4, 7, 10, 13, 14}), runs_of({3, 5, 6, 8, 9, 11, 12})}));
  EXPECT_EQ(f.result, verdict::inconclusive) << f.detail;
  EXPECT_NE(f.detail.find("below 10 KB the loss is not shown"), std::string::npos) << f.detail;
  // A side without runs shows nothing either.
  EXPECT_EQ(decide_zerocopy(with_large_alike({4096, runs_of({1, 2, 3}), {}})).result,
            verdict::inconclusive);
}

TEST(UringProbes, WakeUpsAreMeasuredEachWayOrSayWhyNot) {
  // No timing threshold: that each method of each claim made every round trip and the verdict
  // follows from the ratios it reports.
  const std::map<std::string, std::vector<std::string>> methods = {
      {"io_uring_eventfd_vs_msg_ring", {"MSG_RING", "ring READ of an eventfd", "eventfd read(2)"}},
      {"io_uring_msg_ring_defer_taskrun",
       {"ring READ of an eventfd, DEFER_TASKRUN", "MSG_RING, DEFER_TASKRUN", "eventfd read(2)"}},
      {"io_uring_poll_add_vs_epoll", {"POLL_ADD of an eventfd", "epoll_wait of an eventfd"}}};
  for (const auto& [id, labels] : methods) {
    const auto f = run(id);
#ifdef IPCBENCH_HAVE_URING
    if (const std::string& why = uring_unavailable(false); !why.empty()) {
      EXPECT_EQ(f.result, verdict::not_applicable) << id;
      EXPECT_NE(f.detail.find(why), std::string::npos) << f.detail;
      continue;
    }
    ASSERT_NE(f.result, verdict::not_applicable) << id << ": " << f.detail;
    const double threshold = f.value.at("threshold (sqrt of claimed)").get<double>();
    for (const char* where : {"two CPUs", "one CPU"}) {
      if (!f.value.contains(where)) continue;  // a machine with one CPU has no "two CPUs"
      const auto& placed = f.value.at(where);
      for (const auto& l : labels) {
        const auto& row = placed.at(l);
        EXPECT_GT(row.at("p50 us").get<double>(), 0) << id << ", " << where << ", " << l;
        EXPECT_LE(row.at("p50 us").get<double>(), row.at("p99 us").get<double>())
            << id << ", " << l;
        EXPECT_EQ(row.at("round medians us").size(), 9u) << id << ", " << where << ", " << l;
      }
      EXPECT_LE(placed.at("ratio per round, lowest").get<double>(),
                placed.at("ratio per round, highest").get<double>())
          << id << ", " << where;
    }
    // The verdict is the two-CPU placement's, where there is one.
    const auto& judged =
        f.value.contains("two CPUs") ? f.value.at("two CPUs") : f.value.at("one CPU");
    const int above = judged.at("rounds above the threshold").get<int>();
    if (f.result == verdict::holds) {
      EXPECT_GE(above, 8) << id << ": " << f.detail;
      EXPECT_GT(judged.at("ratio per round, highest").get<double>(), threshold) << id;
    }
    if (f.result == verdict::does_not_hold) {
      EXPECT_LE(above, 1) << id << ": " << f.detail;
      EXPECT_LT(judged.at("ratio per round, lowest").get<double>(), threshold) << id;
    }
    if (f.result == verdict::inconclusive) {
      EXPECT_TRUE(above > 1 && above < 8) << id << ": " << f.detail;
    }
    EXPECT_NE(f.detail.find("round trip"), std::string::npos) << f.detail;
#else
    EXPECT_EQ(f.result, verdict::not_applicable) << id;
    EXPECT_NE(f.detail.find("liburing"), std::string::npos) << f.detail;
#endif
  }
  EXPECT_TRUE(test::no_children());
}

TEST(SignalProbes, KillAndStopCannotBeCaughtOrIgnored) {
  const auto f = run("signal_kill_stop_fixed");
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_EQ(f.value.at("sigaction(SIGKILL, SIG_IGN)"), "EINVAL");
  EXPECT_EQ(f.value.at("sigaction(SIGSTOP, handler)"), "EINVAL");
  EXPECT_EQ(f.value.at("signal(SIGKILL, SIG_IGN)"), "SIG_ERR, EINVAL");
  EXPECT_EQ(f.value.at("then sent SIGSTOP"), "stopped (T)");
  EXPECT_EQ(f.value.at("then sent SIGKILL"), "killed by SIGKILL");
  EXPECT_TRUE(test::no_children());
}

TEST(Probes, WholeRunHoldsHereAndLeavesNothingBehind) {
  const std::size_t objects = test::kernel_objects();
  std::vector<finding> findings;
  for (const auto& p : all_probes()) findings.push_back(run_probe(p, 20s));
  EXPECT_GE(findings.size(), 20u);
  const std::regex cited(
      "(tutorial 00[0-4], section |man [1-8] |Documentation/networking/|github\\.com/.+/issues/)");
  for (const auto& f : findings) {
    EXPECT_FALSE(f.id.empty() || f.claim.empty() || f.method.empty() || f.detail.empty()) << f.id;
    EXPECT_TRUE(std::regex_search(f.source, cited)) << f.id << ": '" << f.source << "'";
    // The claims a clean run may leave undecided: a "may interleave", and a cost the machine's
    // noise can hide.
    if (f.id == "pipe_large_writes_interleave" && f.result == verdict::not_applicable)
      EXPECT_NE(f.detail.find("no interleaving observed in"), std::string::npos) << f.detail;
    else if (f.id == "sysv_sem_undo_cost")  // timed: any measured verdict (its own test)
      EXPECT_NE(f.detail.find("SEM_UNDO"), std::string::npos) << f.detail;
    else if (f.id == "tcp_zerocopy_loopback")  // timed: any measured verdict (its own test)
      EXPECT_NE(f.result, verdict::not_applicable) << f.detail;
    else if (f.id.rfind("io_uring_", 0) == 0)  // timed, and optional: its own test
      EXPECT_EQ(f.detail.find("timed out"), std::string::npos) << f.id << ": " << f.detail;
    else if (f.id == "sysv_shm_lock_not_sync" && f.result == verdict::not_applicable)
      EXPECT_EQ(f.detail.rfind("shmctl(SHM_LOCK) failed with ", 0), 0u) << f.detail;
    else
      EXPECT_EQ(f.result, verdict::holds) << f.id << ": " << f.detail;
  }
  EXPECT_EQ(test::kernel_objects(), objects);
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
}

TEST(Probes, CannotRunIsNotApplicableWithTheReason) {
  const probe p{"injected", "a claim", "man 7 mq_overview", "a method",
                [](const deadline&) -> outcome {
                  throw std::system_error(ENOSYS, std::system_category(), "mq_open(/x)");
                }};
  const auto f = run_probe(p, 1s);
  EXPECT_EQ(f.result, verdict::not_applicable);
  EXPECT_EQ(f.id, "injected");
  EXPECT_EQ(f.claim, "a claim");
  EXPECT_EQ(f.source, "man 7 mq_overview");
  EXPECT_NE(f.detail.find("could not run: mq_open(/x)"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("Function not implemented"), std::string::npos) << f.detail;
  EXPECT_TRUE(f.value.contains("could not run"));
}

TEST(Probes, RealProbeWithoutItsResourceIsNotApplicable) {
  // RLIMIT_MSGQUEUE 0 makes every mq_open fail (EMFILE), privileged or not.
  auto result = make_pipe();
  auto child = child_process::fork([&] {
    result.read_end.reset();
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_MSGQUEUE, &none) != 0) return 3;
    const auto f = run("posix_mq");
    const std::string line = std::string(to_string(f.result)) + "|" + f.detail;
    return ::write(result.write_end.get(), line.data(), line.size()) ==
                   static_cast<ssize_t>(line.size())
               ? 0
               : 4;
  });
  result.write_end.reset();
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(result.read_end.get(), buf, sizeof buf)) > 0;) text.append(buf, n);
  const auto st = child.wait_for(10s);
  ASSERT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << text;
  EXPECT_EQ(text.rfind("not applicable|could not run: mq_open(", 0), 0u) << text;
  EXPECT_NE(text.find("Too many open files"), std::string::npos) << text;
}

TEST(Probes, MissedDeadlineIsNotApplicableAndKillsTheChild) {
  // The blocking checks need a 200 ms window; 50 ms is not enough.
  const auto f = run_probe(find_probe("pipe_read_empty_blocks"), 50ms);
  EXPECT_EQ(f.result, verdict::not_applicable);
  EXPECT_EQ(f.detail.rfind("timed out: ", 0), 0u) << f.detail;
  EXPECT_TRUE(test::no_children());
  const probe slow{"slow", "c", "s", "m", [](const deadline& d) -> outcome {
                     for (;;) {
                       d.check("spinning");
                       std::this_thread::sleep_for(5ms);
                     }
                   }};
  const auto g = run_probe(slow, 30ms);
  EXPECT_EQ(g.result, verdict::not_applicable);
  EXPECT_NE(g.detail.find("spinning: deadline of 30 ms passed"), std::string::npos) << g.detail;
}

TEST(Probes, FindingJsonRoundTripAndRejects) {
  finding f{"id1", "claim", "man 7 pipe", {{"a", 1}}, verdict::does_not_hold, "method", "detail"};
  const auto j = to_json(f);
  EXPECT_EQ(j.at("verdict"), "does not hold");
  EXPECT_EQ(j.at("source"), "man 7 pipe");
  const auto back = finding_from_json(j);
  EXPECT_EQ(back.id, "id1");
  EXPECT_EQ(back.source, "man 7 pipe");
  EXPECT_EQ(back.value, f.value);
  EXPECT_EQ(back.result, verdict::does_not_hold);
  auto bad = j;
  bad["source"] = 7;
  EXPECT_THROW(finding_from_json(bad), std::invalid_argument);
  bad = j;
  bad["verdict"] = "maybe";
  EXPECT_THROW(finding_from_json(bad), std::invalid_argument);
  bad = j;
  bad.erase("method");
  EXPECT_THROW(finding_from_json(bad), std::invalid_argument);
  EXPECT_THROW(finding_from_json(nlohmann::json::array()), std::invalid_argument);
}

TEST(Probes, FindingWithoutSourceFromAnOlderReportIsRead) {
  const nlohmann::json old = {{"id", "pipe_buf"},
                              {"claim", "PIPE_BUF is 4096"},
                              {"value", {{"PIPE_BUF", 4096}}},
                              {"verdict", "holds"},
                              {"method", "m"},
                              {"detail", "d"}};
  const auto f = finding_from_json(old);
  EXPECT_EQ(f.id, "pipe_buf");
  EXPECT_TRUE(f.source.empty());
  EXPECT_EQ(f.result, verdict::holds);
  // Written again, it says so with an empty source.
  EXPECT_EQ(to_json(f).at("source"), "");
  // A whole probe file of that age, as `ipcbench --probes` reads it.
  const auto path = test::scratch_dir() / "old-probes.json";
  std::ofstream(path) << nlohmann::json{{"probes", {old}}}.dump();
  const auto read = read_probe_file(path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_TRUE(read[0].source.empty());
  // The report's array carries every finding's source, the computed claim's too.
  const auto arr = report_probes({run("pipe_capacity"), f}, {});
  ASSERT_EQ(arr.size(), 3u);
  EXPECT_NE(arr[0].at("source").get<std::string>().find("tutorial 002"), std::string::npos);
  EXPECT_EQ(arr[1].at("source"), "");
  EXPECT_NE(arr[2].at("source").get<std::string>().find("tutorial 000"), std::string::npos);
}

TEST(Probes, TableShowsClaimValueAndVerdict) {
  const std::vector<finding> fs = {
      {"a",
       "A pipe holds 65536 bytes",
       "man 7 pipe",
       {{"F_GETPIPE_SZ", 65536}},
       verdict::holds,
       "m",
       "d"},
      {"b",
       "Something else entirely that is long enough to wrap around the claim column once",
       "man 7 mq_overview",
       {{"could not run", "mq_open(/x): Function not implemented"}},
       verdict::not_applicable,
       "m",
       "could not run: mq_open(/x): Function not implemented"}};
  const std::string t = format_table(fs, 100);
  EXPECT_NE(t.find("claim"), std::string::npos);
  EXPECT_NE(t.find("F_GETPIPE_SZ: 65536"), std::string::npos) << t;
  EXPECT_NE(t.find("| holds"), std::string::npos) << t;
  EXPECT_NE(t.find("| not applicable"), std::string::npos) << t;
  EXPECT_NE(t.find("2 claims: 1 hold, 0 do not hold, 1 not applicable"), std::string::npos) << t;
  std::istringstream lines(t);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
}

// The run records of throughput repetitions at 1 MiB: {id, placement, bytes/s, status}.
std::vector<run_record> records_with(
    const std::vector<std::tuple<std::string, std::string, double, std::string>>& entries) {
  std::vector<run_record> r;
  for (const auto& [id, placement, bps, status] : entries)
    r.push_back({.id = id,
                 .pattern = "throughput",
                 .message_size = 1048576,
                 .placement = placement,
                 .topology = "",
                 .ok = status == "ok",
                 .bytes_per_second = bps,
                 .order = r.size(),
                 .regime = std::nullopt});
  return r;
}

TEST(Copies, HoldsWhenEveryRingRepetitionBeatsEveryPipeRepetition) {
  const auto r = records_with({{"pipe", "cross", 1e9, "ok"},
                               {"pipe", "cross", 2e9, "ok"},
                               {"pipe", "cross", 3e9, "ok"},
                               {"pipe", "cross", 99e9, "failed"},
                               {"posix_shm.futex", "cross", 4e9, "ok"},
                               {"posix_shm.futex", "cross", 6e9, "ok"},
                               {"posix_shm.futex", "cross", 9e9, "ok"},
                               // Only the futex ring counts, however fast the others were.
                               {"sysv_shm.sysv_sem", "cross", 90e9, "ok"},
                               {"tcp", "cross", 50e9, "ok"}});
  const auto f = copies_finding(r);
  EXPECT_EQ(f.id, "shm_futex_faster_than_pipe");
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_EQ(f.value.at("placement"), "cross");
  EXPECT_EQ(f.value.at("pipe bytes/s"), nlohmann::json({1e9, 2e9, 3e9}));
  EXPECT_EQ(f.value.at("shm bytes/s"), nlohmann::json({4e9, 6e9, 9e9}));
  EXPECT_DOUBLE_EQ(f.value.at("ratio lower bound").get<double>(), 1.333);  // 4 / 3
  EXPECT_DOUBLE_EQ(f.value.at("ratio upper bound").get<double>(), 9.0);    // 9 / 1
  EXPECT_DOUBLE_EQ(f.value.at("ratio shm/pipe of the medians").get<double>(), 3.0);
  // Apart, 3 and 3: the exact rank test's least two-sided p, 2 / C(6, 3) = 0.1, the level.
  EXPECT_DOUBLE_EQ(f.value.at("rank test p").get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(f.value.at("least p these repetitions allow").get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(f.value.at("shm faster in share of pairs").get<double>(), 1.0);
  EXPECT_NE(f.detail.find("faster in 100 % of the pairs"), std::string::npos) << f.detail;
  EXPECT_NE(f.claim.find("1 MiB"), std::string::npos);
  EXPECT_EQ(f.claim.find("fewer copies"), std::string::npos);
  EXPECT_NE(f.detail.find("two copies per message"), std::string::npos) << f.detail;
  EXPECT_NE(f.method.find("bytes_per_second"), std::string::npos);
}

TEST(Copies, ComparesOnePairNotATopologyUnderTheSameId) {
  auto r = records_with({{"pipe", "cross", 1e9, "ok"},
                         {"pipe", "cross", 2e9, "ok"},
                         {"pipe", "cross", 3e9, "ok"},
                         {"posix_shm.futex", "cross", 4e9, "ok"},
                         {"posix_shm.futex", "cross", 6e9, "ok"},
                         {"posix_shm.futex", "cross", 9e9, "ok"}});
  // pipe/fan_in/2 and pipe/pairs/2 at 1 MiB: other benchmarks under the same id, fast enough
  // to overlap the ring if they counted.
  for (const char* topology : {"fan_in", "pairs"}) {
    auto t = records_with({{"pipe", "cross", 8e9, "ok"}});
    t[0].topology = topology;
    r.push_back(t[0]);
  }
  const auto f = copies_finding(r);
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_EQ(f.value.at("repetitions").at("pipe"), 3);
}

TEST(Copies, DoesNotHoldWhenEveryRingRepetitionIsSlower) {
  const auto f = copies_finding(records_with({{"pipe", "cross", 5e9, "ok"},
                                              {"pipe", "cross", 6e9, "ok"},
                                              {"pipe", "cross", 7e9, "ok"},
                                              {"posix_shm.futex", "cross", 1e9, "ok"},
                                              {"posix_shm.futex", "cross", 2e9, "ok"},
                                              {"posix_shm.futex", "cross", 4e9, "ok"}}));
  EXPECT_EQ(f.result, verdict::does_not_hold) << f.detail;
  EXPECT_DOUBLE_EQ(f.value.at("ratio upper bound").get<double>(), 0.8);
}

TEST(Copies, InconclusiveWhenRepetitionsOverlapOrAreTooFew) {
  // The best ring repetition beats the best pipe one, and the medians too, but not every one.
  const auto overlap = copies_finding(records_with({{"pipe", "cross", 1e9, "ok"},
                                                    {"pipe", "cross", 2e9, "ok"},
                                                    {"pipe", "cross", 5e9, "ok"},
                                                    {"posix_shm.futex", "cross", 4e9, "ok"},
                                                    {"posix_shm.futex", "cross", 6e9, "ok"},
                                                    {"posix_shm.futex", "cross", 9e9, "ok"}}));
  EXPECT_EQ(overlap.result, verdict::inconclusive) << overlap.detail;
  EXPECT_NE(overlap.detail.find("overlap"), std::string::npos) << overlap.detail;
  // Separated, but one repetition a side proves nothing (chance 1/2 if alike); 2 and 2: 1/6.
  for (int n : {1, 2}) {
    std::vector<std::tuple<std::string, std::string, double, std::string>> e;
    for (int i = 0; i < n; ++i) {
      e.push_back({"pipe", "cross", 1e9, "ok"});
      e.push_back({"posix_shm.futex", "cross", 8e9, "ok"});
    }
    const auto few = copies_finding(records_with(e));
    EXPECT_EQ(few.result, verdict::inconclusive) << n << ": " << few.detail;
    EXPECT_NE(few.detail.find("too few repetitions"), std::string::npos) << few.detail;
  }
  // 2 against 5 is enough (2/21 <= 0.1).
  std::vector<std::tuple<std::string, std::string, double, std::string>> e;
  for (int i = 0; i < 5; ++i) e.push_back({"pipe", "cross", 1e9 + i, "ok"});
  for (int i = 0; i < 2; ++i) e.push_back({"posix_shm.futex", "cross", 8e9 + i, "ok"});
  EXPECT_EQ(copies_finding(records_with(e)).result, verdict::holds);
}

TEST(Copies, TheRankTestDecidesWhereOnlyTheExtremesOverlap) {
  // 5 and 5, the ring faster in 24 of the 25 pairs: its slowest repetition (4.5) below the
  // pipe's fastest (5). Not every repetition beat every one, but by chance this happens with
  // two-sided p = 2 x 2/252 if the two were alike.
  std::vector<std::tuple<std::string, std::string, double, std::string>> e;
  for (double v : {1e9, 2e9, 3e9, 4e9, 5e9}) e.push_back({"pipe", "cross", v, "ok"});
  for (double v : {4.5e9, 6e9, 7e9, 8e9, 9e9}) e.push_back({"posix_shm.futex", "cross", v, "ok"});
  const auto f = copies_finding(records_with(e));
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_NEAR(f.value.at("rank test p").get<double>(), 4.0 / 252, 1e-12);
  EXPECT_DOUBLE_EQ(f.value.at("shm faster in share of pairs").get<double>(), 0.96);
  EXPECT_LT(f.value.at("ratio lower bound").get<double>(), 1.0);
  EXPECT_NE(f.detail.find("faster in 96 % of the pairs"), std::string::npos) << f.detail;
  // The same, mirrored: the ring slower in 24 of 25 pairs.
  std::vector<std::tuple<std::string, std::string, double, std::string>> m;
  for (double v : {1e9, 2e9, 3e9, 4e9, 5e9}) m.push_back({"posix_shm.futex", "cross", v, "ok"});
  for (double v : {4.5e9, 6e9, 7e9, 8e9, 9e9}) m.push_back({"pipe", "cross", v, "ok"});
  const auto g = copies_finding(records_with(m));
  EXPECT_EQ(g.result, verdict::does_not_hold) << g.detail;
  EXPECT_NE(g.detail.find("slower in 96 % of the pairs"), std::string::npos) << g.detail;
}

TEST(Copies, ComparesRepetitionsWithinEachRegimeOfTheHost) {
  // A host in two states: the fast one (regime 0) lifts both, so pooled, the pipe's fast
  // repetitions (5-6 GB/s) overlap the ring's slow ones (3-4 GB/s); within each regime every
  // ring repetition beats every pipe repetition: 2 x 1/C(4,2) x 1/C(6,3) = 1/60 by chance.
  auto r = records_with({{"pipe", "cross", 5e9, "ok"},
                         {"pipe", "cross", 6e9, "ok"},
                         {"posix_shm.futex", "cross", 9e9, "ok"},
                         {"posix_shm.futex", "cross", 10e9, "ok"},
                         {"pipe", "cross", 1e9, "ok"},
                         {"pipe", "cross", 1.5e9, "ok"},
                         {"pipe", "cross", 2e9, "ok"},
                         {"posix_shm.futex", "cross", 3e9, "ok"},
                         {"posix_shm.futex", "cross", 3.5e9, "ok"},
                         {"posix_shm.futex", "cross", 4e9, "ok"}});
  for (std::size_t i = 0; i < r.size(); ++i) r[i].regime = i < 4 ? 0 : 1;
  const auto f = copies_finding(r);
  EXPECT_EQ(f.result, verdict::holds) << f.detail;
  EXPECT_DOUBLE_EQ(f.value.at("ratio lower bound").get<double>(), 1.5);  // 9 / 6 and 3 / 2
  EXPECT_NEAR(f.value.at("rank test p").get<double>(), 1.0 / 60, 1e-12);
  ASSERT_EQ(f.value.at("by regime").size(), 2u);
  EXPECT_EQ(f.value.at("by regime")[1].at("regime"), 1);
  EXPECT_NE(f.detail.find("in the same regime"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("within each of the 2 regime(s)"), std::string::npos) << f.detail;
  // Pooled, the same repetitions overlap: inconclusive.
  for (auto& x : r) x.regime = std::nullopt;
  EXPECT_EQ(copies_finding(r).result, verdict::inconclusive);
  // One pair of a regime out of order still holds (p = 2 x 3/120)...
  for (std::size_t i = 0; i < r.size(); ++i) r[i].regime = i < 4 ? 0 : 1;
  r[4].bytes_per_second = 3.2e9;
  const auto one_out = copies_finding(r);
  EXPECT_EQ(one_out.result, verdict::holds) << one_out.detail;
  EXPECT_NEAR(one_out.value.at("rank test p").get<double>(), 0.05, 1e-12);
  EXPECT_NEAR(one_out.value.at("by regime")[1].at("shm faster in share of pairs").get<double>(),
              0.889, 1e-12);  // 8 of 9
  // ...three do not (p = 2 x 16/120), however apart the other regime is.
  r[5].bytes_per_second = 3.7e9;
  const auto three_out = copies_finding(r);
  EXPECT_EQ(three_out.result, verdict::inconclusive) << three_out.detail;
  EXPECT_NE(three_out.detail.find("overlap too much"), std::string::npos) << three_out.detail;
  r[5].bytes_per_second = 1.5e9;
  // A repetition without a regime in a run that has them is left out, not pooled.
  r[4].regime = std::nullopt;
  const auto g = copies_finding(r);
  EXPECT_EQ(g.result, verdict::holds) << g.detail;
  EXPECT_EQ(g.value.at("repetitions").at("pipe"), 4);
  // Both ran, but never in one regime.
  auto apart = records_with({{"pipe", "cross", 1e9, "ok"},
                             {"pipe", "cross", 1e9, "ok"},
                             {"pipe", "cross", 1e9, "ok"},
                             {"posix_shm.futex", "cross", 2e9, "ok"},
                             {"posix_shm.futex", "cross", 2e9, "ok"},
                             {"posix_shm.futex", "cross", 2e9, "ok"}});
  for (std::size_t i = 0; i < apart.size(); ++i) apart[i].regime = i < 3 ? 0 : 1;
  const auto h = copies_finding(apart);
  EXPECT_EQ(h.result, verdict::inconclusive);
  EXPECT_NE(h.detail.find("never in one regime"), std::string::npos) << h.detail;
  // The host's states order the two opposite ways, each completely: said, not a verdict.
  auto opposite = records_with({{"pipe", "cross", 1e9, "ok"},
                                {"pipe", "cross", 1.1e9, "ok"},
                                {"pipe", "cross", 1.2e9, "ok"},
                                {"posix_shm.futex", "cross", 2e9, "ok"},
                                {"posix_shm.futex", "cross", 2.1e9, "ok"},
                                {"posix_shm.futex", "cross", 2.2e9, "ok"},
                                {"pipe", "cross", 5e9, "ok"},
                                {"pipe", "cross", 5.1e9, "ok"},
                                {"pipe", "cross", 5.2e9, "ok"},
                                {"posix_shm.futex", "cross", 4e9, "ok"},
                                {"posix_shm.futex", "cross", 4.1e9, "ok"},
                                {"posix_shm.futex", "cross", 4.2e9, "ok"}});
  for (std::size_t i = 0; i < opposite.size(); ++i) opposite[i].regime = i < 6 ? 0 : 1;
  const auto o = copies_finding(opposite);
  EXPECT_EQ(o.result, verdict::inconclusive) << o.detail;
  EXPECT_DOUBLE_EQ(o.value.at("shm faster in share of pairs").get<double>(), 0.5);
  EXPECT_NE(o.detail.find("The host's state decides"), std::string::npos) << o.detail;
}

TEST(Copies, UntestedWithoutBothSides) {
  const auto no_shm = copies_finding(records_with({{"pipe", "cross", 4e9, "ok"}}));
  EXPECT_EQ(no_shm.result, verdict::untested);
  EXPECT_NE(no_shm.detail.find("no posix_shm.futex throughput benchmark at 1 MiB"),
            std::string::npos)
      << no_shm.detail;
  EXPECT_EQ(no_shm.value.at("posix_shm.futex at 1 MiB"), "not run");
  // Another shared-memory mechanism does not stand in for the futex ring.
  const auto other_shm = copies_finding(
      records_with({{"pipe", "cross", 4e9, "ok"}, {"odd_segment", "cross", 8e9, "ok"}}));
  EXPECT_EQ(other_shm.result, verdict::untested);
  const auto no_pipe = copies_finding(records_with({{"posix_shm.futex", "cross", 4e9, "ok"}}));
  EXPECT_EQ(no_pipe.result, verdict::untested);
  EXPECT_NE(no_pipe.detail.find("no pipe throughput"), std::string::npos);
  // A different placement does not count.
  const auto other = copies_finding(
      records_with({{"pipe", "cross", 4e9, "ok"}, {"posix_shm.futex", "same", 8e9, "ok"}}));
  EXPECT_EQ(other.result, verdict::untested);
  EXPECT_NE(other.detail.find("no common placement"), std::string::npos);
  // The array puts the file's findings first and replaces a stale copies finding.
  finding stale = no_pipe;
  stale.detail = "stale";
  const auto arr = report_probes({run("pipe_buf"), stale}, records_with({}));
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0].at("id"), "pipe_buf");
  EXPECT_EQ(arr[1].at("id"), "shm_futex_faster_than_pipe");
  EXPECT_NE(arr[1].at("detail"), "stale");
}

TEST(Probes, NewVerdictsRoundTripAndAreCounted) {
  for (verdict v : {verdict::inconclusive, verdict::untested})
    EXPECT_EQ(parse_verdict(to_string(v)), v);
  const std::vector<finding> fs = {{"a", "A", "s", nullptr, verdict::inconclusive, "m", "d"},
                                   {"b", "B", "s", nullptr, verdict::untested, "m", "d"}};
  const std::string t = format_table(fs, 100);
  EXPECT_NE(t.find("2 claims: 0 hold, 0 do not hold, 0 not applicable, 1 inconclusive, 1 untested"),
            std::string::npos)
      << t;
}

// --- the programs ---------------------------------------------------------------------------

struct outcome_of_run {
  int status = -1;
  std::string out, err;
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

std::string slurp(bp::ipstream& s) {
  std::ostringstream o;
  o << s.rdbuf();
  return o.str();
}

outcome_of_run run_program(const char* bin, const std::vector<std::string>& args) {
  bp::ipstream out, err;
  bp::child c(bin, bp::args(args), bp::std_out > out, bp::std_err > err, bp::std_in < bp::null);
  outcome_of_run o;
  std::thread t([&] { o.err = slurp(err); });
  o.out = slurp(out);
  t.join();
  c.wait();
  o.status = c.native_exit_code();
  return o;
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(ProbeCli, BadInputGetsOneLineAndExit2) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{"--out", "/nonexistent/dir/p.json"}, "cannot write '/nonexistent/dir/p.json'"},
      {{"--out"}, "--out needs a value"},
      {{"--timeout", "0"}, "--timeout must be"},
      {{"--filter", "no_such_probe"}, "matches no probe"},
      {{"--filter", "("}, "not a valid regular expression"}};
  for (const auto& [args, expect] : cases) {
    const auto o = run_program(IPCBENCH_PROBE_BIN, args);
    EXPECT_EQ(o.exit_code(), 2) << expect << ": " << o.err;
    EXPECT_EQ(lines(o.err), 1u) << o.err;
    EXPECT_EQ(o.err.rfind("ipcbench-probe: ", 0), 0u) << o.err;
    EXPECT_NE(o.err.find(expect), std::string::npos) << o.err;
    EXPECT_TRUE(o.out.empty()) << o.out;
  }
  EXPECT_TRUE(test::leftovers().empty());
}

TEST(ProbeCli, HelpAndList) {
  const auto help = run_program(IPCBENCH_PROBE_BIN, {"--help"});
  EXPECT_EQ(help.exit_code(), 0);
  for (const char* opt : {"--out", "--filter", "--timeout", "--list"})
    EXPECT_NE(help.out.find(opt), std::string::npos) << opt;
  const auto list = run_program(IPCBENCH_PROBE_BIN, {"--list"});
  EXPECT_EQ(list.exit_code(), 0);
  for (const auto& p : all_probes()) EXPECT_NE(list.out.find(p.id), std::string::npos) << p.id;
}

TEST(ProbeCli, PrintsTheTableAndEmbedsItInTheReport) {
  const auto probes_path = test::scratch_dir() / "probes.json";
  const auto o = run_program(IPCBENCH_PROBE_BIN, {"--filter", "^(pipe_buf|pipe_capacity|fifo_)",
                                                  "--out", probes_path.string()});
  ASSERT_EQ(o.exit_code(), 0) << o.err;
  EXPECT_NE(o.out.find("PIPE_BUF is 4096"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("7 claims: 7 hold"), std::string::npos) << o.out;
  const auto written = read_probe_file(probes_path.string());
  ASSERT_EQ(written.size(), 7u);
  for (const auto& f : written) EXPECT_FALSE(f.source.empty()) << f.id;

  const auto report_path = test::scratch_dir() / "report.json";
  const auto b =
      run_program(IPCBENCH_BIN,
                  {"--sizes", "1048576", "--target-time", "0.01",
                   "--benchmark_filter=^pipe/throughput/", "--benchmark_repetitions=1", "--probes",
                   probes_path.string(), "--benchmark_out=" + report_path.string(), "--progress"});
  ASSERT_EQ(b.exit_code(), 0) << b.err;
  std::ifstream in(report_path);
  const auto report = nlohmann::json::parse(in);
  ASSERT_TRUE(report.at("probes").is_array());
  const auto& arr = report.at("probes");
  ASSERT_EQ(arr.size(), 8u);
  for (const auto& p : arr) {
    for (const char* k : {"id", "claim", "source", "value", "verdict", "method", "detail"})
      EXPECT_TRUE(p.contains(k)) << k;
    EXPECT_TRUE(parse_verdict(p.at("verdict").get<std::string>())) << p.dump();
  }
  EXPECT_EQ(arr[0].at("id"), "pipe_buf");
  EXPECT_EQ(arr[0].at("value").at("PIPE_BUF"), 4096);
  EXPECT_EQ(arr[7].at("id"), "shm_futex_faster_than_pipe");
  EXPECT_EQ(arr[7].at("verdict"), "untested");  // the filter ran no shared memory
  EXPECT_EQ(arr[7].at("value").at("pipe at 1 MiB"), "ran");
  std::filesystem::remove(probes_path);
  std::filesystem::remove(report_path);
  EXPECT_TRUE(test::leftovers().empty());
}

TEST(ProbeCli, SigintLeavesNothingBehind) {
  const std::size_t objects = test::kernel_objects();
  for (auto delay : {150ms, 400ms}) {  // inside the atomicity runs, then in the pipe probes
    bp::child c(IPCBENCH_PROBE_BIN, bp::std_out > bp::null, bp::std_err > bp::null,
                bp::std_in < bp::null);
    std::this_thread::sleep_for(delay);
    ::kill(c.id(), SIGINT);
    c.wait();
    const int st = c.native_exit_code();
    EXPECT_TRUE((WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) ||
                (WIFEXITED(st) && WEXITSTATUS(st) == 0))
        << st;
    EXPECT_TRUE(test::leftovers().empty()) << test::leftovers().front();
  }
  EXPECT_EQ(test::kernel_objects(), objects);
}

TEST(ProbeCli, BenchRejectsABadProbesFile) {
  const auto bad = test::scratch_dir() / "bad.json";
  std::ofstream(bad) << R"({"probes": [{"id": "x", "claim": "c", "value": 1, "verdict": "sure",
                          "method": "m", "detail": "d"}]})";
  for (const std::string& path : {bad.string(), (test::scratch_dir() / "missing.json").string()}) {
    const auto o = run_program(
        IPCBENCH_BIN, {"--probes", path, "--benchmark_filter=^null/", "--benchmark_repetitions=1"});
    EXPECT_EQ(o.exit_code(), 2) << o.err;
    EXPECT_EQ(lines(o.err), 1u) << o.err;
    EXPECT_EQ(o.err.rfind("ipcbench: --probes: ", 0), 0u) << o.err;
  }
  std::filesystem::remove(bad);
}

// The floor check leaves out the mechanisms that copy the message fewer than twice: those whose
// receiver reads it in place, and those that declare a single copy (cma, memfd.*), whose ratio
// to a floor of two copies may well exceed 1; a copying mechanism above its floor is named.
TEST(CopyFloor, CheckLeavesOutSingleCopyAndInPlaceMechanisms) {
  const nlohmann::json mechanisms = {
      {{"id", "pipe"}, {"verification", "separate"}, {"single_copy", false}},
      {{"id", "posix_shm.futex.inplace"}, {"verification", "in place"}, {"single_copy", false}},
      {{"id", "cma"}, {"verification", "separate"}, {"single_copy", true}},
      {{"id", "memfd.per_message"}, {"verification", "in place"}, {"single_copy", true}},
      // A report from before the field: not single-copy.
      {{"id", "tcp"}, {"verification", "separate"}}};
  nlohmann::json benchmarks = nlohmann::json::array();
  for (const auto& m : mechanisms) {
    const std::string id = m.at("id");
    benchmarks.push_back({{"run_type", "iteration"},
                          {"family", "x"},
                          {"id", id},
                          {"run_name", id + "/throughput/1048576/cross"},
                          {"repetition_index", 0},
                          {"bytes_per_second_per_copy_floor", 1.5}});
  }
  const auto check = ipcbench::floor_check_json(benchmarks, mechanisms);
  EXPECT_EQ(check.at("repetitions_checked"), 2);
  ASSERT_EQ(check.at("copy_floor_beaten").size(), 2u);
  EXPECT_EQ(check.at("copy_floor_beaten").at(0).at("name"), "pipe/throughput/1048576/cross");
  EXPECT_EQ(check.at("copy_floor_beaten").at(1).at("name"), "tcp/throughput/1048576/cross");
}

// The copy floor the check and the ratios use is the best the run measured at each size: on the
// 2-vCPU EPYC VM the host's copy rate flips between about 10 and 30 GB/s faster than the floors
// beside a repetition follow, so a ring that beat the floor beside it (17 against 10 GB/s) only
// counts as that, and one that beat the best of the run is named. The start's calibration counts
// as one more measurement; a ratio that was null (fan-in, fan-out) stays null.
TEST(CopyFloor, TheRunsBestFloorAtEachSizeBoundsItsRepetitions) {
  const nlohmann::json mechanisms = {{{"id", "posix_shm.spin"}, {"verification", "fused"}}};
  const auto entry = [](std::uint64_t size, double bps, nlohmann::json floor, int index) {
    nlohmann::json e = {
        {"run_type", "iteration"},
        {"family", "shared memory"},
        {"id", "posix_shm.spin"},
        {"run_name", "posix_shm.spin/throughput/" + std::to_string(size) + "/cross"},
        {"repetition_index", index},
        {"message_size", size},
        {"bytes_per_second", bps},
        {"bytes_per_second_per_copy_floor", nullptr}};
    if (floor.is_number()) {
      e["floors"] = {{"copy_floor_bytes_per_second", floor}};
      e["bytes_per_second_per_copy_floor"] = bps / floor.get<double>();
    }
    return e;
  };
  nlohmann::json benchmarks = {entry(4096, 17e9, 10e9, 0),  entry(4096, 20e9, 30e9, 1),
                               entry(4096, 11e9, 12e9, 2),  entry(65536, 10e9, 20e9, 0),
                               entry(65536, 26e9, 25e9, 1), entry(65536, 5e9, nullptr, 2)};
  const auto floors =
      ipcbench::apply_run_copy_floors(benchmarks, {{"4096", 25e9}, {"65536", nullptr}});
  EXPECT_EQ(floors.at("4096"), nlohmann::json({{"median", 18.5e9},
                                               {"min", 10e9},
                                               {"max", 30e9},
                                               {"p10", 10e9},
                                               {"p90", 30e9},
                                               {"samples", 4}}));
  EXPECT_EQ(floors.at("65536").at("max"), 25e9);
  EXPECT_EQ(floors.at("65536").at("samples"), 2);
  EXPECT_DOUBLE_EQ(benchmarks[0].at("bytes_per_second_per_copy_floor").get<double>(), 17.0 / 30);
  EXPECT_DOUBLE_EQ(benchmarks[2].at("bytes_per_second_per_copy_floor").get<double>(), 11.0 / 30);
  EXPECT_DOUBLE_EQ(benchmarks[4].at("bytes_per_second_per_copy_floor").get<double>(), 26.0 / 25);
  EXPECT_TRUE(benchmarks[5].at("bytes_per_second_per_copy_floor").is_null());
  const auto check = ipcbench::floor_check_json(benchmarks, mechanisms);
  EXPECT_EQ(check.at("repetitions_checked"), 5);
  EXPECT_EQ(check.at("beat_the_floor_beside"), 2);  // 17 over 10 GB/s, 26 over 25
  ASSERT_EQ(check.at("copy_floor_beaten").size(), 1u);
  EXPECT_EQ(check.at("copy_floor_beaten").at(0).at("name"),
            "posix_shm.spin/throughput/65536/cross");
  EXPECT_EQ(check.at("copy_floor_beaten").at(0).at("repetition_index"), 1);
}

// A round trip under the cache-line floor beside it is named: every cross-CPU round trip moves a
// line each way. The bound is the lower of the floors before and after the repetition, so a host
// that moved between them beats nothing; the null channel (calibration) crosses no CPU, and a
// failed repetition or one without a floor is not checked.
TEST(LineFloor, ARoundTripUnderTheFloorBesideItIsNamed) {
  const auto entry = [](const std::string& id, const std::string& family, double rtt,
                        nlohmann::json before, nlohmann::json after, int index,
                        const std::string& status = "ok") {
    nlohmann::json e = {
        {"run_type", "iteration"},   {"family", family}, {"id", id},
        {"pattern", "latency"},      {"status", status}, {"run_name", id + "/latency/64/cross"},
        {"repetition_index", index}, {"rtt_p50_ns", rtt}};
    e["floors"] = nlohmann::json::object();
    if (!before.is_null()) e["floors"]["cache_line_rtt_p50_ns"] = before;
    if (!after.is_null()) e["floors"]["cache_line_rtt_p50_ns_after"] = after;
    return e;
  };
  const nlohmann::json benchmarks = {
      entry("posix_shm.spin", "shm", 700, 885, 881, 0),      // under both: named
      entry("posix_shm.spin", "shm", 700, 885, 529, 1),      // the host moved: not under 529
      entry("posix_shm.spin", "shm", 600, nullptr, 650, 2),  // only the floor after: named
      entry("pipe", "pipes", 13000, 530, 530, 0),
      entry("null", "calibration", 90, 530, 530, 0),
      entry("pipe", "pipes", 100, 530, 530, 1, "failed"),
      entry("pipe", "pipes", 100, nullptr, nullptr, 2)};
  const auto check = ipcbench::floor_check_json(benchmarks, nlohmann::json::array());
  EXPECT_EQ(check.at("round_trips_checked"), 4);
  ASSERT_EQ(check.at("line_floor_beaten").size(), 2u);
  EXPECT_EQ(check.at("line_floor_beaten").at(0).at("repetition_index"), 0);
  EXPECT_DOUBLE_EQ(check.at("line_floor_beaten").at(0).at("ratio").get<double>(), 700.0 / 881);
  EXPECT_EQ(check.at("line_floor_beaten").at(1).at("repetition_index"), 2);
  EXPECT_EQ(check.at("line_floor_beaten").at(1).at("name"), "posix_shm.spin/latency/64/cross");
  // The copy half sees no throughput repetition here.
  EXPECT_EQ(check.at("repetitions_checked"), 0);
}

// A report of the throughput benchmarks `filter` selects at `sizes`, two repetitions each.
nlohmann::json floor_report(const std::string& sizes, const std::string& filter) {
  const auto path = test::scratch_dir() / "report-floor.json";
  const auto o =
      run_program(IPCBENCH_BIN, {"--sizes", sizes, "--target-time", "0.01",
                                 "--benchmark_repetitions=2", "--benchmark_out=" + path.string(),
                                 "--progress", "--benchmark_filter=" + filter});
  EXPECT_EQ(o.exit_code(), 0) << o.err;
  std::ifstream in(path);
  auto report = nlohmann::json::parse(in);
  std::filesystem::remove(path);
  return report;
}

// The copy floor is a floor: the fastest shared-memory rings and a kernel socket, in the same run,
// never move data faster than the best floor the run measured at their size (apply_run_copy_floors;
// each repetition's own is measured beside it) (with the vCPUs of the development
// VM apart, unix_stream moved 5.7 GB/s at 1 MiB through the kernel's fresh pages, where a floor
// whose 256 KiB ring kept every line moving between the two cores' caches moved 2.3), and the
// report says which repetitions it checked
// (not iceoryx.zerocopy's: its consumer copies nothing out, and two copies do not bound it).
// Its estimates and regimes are there, one per benchmark. It runs alone, with these tests: a test
// loading a CPU while a floor is measured and not while the ring runs would lower the floor.
// A floor that is wrong is beaten every time (4 KiB aliasing halved it at 4095 B, publishing
// more often than the rings let posix_shm.spin beat it at 16 KiB); the host can also slow one
// floor measurement of a few ms and not the ring beside it (a CI run here saw
// posix_shm.adaptive at 1 MiB beat it by 2.8 % once, on a host whose copies had slowed tenfold).
// So a benchmark that beats its floor is run again, twice, and fails only if it beats the floor
// in every attempt.
TEST(CopyFloor, NoRingBeatsTheRunsCopyFloor) {
  if (ipcbench::allowed_cpus().size() < 2)
    GTEST_SKIP() << "the copy floor is measured between two CPUs";
  const auto report = floor_report(
      "64,4095,4096,65536,1048576",
      "^(posix_shm\\.(spin|adaptive|futex)|iceoryx\\.(zerocopy|copy)|unix_stream)/throughput/");
  const auto& check = report.at("context").at("ipcbench").at("floor_check");
  EXPECT_GE(check.at("repetitions_checked").get<int>(), 2 * 4 * 5);
  std::map<std::string, std::vector<double>> beaten;  // name: the ratio in each attempt
  for (const auto& b : check.at("copy_floor_beaten")) {
    EXPECT_EQ(b.at("name").get<std::string>().find("zerocopy"), std::string::npos);
    beaten[b.at("name").get<std::string>()].push_back(b.at("ratio").get<double>());
  }
  for (auto& [name, ratios] : beaten) {
    const std::string size = name.substr(name.find("/throughput/") + 12,
                                         name.rfind('/') - name.find("/throughput/") - 12);
    std::string exact;  // the report name as a regular expression
    for (char c : name) (c == '.' ? exact += "\\." : exact += c);
    for (int attempt = 0; attempt < 2; ++attempt) {
      const auto again = floor_report(size, "^" + exact + "$");
      const auto& c = again.at("context").at("ipcbench").at("floor_check");
      EXPECT_EQ(c.at("repetitions_checked"), 2) << name;
      if (c.at("copy_floor_beaten").empty()) {
        ratios.clear();
        break;
      }
      ratios.push_back(c.at("copy_floor_beaten").at(0).at("ratio").get<double>());
    }
    EXPECT_TRUE(ratios.empty()) << name << " beat the run's copy floor in every attempt, "
                                << "by " << testing::PrintToString(ratios);
  }
  EXPECT_TRUE(report.at("context").at("ipcbench").at("regimes").is_object());
  const auto& estimates = report.at("estimates");
  for (const auto& b : report.at("benchmarks")) {
    if (b.at("run_type") != "iteration") continue;
    const auto& e = estimates.at(b.at("run_name").get<std::string>());
    EXPECT_EQ(e.at("metric"), "bytes_per_second");
    EXPECT_EQ(e.at("repetitions"), 2);
    EXPECT_EQ(e.at("stopped"), "cap");
  }
}

}  // namespace
}  // namespace ipcbench::probes
