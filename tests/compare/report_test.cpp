#include "compare/report.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace ipcbench::compare {
namespace {

using nlohmann::json;
using testing::fixture;
using testing::quoted;
using testing::scratch_dir;

std::string error_of(const std::string& path) {
  try {
    load_report(path);
  } catch (const input_error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string error_of_json(const json& doc) {
  try {
    parse_report(doc, "r.json");
  } catch (const input_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ParseName, OurShape) {
  const auto info = parse_name("shm_spin.futex/latency/4096/same");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->id, "shm_spin.futex");
  EXPECT_EQ(info->mechanism, "shm_spin");
  EXPECT_EQ(info->variant, "futex");
  EXPECT_EQ(info->pattern, "latency");
  EXPECT_EQ(info->message_size, 4096u);
  EXPECT_EQ(info->placement, "same");

  const auto plain = parse_name("pipe/throughput/1048576/cross");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->mechanism, "pipe");
  EXPECT_EQ(plain->variant, "default");
  EXPECT_EQ(plain->message_size, 1048576u);
}

TEST(ParseName, IgnoresGoogleBenchmarkSuffixes) {
  const auto info = parse_name("tcp/latency/64/cross/repeats:5/manual_time");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->id, "tcp");
  EXPECT_EQ(info->placement, "cross");
}

TEST(ParseName, SpawnedPeersKeepTheirPlacement) {
  const auto info = parse_name("fifo/latency/64/cross.spawn");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->id, "fifo");
  EXPECT_EQ(info->placement, "cross");
}

TEST(ParseName, OtherShapesAreNotParsed) {
  EXPECT_FALSE(parse_name("BM_memcpy/4096"));
  EXPECT_FALSE(parse_name("BM_x/8/64/real_time"));
  EXPECT_FALSE(parse_name("pipe/latency/big/cross"));
  EXPECT_FALSE(parse_name("pipe/sideways/64/cross"));
  EXPECT_FALSE(parse_name("pipe/latency/64/elsewhere"));
  EXPECT_FALSE(parse_name("/latency/64/cross"));
  EXPECT_FALSE(parse_name("pipe/latency/64/cross/extra"));
  EXPECT_FALSE(parse_name("pipe/latency/99999999999999999999999/cross"));
}

TEST(LoadReport, OurReportGroupsRepetitionsAndIgnoresAggregates) {
  const report r = load_report(fixture("baseline.json"));
  ASSERT_EQ(r.benchmarks().size(), 7u);
  EXPECT_EQ(r.context()["host_name"], "bench-a");

  const benchmark_samples* pipe = r.find("pipe/latency/64/cross");
  ASSERT_NE(pipe, nullptr);
  EXPECT_TRUE(pipe->ipcbench_fields);
  EXPECT_EQ(pipe->status, run_status::ok);
  EXPECT_EQ(pipe->repetitions, 5u);  // the fixture's mean/median/stddev rows are not samples
  EXPECT_EQ(pipe->metrics.at("rtt_p50_ns"),
            (std::vector<double>{10000, 10100, 9950, 10050, 10200}));
  EXPECT_EQ(pipe->metrics.at("rtt_p99_ns"),
            (std::vector<double>{15000, 15500, 14800, 15200, 16000}));
  EXPECT_EQ(pipe->metrics.count("bytes_per_second"), 0u);
  EXPECT_EQ(pipe->info.mechanism, "pipe");
  EXPECT_EQ(pipe->info.variant, "default");
  EXPECT_EQ(pipe->info.message_size, 64u);

  const benchmark_samples* uds = r.find("unix_stream/throughput/65536/cross");
  ASSERT_NE(uds, nullptr);
  EXPECT_EQ(uds->metrics.at("bytes_per_second"),
            (std::vector<double>{2.00e9, 2.05e9, 1.98e9, 2.02e9, 2.01e9}));
  EXPECT_EQ(uds->info.pattern, "throughput");

  const benchmark_samples* mq = r.find("posix_mq/latency/1048576/cross");
  ASSERT_NE(mq, nullptr);
  EXPECT_EQ(mq->status, run_status::skipped);
  EXPECT_EQ(mq->reason, "message size 1048576 exceeds /proc/sys/fs/mqueue/msgsize_max (8192)");
  EXPECT_TRUE(mq->metrics.empty());

  EXPECT_EQ(r.find("pipe/latency/64/cross_mean"), nullptr);
}

TEST(LoadReport, FailedEntryMakesTheBenchmarkFailed) {
  const report r = load_report(fixture("contender.json"));
  const benchmark_samples* tcp = r.find("tcp/latency/64/cross");
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->status, run_status::failed);
  EXPECT_EQ(tcp->reason, "integrity error: message 812 corrupted at byte 17");
}

