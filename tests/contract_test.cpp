// The contract every registered mechanism keeps: data arrives intact across PIPE_BUF, the 64 KiB
// pipe capacity and into MiBs, in both patterns; sizes it cannot carry are skipped with a reason;
// nothing is left behind. Named channels keep it between separately launched peers too (the
// spawn process model); the others are skipped there with the reason.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <ostream>
#include <string>

#include "harness/calibrate.hpp"
#include "harness/coordinator.hpp"
#include "harness/floor_station.hpp"
#include "harness/runner.hpp"
#include "registry/registry.hpp"
#include "test_env.hpp"
#include "test_request.hpp"

namespace ipcbench {
namespace {

struct contract_param {
  std::string id;
  pattern pat;
  std::size_t size;
};

void PrintTo(const contract_param& p, std::ostream* os) {
  *os << p.id << "/" << to_string(p.pat) << "/" << p.size;
}

class Contract : public ::testing::TestWithParam<contract_param> {};

using test::small_request;

// What every run of a registered mechanism must end with, forked or launched: skipped with the
// limit in the reason, or every message intact (for UDP: loss counted and named, nothing else).
void expect_contract(const mechanism_entry& m, const run_request& req, const run_result& r) {
  const std::string& id = m.traits.id;
  if (m.traits.max_message && req.message_size > *m.traits.max_message) {
    EXPECT_EQ(r.status, run_status::skipped);
    EXPECT_NE(r.reason.find(std::to_string(*m.traits.max_message)), std::string::npos) << r.reason;
  } else if (!m.unavailable.empty()) {
    EXPECT_EQ(r.status, run_status::skipped);
    EXPECT_FALSE(r.reason.empty());
  } else if (m.traits.lossy && r.status == run_status::failed &&
             r.lost + r.duplicated + r.reordered != 0) {
    // A lossy mechanism (UDP) may drop datagrams on a busy machine: then the loss is counted
    // and named, and nothing else went wrong.
    EXPECT_EQ(r.integrity_errors, r.lost + r.duplicated + r.reordered) << r.reason;
    EXPECT_NE(r.reason.find(id + " lost "), std::string::npos) << r.reason;
  } else if (m.traits.paced && r.status == run_status::skipped) {
    // A paced stream whose every trial rate lost 0.1 % or more has no rate to report.
    EXPECT_NE(r.reason.find("no rate tried lost less than"), std::string::npos) << r.reason;
  } else {
    ASSERT_EQ(r.status, run_status::ok) << r.reason;
    EXPECT_EQ(r.messages, req.fixed_messages);
    EXPECT_EQ(r.integrity_errors, 0u);
    EXPECT_GT(r.elapsed_ns, 0);
    // Each peer's wait for its CPU over the batch was read, where the kernel keeps schedstat.
    if (std::filesystem::exists("/proc/self/schedstat")) {
      ASSERT_TRUE(r.producer_waited_ns.has_value());
      ASSERT_TRUE(r.consumer_waited_ns.has_value());
      EXPECT_GE(*r.producer_waited_ns, 0);
      EXPECT_GE(*r.consumer_waited_ns, 0);
    }
    if (req.pat == pattern::latency) {
      EXPECT_EQ(r.rtt.count(), req.fixed_messages);
      EXPECT_GT(r.rtt.percentile(50), 0);
    }
  }
}

// One contract run, forked, launched or as two threads of one process: the outcome, then
// nothing left behind.
void run_contract(const contract_param& param, process_model process, bool threads = false) {
  const mechanism_entry* m = find_mechanism(param.id);
  ASSERT_NE(m, nullptr);
  run_request req = small_request(param.pat, param.size);
  req.process = process;
  req.thread_peers = threads;
  req.peer_program = IPCBENCH_BIN;
  const std::size_t objects_before = test::kernel_objects();
  const run_result r = m->run(req);

  expect_contract(*m, req, r);
  EXPECT_TRUE(test::leftovers().empty()) << "left in TMPDIR: " << test::leftovers().front();
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::kernel_objects_back_to(objects_before))
      << "SysV or /dev/shm object left behind";
  // A mechanism this build or machine lacks (an optional library missing at configure time)
  // shows as skipped, with its reason, rather than as a pass.
  if (!m->unavailable.empty() && r.status == run_status::skipped) GTEST_SKIP() << r.reason;
}

TEST_P(Contract, DataArrivesIntactAndNothingLeaks) {
  run_contract(GetParam(), process_model::fork);
}

// Every registered mechanism that `keep` keeps, in both patterns where it runs them, at its own
// sizes (notifications: 0 only; the real-time signal: 0 and 8) or else at `sizes`.
std::vector<contract_param> params_of(const std::function<bool(const mechanism_entry&)>& keep,
                                      std::initializer_list<std::size_t> sizes) {
  std::vector<contract_param> v;
  for (const auto& e : registry()) {
    if (!keep(e)) continue;
    for (pattern p : {pattern::latency, pattern::throughput}) {
      if (p == pattern::throughput && !e.traits.supports_throughput) continue;
      if (p == pattern::latency && e.traits.paced) continue;  // throughput only
      if (!e.traits.sizes.empty()) {
        for (std::size_t s : e.traits.sizes) v.push_back({e.traits.id, p, s});
        continue;
      }
      for (std::size_t s : sizes) v.push_back({e.traits.id, p, s});
    }
  }
  return v;
}

std::vector<contract_param> all_params() {
  return params_of([](const mechanism_entry&) { return true; },
                   {1, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20});
}

std::string param_name(const ::testing::TestParamInfo<contract_param>& info) {
  const auto& [id, pat, size] = info.param;
  std::string n = id + "_" + to_string(pat) + "_" + std::to_string(size);
  for (auto& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Registry, Contract, ::testing::ValuesIn(all_params()), param_name);

class SpawnContract : public ::testing::TestWithParam<contract_param> {};

// The same run with both peers launched as the bench program in its peer mode.
TEST_P(SpawnContract, DataArrivesIntactBetweenLaunchedPeersAndNothingLeaks) {
  run_contract(GetParam(), process_model::spawn);
}

std::vector<contract_param> spawn_params() {
  return params_of([](const mechanism_entry& e) { return e.can_spawn; }, {1, 4096, 65537, 1 << 20});
}

INSTANTIATE_TEST_SUITE_P(Registry, SpawnContract, ::testing::ValuesIn(spawn_params()), param_name);

class ThreadContract : public ::testing::TestWithParam<contract_param> {};

// The same run with the two peers as threads of one forked process (--peers threads).
TEST_P(ThreadContract, DataArrivesIntactBetweenThreadPeersAndNothingLeaks) {
  run_contract(GetParam(), process_model::fork, true);
}

std::vector<contract_param> thread_params() {
  return params_of([](const mechanism_entry& e) { return e.traits.no_thread_peers.empty(); },
                   {1, 4095, 4096, 4097, 65536, 65537, 1 << 20});
}

INSTANTIATE_TEST_SUITE_P(Registry, ThreadContract, ::testing::ValuesIn(thread_params()),
                         param_name);

TEST(Registry, MechanismsThatCannotHaveThreadPeersAreSkippedWithTheReason) {
  std::size_t with = 0, without = 0;
  for (const auto& e : registry()) {
    if (!e.unavailable.empty()) continue;
    if (e.traits.no_thread_peers.empty()) {
      ++with;
      continue;
    }
    ++without;
    const std::size_t size = e.traits.sizes.empty()
                                 ? std::min<std::size_t>(64, e.traits.max_message.value_or(64))
                                 : e.traits.sizes.front();
    run_request req = small_request(e.traits.paced ? pattern::throughput : pattern::latency, size);
    req.thread_peers = true;
    const run_result r = e.run(req);
    EXPECT_EQ(r.status, run_status::skipped) << e.traits.id;
    EXPECT_EQ(r.reason, "peers as threads: " + e.traits.no_thread_peers) << e.traits.id;
  }
  // The classic mechanisms run as threads; signals cannot (they go to a process).
  EXPECT_GE(with, 15u);
  EXPECT_GE(without, 2u);
  ASSERT_NE(find_mechanism("pipe"), nullptr);
  EXPECT_TRUE(find_mechanism("pipe")->traits.no_thread_peers.empty());
  ASSERT_NE(find_mechanism("signal"), nullptr);
  EXPECT_NE(find_mechanism("signal")->traits.no_thread_peers.find("process"), std::string::npos);
  EXPECT_TRUE(test::no_children());
}

TEST(Registry, GroupsRunWithProcessPeersOnly) {
  const mechanism_entry* m = find_mechanism("pipe");
  ASSERT_NE(m, nullptr);
  run_request req = small_request(pattern::throughput, 64);
  req.thread_peers = true;
  const run_result r = m->run_group(req, topology::pairs, 1);
  EXPECT_EQ(r.status, run_status::skipped);
  EXPECT_EQ(r.reason, "a group's peers are processes only");
}
// No named channel registered (yet) must not fail the suite.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SpawnContract);

TEST(Registry, OnlyNamedChannelsRunBetweenUnrelatedProcesses) {
  for (const auto& e : registry()) {
    EXPECT_EQ(e.can_spawn, static_cast<bool>(e.attach)) << e.traits.id;
    if (!e.unavailable.empty()) continue;  // its traits were never read
    // related_only is what the report says; can_spawn is what the type can do.
    EXPECT_EQ(e.can_spawn, !e.traits.related_only) << e.traits.id;
    if (e.can_spawn) continue;
    // A size the mechanism carries, so the process model is the only reason to skip.
    const std::size_t size = e.traits.kind == channel_kind::notification
                                 ? 0
                                 : std::min<std::size_t>(64, e.traits.max_message.value_or(64));
    run_request req = small_request(pattern::latency, size);
    req.process = process_model::spawn;
    req.peer_program = IPCBENCH_BIN;
    const run_result r = e.run(req);
    EXPECT_EQ(r.status, run_status::skipped) << e.traits.id;
    EXPECT_EQ(r.reason, kRelatedOnlyReason) << e.traits.id;
  }
  EXPECT_TRUE(test::no_children());
}

TEST(Calibration, CacheLineRoundTripBetweenTwoCpus) {
  const auto cpus = choose_cpus(placement::cross);
  if (!cpus.impossible.empty()) GTEST_SKIP() << cpus.impossible;
  const auto rtt = cache_line_round_trip(cpus.producer, cpus.consumer);
  ASSERT_TRUE(rtt.has_value());
  EXPECT_GT(rtt->p10, 0);
  EXPECT_LE(rtt->p10, rtt->p50);
  EXPECT_LE(rtt->p50, rtt->p90);
  // Lines in several pages, the cheapest pair's figures kept.
  EXPECT_EQ(rtt->pages, 8);
  EXPECT_GE(rtt->p50_costliest_page, rtt->p50);
  EXPECT_TRUE(test::no_children());
}

// The floors beside every repetition run on a floor_station's two helpers: the same floors as
// forked ones, no process left behind, and a side that fails or hangs breaks the station (the
// floors fork again) within its timeout instead of hanging the run.
int station_fails(void*) {
  return 3;
}
int station_returns(void*) {
  return 0;
}
int station_hangs(void*) {
  for (;;) pause();
}
int station_pid(void* arg) {
  static_cast<std::atomic<int>*>(arg)->store(static_cast<int>(::getpid()));
  return 0;
}

TEST(FloorStation, RunsTheFloorsOnItsHelpersAndLeavesNoProcess) {
  const auto cpus = choose_cpus(placement::cross);
  if (!cpus.impossible.empty()) GTEST_SKIP() << cpus.impossible;
  {
    floor_station station(cpus.producer, cpus.consumer, copy_floor_bytes(1 << 20));
    // The floors run in the helpers, not in processes of their own: the same helper each time.
    auto* pid = ::new (station.region()) std::atomic<int>(0);
    ASSERT_TRUE(station.run(&station_pid, &station_returns, pid, std::chrono::seconds(5)));
    const int helper = pid->load();
    EXPECT_NE(helper, ::getpid());
    for (int k = 0; k < 2; ++k) {
      const auto line = cache_line_round_trip(cpus.producer, cpus.consumer, 2000, &station);
      ASSERT_TRUE(line.has_value());
      EXPECT_GT(line->p10, 0);
      EXPECT_LE(line->p50, line->p90);
      const auto wake = wakeup_round_trip(cpus.producer, cpus.consumer, 50, &station);
      ASSERT_TRUE(wake.has_value());
      EXPECT_GT(wake->p50, 0);
      EXPECT_EQ(wake->rounds, 50);
      // Sizes across 64 KiB: pieces, and whole messages as well.
      for (std::size_t size : {64u, 4095u, 65537u, 1u << 20}) {
        const auto copy =
            cross_core_copy_bytes_per_second(cpus.producer, cpus.consumer, size, 0.003, &station);
        ASSERT_TRUE(copy.has_value()) << size;
        EXPECT_GT(*copy, 0) << size;
      }
    }
    ASSERT_FALSE(station.broken());
    EXPECT_EQ(station.runs(), 1u + 2 * (1 + 1 + 4));
    pid->store(0);
    ASSERT_TRUE(station.run(&station_pid, &station_returns, pid, std::chrono::seconds(5)));
    EXPECT_EQ(pid->load(), helper);
    // A copy floor larger than the region forks, and the station stays.
    EXPECT_TRUE(
        cross_core_copy_bytes_per_second(cpus.producer, cpus.consumer, 4u << 20, 0.003, &station)
            .has_value());
    EXPECT_FALSE(station.broken());
    EXPECT_EQ(station.runs(), 1u + 2 * (1 + 1 + 4) + 1);
  }
  EXPECT_TRUE(test::no_children());
}

TEST(FloorStation, AFailedOrHungSideBreaksItAndTheFloorsForkAgain) {
  const auto cpus = choose_cpus(placement::cross);
  if (!cpus.impossible.empty()) GTEST_SKIP() << cpus.impossible;
  {
    floor_station station(cpus.producer, cpus.consumer, 4096);
    EXPECT_FALSE(station.run(&station_returns, &station_fails, nullptr, std::chrono::seconds(5)));
    EXPECT_TRUE(station.broken());
    EXPECT_FALSE(station.run(&station_returns, &station_returns, nullptr, std::chrono::seconds(5)));
    // Broken, the floors fork their sides again and still measure.
    const auto line = cache_line_round_trip(cpus.producer, cpus.consumer, 2000, &station);
    ASSERT_TRUE(line.has_value());
    EXPECT_GT(line->p50, 0);
  }
  EXPECT_TRUE(test::no_children());
  {
    floor_station station(cpus.producer, cpus.consumer, 4096);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(
        station.run(&station_hangs, &station_returns, nullptr, std::chrono::milliseconds(200)));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
    EXPECT_TRUE(station.broken());
  }
  EXPECT_TRUE(test::no_children());
}

TEST(Registry, EveryMechanismDeclaresItsTraits) {
  for (const auto& e : registry()) {
    EXPECT_FALSE(e.traits.id.empty());
    EXPECT_EQ(find_mechanism(e.traits.id), &e);
    // A mechanism this kernel lacks (its describe() threw) has only its id and the reason.
    if (!e.unavailable.empty()) continue;
    EXPECT_FALSE(e.traits.family.empty()) << e.traits.id;
    EXPECT_FALSE(e.traits.wait.empty()) << e.traits.id;
    EXPECT_FALSE(e.traits.description.empty()) << e.traits.id;
    if (e.traits.max_message) {
      EXPECT_FALSE(e.traits.max_message_source.empty()) << e.traits.id;
    }
  }
  EXPECT_EQ(find_mechanism("no_such_mechanism"), nullptr);
}

// A peer of an io_uring SQPOLL variant waits for its CPU behind the ring's kernel thread, pinned
// beside it: the mechanism's own doing, which the estimates must not put down to another task.
TEST(Registry, TheSqpollVariantsDeclareTheKernelThreadsBesideThePeers) {
  std::size_t sqpoll = 0;
  for (const auto& e : registry()) {
    if (!e.unavailable.empty()) continue;
    const bool polls = e.traits.id.find(".sqpoll") != std::string::npos;
    sqpoll += polls;
    EXPECT_EQ(e.traits.kernel_threads, polls) << e.traits.id;
  }
  if (sqpoll == 0) GTEST_SKIP() << "no io_uring SQPOLL variant runs on this kernel";
}

}  // namespace
}  // namespace ipcbench
