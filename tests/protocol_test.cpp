// The control channel's typed messages: their JSON forms read back unchanged, the wire keys the
// peers and coordinator share, and assemble() turning two peer reports into a run_result.
#include "harness/protocol.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "harness/coordinator.hpp"
#include "harness/library_threads.hpp"
#include "harness/message.hpp"
#include "harness/pairs.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {
namespace {

peer_report report_of(std::uint64_t messages, std::int64_t t0, std::int64_t t1) {
  peer_report r;
  r.messages = messages;
  r.integrity_summary = "no errors";
  r.t0 = t0;
  r.t1 = t1;
  r.cpu = {100, 20, 130};
  return r;
}

TEST(Protocol, PeerReportReadsBackUnchanged) {
  peer_report r = report_of(1000, 5, 905);
  r.integrity_errors = 2;
  r.integrity_summary = "2 corrupted";
  histogram h;
  for (std::int64_t v : {100, 200, 300, 5000}) h.record(v);
  r.rtt = h;
  r.loss = loss_counts{3, 1, 2, 997, 4, 990};
  r.waited_ns = 1234;

  const nlohmann::json j = r;
  EXPECT_EQ(j.at("type"), "result");
  // The wire keys are flat, as the coordinator has always read them.
  for (const char* key :
       {"messages", "integrity_errors", "integrity_summary", "t0", "t1", "user_ns", "sys_ns", "rtt",
        "lost", "duplicated", "reordered", "expected", "stale", "delivered"})
    EXPECT_TRUE(j.contains(key)) << key;

  const auto back = j.get<peer_report>();
  EXPECT_EQ(back.messages, 1000u);
  EXPECT_EQ(back.integrity_errors, 2u);
  EXPECT_EQ(back.integrity_summary, "2 corrupted");
  EXPECT_EQ(back.t0, 5);
  EXPECT_EQ(back.t1, 905);
  EXPECT_EQ(back.cpu.user_ns, 100);
  EXPECT_EQ(back.cpu.sys_ns, 20);
  ASSERT_TRUE(back.rtt);
  EXPECT_EQ(back.rtt->count(), 4u);
  EXPECT_EQ(back.rtt->max(), 5000);
  ASSERT_TRUE(back.loss);
  EXPECT_EQ(back.loss->lost, 3u);
  EXPECT_EQ(back.loss->duplicated, 1u);
  EXPECT_EQ(back.loss->reordered, 2u);
  EXPECT_EQ(back.loss->expected, 997u);
  EXPECT_EQ(back.loss->stale, 4u);
  EXPECT_EQ(back.loss->delivered, 990u);
  EXPECT_EQ(back.waited_ns, 1234);
}

TEST(Protocol, OptionalPartsStayOffTheWire) {
  const nlohmann::json j = report_of(10, 0, 1);
  EXPECT_FALSE(j.contains("rtt"));
  EXPECT_FALSE(j.contains("lost"));
  EXPECT_FALSE(j.contains("waited_ns"));
  const auto back = j.get<peer_report>();
  EXPECT_FALSE(back.rtt);
  EXPECT_FALSE(back.waited_ns);
  EXPECT_FALSE(back.loss);
}

TEST(Protocol, TurnaroundAndCpuStatesReadBack) {
  peer_report r = report_of(10, 0, 1);
  histogram h;
  h.record(77);
  r.turnaround = h;
  cpu_window w;
  w.window_ns = 250'000'000;
  w.cpus[3] = cpu_state_times{1, 2, 3, 4, 5, 6, 7, 8};
  r.cpu_states = w;
  const auto back = nlohmann::json(r).get<peer_report>();
  ASSERT_TRUE(back.turnaround);
  EXPECT_EQ(back.turnaround->count(), 1u);
  EXPECT_EQ(back.cpu.total_ns, 130);
  ASSERT_TRUE(back.cpu_states);
  EXPECT_EQ(back.cpu_states->window_ns, 250'000'000);
  ASSERT_EQ(back.cpu_states->cpus.count(3), 1u);
  EXPECT_EQ(back.cpu_states->cpus.at(3).softirq_ns, 7);
  EXPECT_EQ(back.cpu_states->cpus.at(3).steal_ns, 8);
}

TEST(Protocol, LibraryThreadsReadBack) {
  peer_report r = report_of(10, 0, 1);
  EXPECT_FALSE(nlohmann::json(r).contains("library"));
  r.library = library_time{11, 22, 33, 2, 400};
  const auto back = nlohmann::json(r).get<peer_report>();
  ASSERT_TRUE(back.library);
  EXPECT_EQ(back.library->own_cpu_ns, 11);
  EXPECT_EQ(back.library->other_cpu_ns, 22);
  EXPECT_EQ(back.library->moved_ns, 33);
  EXPECT_EQ(back.library->threads, 2u);
  EXPECT_EQ(back.library->window_ns, 400);
}

// Where a peer's other threads ran, from two snapshots: by the CPU at both ends, a thread that
// changed CPU as moved, one that did not run or was not there at both left out.
TEST(LibraryThreads, TimeBetweenSnapshotsByWhereEachThreadRan) {
  const task_snapshot before = {
      {101, {1000, 0}}, {102, {1000, 1}}, {103, {1000, 1}}, {104, {1000, 0}}, {105, {500, 0}}};
  const task_snapshot after = {{101, {4000, 0}},   // own CPU (0): 3000
                               {102, {3000, 1}},   // other: 2000
                               {103, {1500, 0}},   // moved: 500
                               {104, {1000, 0}},   // did not run
                               {106, {9000, 0}}};  // started in between; 105 ended
  const library_time t = library_time_between(before, after, 0);
  EXPECT_EQ(t.own_cpu_ns, 3000);
  EXPECT_EQ(t.other_cpu_ns, 2000);
  EXPECT_EQ(t.moved_ns, 500);
  EXPECT_EQ(t.threads, 3u);
  EXPECT_EQ(t.total_ns(), 5500);
}

TEST(LibraryThreads, PlacementIsOwnOtherMixedOrIdle) {
  EXPECT_STREQ(placement_of(library_time{900, 100, 0, 1, 10'000}), "own");
  EXPECT_STREQ(placement_of(library_time{100, 900, 0, 1, 10'000}), "other");
  EXPECT_STREQ(placement_of(library_time{500, 500, 0, 2, 10'000}), "mixed");
  EXPECT_STREQ(placement_of(library_time{0, 0, 1000, 1, 10'000}), "mixed");
  // Under 1 % of the window: where they sat cannot matter.
  EXPECT_STREQ(placement_of(library_time{0, 99, 0, 1, 10'000}), "idle");
  EXPECT_STREQ(placement_of(library_time{}), "idle");
}

// (Other threads of the test program, a library's started at load among them, may come and go.)
TEST(LibraryThreads, ThisProcessSeesItsOtherThreadsOnly) {
  std::atomic<bool> stop{false};
  std::atomic<pid_t> spinner_tid{0};
  std::thread spinner([&] {
    spinner_tid = static_cast<pid_t>(::gettid());
    while (!stop.load()) {
    }
  });
  while (spinner_tid.load() == 0) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto with = snapshot_other_threads();
  stop = true;
  spinner.join();
  ASSERT_TRUE(with);
  ASSERT_EQ(with->count(spinner_tid.load()), 1u);
  EXPECT_GT(with->at(spinner_tid.load()).run_ns, 0);
  EXPECT_GE(with->at(spinner_tid.load()).cpu, 0);
  EXPECT_EQ(with->count(static_cast<pid_t>(::gettid())), 0u);
}

TEST(CpuStates, ParsesOneCpuOfProcStat) {
  const std::string stat =
      "cpu  10 0 20 300 0 0 5 1 0 0\n"
      "cpu0 4 0 8 150 0 0 2 1 0 0\n"
      "cpu1 6 1 12 150 3 4 3 2 0 0\n"
      "cpu10 9 9 9 9 9 9 9 9 0 0\n"
      "intr 12345 0 1\n";
  const long hz = ::sysconf(_SC_CLK_TCK);
  const std::int64_t tick = 1'000'000'000LL / hz;
  const auto c1 = parse_cpu_state_times(stat, 1);
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->user_ns, 6 * tick);
  EXPECT_EQ(c1->nice_ns, 1 * tick);
  EXPECT_EQ(c1->system_ns, 12 * tick);
  EXPECT_EQ(c1->iowait_ns, 3 * tick);
  EXPECT_EQ(c1->irq_ns, 4 * tick);
  EXPECT_EQ(c1->softirq_ns, 3 * tick);
  EXPECT_EQ(c1->steal_ns, 2 * tick);
  EXPECT_EQ(parse_cpu_state_times(stat, 10)->user_ns, 9 * tick);  // not cpu1's line
  EXPECT_FALSE(parse_cpu_state_times(stat, 2));
  EXPECT_FALSE(parse_cpu_state_times("cpu3 1 2\n", 3));  // too few fields
  const auto d = *c1 - *parse_cpu_state_times(stat, 0);
  EXPECT_EQ(d.user_ns, 2 * tick);
  // This machine's own /proc/stat has a line for CPU 0.
  EXPECT_TRUE(read_cpu_state_times(0));
}

TEST(Sizing, ShortRoundTripsAreTimedInBatches) {
  run_request req;
  req.timer_ns = 20;
  EXPECT_EQ(rtt_batch_for(req, 100'000), 1u);  // 40 ns of clock reads in 100 us: 0.04 %
  EXPECT_EQ(rtt_batch_for(req, 2'000), 1u);    // exactly 2 %
  EXPECT_EQ(rtt_batch_for(req, 200), 10u);     // 40 ns per 200 ns: 10 round trips per sample
  req.timer_ns = 0;                            // unknown: every round trip timed
  EXPECT_EQ(rtt_batch_for(req, 200), 1u);
}

TEST(Sizing, TheFlowingWarmUpLastsAFifthOfTheTarget) {
  run_request req;
  req.target_time_s = 0.2;
  EXPECT_EQ(flowing_warmup_count(req, 1000), 40'000u);  // 40 ms of 1 us messages
  EXPECT_EQ(flowing_warmup_count(req, 1e9), 4u);        // at least a few messages
}

TEST(Sizing, AFanStreamSizesOnSixteenMebibytesAndPairsAsOnePair) {
  run_request req;
  req.pat = pattern::throughput;
  req.message_size = 64;
  ASSERT_EQ(warmup_count(req), 1000u);
  EXPECT_EQ(group_sizing_count(req, topology::fan_out), kGroupSizingMax);  // 16 MiB: capped
  EXPECT_EQ(group_sizing_count(req, topology::fan_in), kGroupSizingMax);
  EXPECT_EQ(group_sizing_count(req, topology::pairs), 1000u);  // a channel per pair
  req.message_size = 1 << 20;
  EXPECT_EQ(group_sizing_count(req, topology::fan_out), 16u);
  req.message_size = 64;
  req.pat = pattern::latency;  // round trips: the pair's count everywhere
  EXPECT_EQ(group_sizing_count(req, topology::fan_in), 1000u);
}

TEST(Sizing, AHintedSizingRunLastsAboutFourMillisecondsAndNeverMoreThanTheFullOne) {
  run_request req;
  req.pat = pattern::latency;
  req.message_size = 64;
  ASSERT_EQ(warmup_count(req), 1000u);
  EXPECT_EQ(hinted_sizing_count(req, 8'000), 500u);  // 8 us round trips: 4 ms
  EXPECT_EQ(hinted_sizing_count(req, 7'000), 572u);  // rounded up
  EXPECT_EQ(hinted_sizing_count(req, 100), 1000u);   // 0.1 ms for the full sizing run: kept
  EXPECT_EQ(hinted_sizing_count(req, 1e9), 4u);      // at least a few messages
  EXPECT_EQ(hinted_sizing_count(req, 0), 1000u);     // no hint
  req.message_size = 1 << 20;                        // 16 messages of 1 MiB in full
  EXPECT_EQ(hinted_sizing_count(req, 500'000), 8u);  // 0.5 ms each
}

TEST(Sizing, AHintedStreamMayCarryMoreThanTheFullSizingRunToMeetAFullRing) {
  run_request req;
  req.pat = pattern::throughput;
  req.message_size = 64;
  ASSERT_EQ(warmup_count(req), 1000u);
  EXPECT_EQ(hinted_sizing_count(req, 250), 16'000u);          // 4 ms of 250 ns messages
  EXPECT_EQ(hinted_sizing_count(req, 100), kGroupSizingMax);  // at most 16 MiB or 16,384
  EXPECT_EQ(hinted_sizing_count(req, 20'000), 200u);          // a slow stream: 4 ms
  EXPECT_EQ(hinted_sizing_count(req, 0), 1000u);              // no hint: the full one
  req.message_size = 1 << 20;
  EXPECT_EQ(hinted_sizing_count(req, 1'000), 16u);  // 16 MiB of 1 MiB messages at most
}

// A member that died between two orders: the coordinator's next order finds its control channel
// closed (peer_gone), with SIGPIPE at its default disposition, which would kill the sender.
TEST(Protocol, AnOrderToAMemberThatIsGoneIsPeerGoneNotSigpipe) {
  auto [mine, theirs] = make_socketpair(SOCK_STREAM);
  theirs.reset();
  struct sigaction old {};
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old), 0);
  control_link link(std::move(mine));
  EXPECT_THROW(send_message(link, exit_order{}), peer_gone);
  ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(Protocol, MissingKeyThrows) {
  nlohmann::json j = report_of(10, 0, 1);
  j.erase("t1");
  EXPECT_THROW(j.get<peer_report>(), nlohmann::json::exception);
}

TEST(Protocol, OrdersAndNoticesCarryTheirType) {
  EXPECT_EQ(nlohmann::json(opened_notice{}), (nlohmann::json{{"type", "opened"}}));
  EXPECT_EQ(nlohmann::json(warmup_order{7}), (nlohmann::json{{"type", "warmup"}, {"count", 7}}));
  EXPECT_EQ(nlohmann::json(warm_notice{42}), (nlohmann::json{{"type", "warm"}, {"ns", 42}}));
  EXPECT_EQ(nlohmann::json(go_order{3, 9, 2, 64, {1, 0}, {}}),
            (nlohmann::json{{"type", "go"},
                            {"warm", 3},
                            {"count", 9},
                            {"rtt_batch", 2},
                            {"turnaround_stride", 64},
                            {"stat_cpus", {1, 0}}}));
  EXPECT_EQ(nlohmann::json(exit_order{}), (nlohmann::json{{"type", "exit"}}));
  EXPECT_EQ(nlohmann::json(peer_error{"boom"}),
            (nlohmann::json{{"type", "error"}, {"what", "boom"}}));
  const auto go = nlohmann::json(go_order{3, 9, 2, 64, {1, 0}, {77}}).get<go_order>();
  EXPECT_EQ(go.helper_pids, (std::vector<int>{77}));
  EXPECT_EQ(go.warm, 3u);
  EXPECT_EQ(go.count, 9u);
  EXPECT_EQ(go.rtt_batch, 2u);
  EXPECT_EQ(go.turnaround_stride, 64u);
  EXPECT_EQ(go.stat_cpus, (std::vector<int>{1, 0}));
  EXPECT_EQ(nlohmann::json(warm_notice{42}).get<warm_notice>().ns, 42);
}

TEST(Protocol, RequestCarriesWhatAPeerReads) {
  run_request req;
  req.pat = pattern::throughput;
  req.message_size = 4097;
  req.timeout = std::chrono::milliseconds(1234);
  req.lossy = true;
  req.send_rate = 12345.5;  // a paced stream's producer paces itself
  req.fixed_messages = 99;  // stays behind
  const auto back = nlohmann::json(req).get<run_request>();
  EXPECT_EQ(back.pat, pattern::throughput);
  EXPECT_EQ(back.send_rate, 12345.5);
  EXPECT_EQ(back.message_size, 4097u);
  EXPECT_EQ(back.timeout, std::chrono::milliseconds(1234));
  EXPECT_TRUE(back.lossy);
  EXPECT_EQ(back.fixed_messages, 0u);
  EXPECT_TRUE(back.library_cpus.empty());
  EXPECT_EQ(back.library_threads, library_threads_mode::pinned);

  nlohmann::json bad = req;
  bad["pattern"] = "sideways";
  EXPECT_THROW(bad.get<run_request>(), std::invalid_argument);
}

// A launched peer of a library with threads of its own learns where they may run and whether
// they stay on its CPU (--library-threads).
TEST(Protocol, RequestCarriesTheLibraryThreadsMode) {
  run_request req;
  req.library_cpus = {0, 1};
  for (const auto mode : {library_threads_mode::pinned, library_threads_mode::free}) {
    req.library_threads = mode;
    const auto back = nlohmann::json(req).get<run_request>();
    EXPECT_EQ(back.library_cpus, (std::vector<int>{0, 1}));
    EXPECT_EQ(back.library_threads, mode) << to_string(mode);
  }
  nlohmann::json bad = req;
  bad["library_threads"] = "loose";
  EXPECT_THROW(bad.get<run_request>(), std::invalid_argument);
  EXPECT_EQ(parse_library_threads_mode("pinned"), library_threads_mode::pinned);
  EXPECT_EQ(parse_library_threads_mode("free"), library_threads_mode::free);
  EXPECT_FALSE(parse_library_threads_mode("").has_value());
}

TEST(Assemble, LatencyTakesTheProducersRoundTrips) {
  run_request req;
  req.pat = pattern::latency;
  batch_reports b{50, report_of(50, 1000, 6000), report_of(50, 900, 7000)};
  b.producer.rtt = histogram();
  b.producer.rtt->record(100);
  const run_result r = assemble(req, b);
  EXPECT_EQ(r.status, run_status::ok);
  EXPECT_EQ(r.messages, 50u);
  EXPECT_EQ(r.elapsed_ns, 5000);
  EXPECT_EQ(r.rtt.count(), 1u);
  EXPECT_EQ(r.producer_cpu.user_ns, 100);
  EXPECT_EQ(r.consumer_cpu.sys_ns, 20);
  EXPECT_EQ(r.producer_cpu.total_ns, 130);
  EXPECT_DOUBLE_EQ(r.cpu_ns_per_message(), 260.0 / 50);  // exact totals, not the split

  b.producer.rtt.reset();
  EXPECT_THROW(assemble(req, b), std::runtime_error);
}

TEST(Assemble, ThroughputRunsFromProducerStartToConsumerEnd) {
  run_request req;
  req.pat = pattern::throughput;
  const run_result r =
      assemble(req, batch_reports{8, report_of(8, 1000, 2000), report_of(8, 1100, 9000)});
  EXPECT_EQ(r.status, run_status::ok);
  EXPECT_EQ(r.elapsed_ns, 8000);
}

TEST(Protocol, BatchPartsReadBack) {
  go_order go;
  go.sub_batches = 4;
  EXPECT_EQ(nlohmann::json(go).get<go_order>().sub_batches, 4u);
  EXPECT_FALSE(nlohmann::json(go_order{}).contains("sub_batches"));
  peer_report r = report_of(10, 0, 1);
  r.sub_ends_ns = {5, 9};
  r.sub_p50_ns = {700, 800};
  const auto back = nlohmann::json(r).get<peer_report>();
  EXPECT_EQ(back.sub_ends_ns, (std::vector<std::int64_t>{5, 9}));
  EXPECT_EQ(back.sub_p50_ns, (std::vector<std::int64_t>{700, 800}));
  EXPECT_FALSE(nlohmann::json(report_of(10, 0, 1)).contains("sub_ends_ns"));
}

TEST(Assemble, AStreamsPartsRunFromTheProducersStartAndEachPartsEnd) {
  // 8 messages of 100 bytes in 4 parts of 2: the first from the producer's start (1000), each
  // later one from the consumer's end of the part before.
  run_request req;
  req.pat = pattern::throughput;
  req.message_size = 100;
  peer_report consumer = report_of(8, 1100, 9000);
  consumer.sub_ends_ns = {2000, 4000, 5000, 9000};
  const run_result r = assemble(req, batch_reports{8, report_of(8, 1000, 2000), consumer});
  ASSERT_EQ(r.sub_values.size(), 4u);
  EXPECT_DOUBLE_EQ(r.sub_values[0], 200 * 1e9 / 1000);
  EXPECT_DOUBLE_EQ(r.sub_values[1], 200 * 1e9 / 2000);
  EXPECT_DOUBLE_EQ(r.sub_values[2], 200 * 1e9 / 1000);
  EXPECT_DOUBLE_EQ(r.sub_values[3], 200 * 1e9 / 4000);
  EXPECT_EQ(sub_batch_end(8, 4, 1, 1), 2u);
  EXPECT_EQ(sub_batch_end(10, 4, 2, 1), 2u);  // whole multiples of rtt_batch, the last to 10
  EXPECT_EQ(sub_batch_end(10, 4, 2, 3), 6u);
  EXPECT_EQ(sub_batch_end(10, 4, 2, 4), 10u);
}

TEST(Assemble, ContentErrorsFailWithBothSummaries) {
  run_request req;
  req.pat = pattern::throughput;
  batch_reports b{8, report_of(8, 0, 1), report_of(8, 0, 1)};
  b.consumer.integrity_errors = 1;
  b.consumer.integrity_summary = "1 corrupted";
  const run_result r = assemble(req, b);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_EQ(r.integrity_errors, 1u);
  EXPECT_EQ(r.reason, "data check: producer no errors; consumer 1 corrupted");
}

TEST(Assemble, LossyStreamIsOkWithItsGoodputAndLossRate) {
  run_request req;
  req.pat = pattern::throughput;
  req.lossy = true;
  batch_reports b{100, report_of(100, 0, 1), report_of(100, 0, 2'000'000'000)};
  b.producer.loss = loss_counts{};
  b.consumer.loss = loss_counts{4, 1, 2, 100, 3, 96};
  const run_result r = assemble(req, b);
  EXPECT_EQ(r.status, run_status::ok) << r.reason;
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.lost, 4u);
  EXPECT_EQ(r.duplicated, 1u);
  EXPECT_EQ(r.reordered, 2u);
  EXPECT_EQ(r.stale, 3u);
  EXPECT_EQ(r.integrity_errors, 0u);
  EXPECT_TRUE(r.goodput);
  EXPECT_EQ(r.delivered, 96u);
  EXPECT_EQ(r.elapsed_ns, 2'000'000'000);
  EXPECT_DOUBLE_EQ(r.messages_per_second(), 48.0);  // 96 delivered in 2 s, not the 100 sent
  EXPECT_DOUBLE_EQ(r.bytes_per_second(64), 48.0 * 64);
  EXPECT_DOUBLE_EQ(r.loss_rate(), 0.04);
}

TEST(Assemble, LossyStreamWithDamagedContentFails) {
  run_request req;
  req.pat = pattern::throughput;
  req.lossy = true;
  batch_reports b{100, report_of(100, 0, 1), report_of(100, 0, 1)};
  b.producer.loss = loss_counts{};
  b.consumer.loss = loss_counts{4, 0, 0, 100, 0, 96};
  b.consumer.integrity_errors = 1;
  b.consumer.integrity_summary = "1 corrupted";
  const run_result r = assemble(req, b);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_EQ(r.integrity_errors, 1u);
  EXPECT_EQ(r.reason, "data check: producer no errors; consumer 1 corrupted");
}

TEST(Assemble, LostRoundTripsFailALatencyRunAgainstTheProducer) {
  run_request req;
  req.pat = pattern::latency;
  req.lossy = true;
  batch_reports b{100, report_of(100, 0, 1), report_of(100, 0, 1)};
  histogram h;
  h.record(1000);
  b.producer.rtt = h;
  b.producer.loss = loss_counts{1, 0, 0, 100, 0, 99};
  b.consumer.loss = loss_counts{0, 1, 0, 100, 2, 100};
  const run_result r = assemble(req, b);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_EQ(r.lost, 1u);
  EXPECT_EQ(r.duplicated, 1u);
  EXPECT_EQ(r.stale, 2u);
  EXPECT_EQ(r.integrity_errors, 2u);
  EXPECT_FALSE(r.goodput);
  EXPECT_EQ(r.reason, loss_summary(1, 100, 1, 0, "round trips"));
}

}  // namespace
}  // namespace ipcbench