TEST(LoadReport, PlainGoogleBenchmarkNormalisesTimeUnit) {
  const report r = load_report(fixture("plain_baseline.json"));
  const benchmark_samples* memcpy = r.find("BM_memcpy/4096");
  ASSERT_NE(memcpy, nullptr);
  EXPECT_FALSE(memcpy->ipcbench_fields);
  const auto& t = memcpy->metrics.at("real_time");  // microseconds in the file
  ASSERT_EQ(t.size(), 5u);
  EXPECT_DOUBLE_EQ(t[0], 1200.0);
  EXPECT_DOUBLE_EQ(t[1], 1220.0);
  EXPECT_FALSE(memcpy->info.id);
  EXPECT_FALSE(memcpy->info.message_size);

  const benchmark_samples* sleep = r.find("BM_sleep/1");
  ASSERT_NE(sleep, nullptr);
  EXPECT_DOUBLE_EQ(sleep->metrics.at("real_time")[0], 1.10e6);  // milliseconds in the file

  const benchmark_samples* pipe = r.find("pipe/latency/64/cross/repeats:5");
  ASSERT_NE(pipe, nullptr);
  EXPECT_EQ(pipe->info.id, "pipe");
  EXPECT_EQ(pipe->info.pattern, "latency");
  EXPECT_EQ(pipe->info.message_size, 64u);

  const benchmark_samples* broken = r.find("BM_broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(broken->status, run_status::failed);
  EXPECT_EQ(broken->reason, "connection refused");
}

TEST(ParseReport, MatchesByRunNameAndReadsStatusForms) {
  const json doc = {
      {"benchmarks",
       {{{"name", "a/repeats:2"}, {"run_name", "a"}, {"real_time", 1.0}},
        {{"name", "a/repeats:2"}, {"run_name", "a"}, {"real_time", 2.0}},
        {{"name", "a_mean"}, {"run_name", "a"}, {"run_type", "aggregate"}, {"real_time", 9.0}},
        {{"name", "b"}, {"error_occurred", true}, {"error_message", "skipped: too big"}},
        {{"name", "c"}, {"skipped", true}, {"skip_message", "no such device"}},
        {{"name", "d"}, {"error_occurred", true}, {"error_message", "boom"}},
        {{"name", "e"}, {"status", "ok"}, {"real_time", 3}, {"time_unit", "s"}}}}};
  const report r = parse_report(doc, "r.json");
  ASSERT_EQ(r.benchmarks().size(), 5u);
  EXPECT_EQ(r.find("a")->metrics.at("real_time"), (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(r.find("a/repeats:2"), nullptr);
  EXPECT_EQ(r.find("b")->status, run_status::skipped);
  EXPECT_EQ(r.find("c")->status, run_status::skipped);
  EXPECT_EQ(r.find("c")->reason, "no such device");
  EXPECT_EQ(r.find("d")->status, run_status::failed);
  EXPECT_DOUBLE_EQ(r.find("e")->metrics.at("real_time")[0], 3e9);
}

TEST(ParseReport, OneFailedRepetitionFailsTheBenchmark) {
  const json doc = {{"benchmarks",
                     {{{"name", "x"}, {"real_time", 1.0}},
                      {{"name", "x"}, {"status", "failed"}, {"reason", "hung peer"}},
                      {{"name", "x"}, {"real_time", 1.0}}}}};
  const report r = parse_report(doc, "r.json");
  EXPECT_EQ(r.find("x")->status, run_status::failed);
  EXPECT_EQ(r.find("x")->reason, "hung peer");
  EXPECT_EQ(r.find("x")->repetitions, 3u);
}

TEST(ParseReport, RejectsWhatIsNotAReport) {
  EXPECT_EQ(error_of_json(json::array({1, 2})),
            "'r.json' is not a benchmark report: the top level is not an object");
  EXPECT_EQ(error_of_json({{"items", 1}}),
            "'r.json' is not a benchmark report: no 'benchmarks' array");
  EXPECT_EQ(error_of_json({{"benchmarks", json::array()}}),
            "'r.json' is not a benchmark report: 'benchmarks' is empty");
  EXPECT_EQ(error_of_json({{"benchmarks", {1}}}),
            "'r.json' is not a benchmark report: benchmarks[0] is not an object");
  EXPECT_EQ(error_of_json({{"benchmarks", {{{"real_time", 1}}}}}),
            "'r.json' is not a benchmark report: benchmarks[0] has no 'name' string");
  EXPECT_EQ(error_of_json({{"context", 3}, {"benchmarks", {{{"name", "a"}}}}}),
            "'r.json' is not a benchmark report: 'context' is not an object");
  EXPECT_EQ(error_of_json({{"benchmarks", {{{"name", "a"}, {"time_unit", "fortnight"}}}}}),
            "'r.json' is not a benchmark report: benchmarks[0] has unknown time_unit 'fortnight'");
  EXPECT_EQ(error_of_json({{"benchmarks", {{{"name", "a"}, {"real_time", "fast"}}}}}),
            "'r.json' is not a benchmark report: benchmarks[0].real_time is not a number");
  EXPECT_EQ(error_of_json({{"benchmarks", {{{"name", "a"}, {"rtt_p50_ns", -1}}}}}),
            "'r.json' is not a benchmark report: benchmarks[0].rtt_p50_ns is negative");
  EXPECT_NE(error_of_json({{"benchmarks", {{{"name", "a"}, {"run_type", "aggregate"}}}}})
                .find("only aggregate rows"),
            std::string::npos);
}

TEST(ParseReport, NormaliseDividesLatencyByTheFloorBesideEachRepetition) {
  // Three repetitions: floors 5000 / 125, floors 20000 / 500, and none.
  const json floors[] = {{{"wakeup_rtt_p50_ns", 5000.0}, {"cache_line_rtt_p50_ns", 125.0}},
                         {{"wakeup_rtt_p50_ns", 20000.0}, {"cache_line_rtt_p50_ns", 500.0}},
                         json::object()};
  const double rtt[] = {10000, 40000, 99999};
  json doc = {{"benchmarks", json::array()}};
  for (int i = 0; i < 3; ++i) {
    doc["benchmarks"].push_back({{"name", "pipe/latency/64/cross"},
                                 {"rtt_p50_ns", rtt[i]},
                                 {"one_way_p50_ns", rtt[i] / 2},
                                 {"cpu_ns_per_message", 3000.0},
                                 {"floors", floors[i]}});
  }
  doc["benchmarks"].push_back({{"name", "pipe/throughput/1048576/cross"},
                               {"bytes_per_second", 1e9},
                               {"floors", {{"copy_floor_bytes_per_second", 5e9}}}});
  const report raw = parse_report(doc, "r.json");
  EXPECT_EQ(raw.origin().normalised, normalisation::none);
  EXPECT_EQ(raw.find("pipe/latency/64/cross")->metrics.at("rtt_p50_ns"),
            (std::vector<double>{10000, 40000, 99999}));
  EXPECT_EQ(repetitions_without_floor(raw), 0u);

  const report wake = parse_report(doc, "r.json", normalisation::wake);
  EXPECT_EQ(wake.origin().normalised, normalisation::wake);
  const benchmark_samples& lat = *wake.find("pipe/latency/64/cross");
  EXPECT_EQ(lat.metrics.at("rtt_p50_ns"), (std::vector<double>{2.0, 2.0}));
  EXPECT_EQ(lat.metrics.at("one_way_p50_ns"), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(lat.metrics.at("cpu_ns_per_message"), (std::vector<double>{3000, 3000, 3000}));
  EXPECT_EQ(lat.without_floor.at("rtt_p50_ns"), 1u);
  EXPECT_EQ(lat.without_floor.at("one_way_p50_ns"), 1u);
  EXPECT_EQ(wake.find("pipe/throughput/1048576/cross")->metrics.at("bytes_per_second"),
            (std::vector<double>{1e9}));
  EXPECT_EQ(repetitions_without_floor(wake), 1u);  // one repetition, however many metrics

  const report line = parse_report(doc, "r.json", normalisation::line);
  EXPECT_EQ(line.find("pipe/latency/64/cross")->metrics.at("rtt_p50_ns"),
            (std::vector<double>{80.0, 80.0}));

  // A merged side adds up what its runs left out.
  const report merged = merge_runs({wake, wake, wake});
  EXPECT_EQ(merged.origin().runs, 3u);
  EXPECT_EQ(merged.origin().normalised, normalisation::wake);
  EXPECT_EQ(merged.find("pipe/latency/64/cross")->without_floor.at("rtt_p50_ns"), 3u);
}

TEST(LoadReport, EstimatesAreReadWhereTheReportHasThem) {
  const report r = load_report(fixture("regimes_b.json"));
  EXPECT_TRUE(r.origin().estimates);
  const auto& tcp = r.find("tcp/latency/64/cross")->estimate;
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->metric, "rtt_p50_ns");
  EXPECT_EQ(tcp->value, 22400.0);
  EXPECT_TRUE(tcp->multimodal);
  EXPECT_EQ(tcp->regimes, 0u);
  const auto& put = r.find("pipe/throughput/1048576/cross")->estimate;
  ASSERT_TRUE(put);
  EXPECT_FALSE(put->multimodal);
  EXPECT_EQ(put->regimes, 2u);
  // Older reports have none; a merged side has none either.
  const report old = load_report(fixture("baseline.json"));
  EXPECT_FALSE(old.origin().estimates);
  EXPECT_FALSE(old.find("pipe/latency/64/cross")->estimate);
  const report merged = merge_runs({r, r});
  EXPECT_FALSE(merged.origin().estimates);
  EXPECT_FALSE(merged.find("tcp/latency/64/cross")->estimate);

  const json entry = {{"name", "x"}, {"real_time", 1.0}};
  EXPECT_EQ(error_of_json({{"benchmarks", {entry}}, {"estimates", json::array()}}),
            "'r.json' is not a benchmark report: 'estimates' is not an object");
  EXPECT_EQ(error_of_json({{"benchmarks", {entry}}, {"estimates", {{"x", {{"value", "5"}}}}}}),
            "'r.json' is not a benchmark report: estimates['x'].value is not a number");
  const report null_value = parse_report(
      {{"benchmarks", {entry}}, {"estimates", {{"x", {{"value", nullptr}}}}}}, "r.json");
  ASSERT_TRUE(null_value.find("x")->estimate);
  EXPECT_FALSE(null_value.find("x")->estimate->value);
}

TEST(Normalisation, WordsAndFloors) {
  EXPECT_EQ(parse_normalisation("wake"), normalisation::wake);
  EXPECT_EQ(parse_normalisation("line"), normalisation::line);
  EXPECT_EQ(parse_normalisation("copy"), std::nullopt);
  EXPECT_EQ(parse_normalisation(""), std::nullopt);
  EXPECT_EQ(floor_key(normalisation::wake), "wakeup_rtt_p50_ns");
  EXPECT_EQ(floor_key(normalisation::line), "cache_line_rtt_p50_ns");
  for (const metric_spec& m : known_metrics()) {
    const bool latency = m.name.starts_with("rtt_") || m.name.starts_with("one_way_");
    EXPECT_EQ(latency_metric(m.name), latency) << m.name;
  }
  EXPECT_TRUE(latency_metric("rtt_p999_ns"));
  EXPECT_FALSE(latency_metric("bytes_per_second"));
  EXPECT_FALSE(latency_metric("cpu_ns_per_message"));
  EXPECT_FALSE(latency_metric("real_time"));
}

TEST(LoadReport, UnreadableAndMalformedFiles) {
  scratch_dir dir;
  const std::string missing = dir.file("missing.json");
  EXPECT_EQ(error_of(missing), "cannot read " + quoted(missing) + ": No such file or directory");
  EXPECT_EQ(error_of(dir.file("")), "cannot read " + quoted(dir.file("")) + ": Is a directory");

  const std::string truncated = fixture("truncated.json");
  const std::string msg = error_of(truncated);
  EXPECT_EQ(msg.rfind(quoted(truncated) + " is not valid JSON: parse error at line 1", 0), 0u)
      << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);

  const std::string empty = dir.write("empty.json", "");
  EXPECT_EQ(error_of(empty).rfind(quoted(empty) + " is not valid JSON", 0), 0u);
  const std::string binary = dir.write("binary.json", std::string("{\"a\":\"\xff\xfe\n\"}"));
  EXPECT_EQ(error_of(binary).find('\n'), std::string::npos);
  EXPECT_EQ(
      error_of(fixture("not_a_report.json")),
      quoted(fixture("not_a_report.json")) + " is not a benchmark report: no 'benchmarks' array");
}

TEST(Metrics, KnownMetricsAndDirections) {
  ASSERT_NE(find_metric("rtt_p50_ns"), nullptr);
  EXPECT_EQ(find_metric("rtt_p50_ns")->better, direction::lower_is_better);
  EXPECT_DOUBLE_EQ(find_metric("rtt_p50_ns")->default_threshold, 0.05);
  EXPECT_DOUBLE_EQ(find_metric("rtt_p99_ns")->default_threshold, 0.15);
  EXPECT_EQ(find_metric("bytes_per_second")->better, direction::higher_is_better);
  EXPECT_DOUBLE_EQ(find_metric("bytes_per_second")->default_threshold, 0.05);
  EXPECT_EQ(find_metric("real_time")->better, direction::lower_is_better);
  EXPECT_EQ(find_metric("nope"), nullptr);
}

}  // namespace
}  // namespace ipcbench::compare
