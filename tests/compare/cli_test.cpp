// End-to-end tests: run the built ipcbench-compare binary and check exit status, stdout, stderr.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compare/report.hpp"
#include "test_support.hpp"

namespace ipcbench::compare {
namespace {

using nlohmann::json;
using testing::fixture;
using testing::quoted;
using testing::scratch_dir;

struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  q += '\'';
  return q;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

run_result run_command(const std::vector<std::string>& argv) {
  scratch_dir dir;
  std::string cmd;
  for (const auto& a : argv) {
    cmd += quote(a);
    cmd += ' ';
  }
  cmd += '>';
  cmd += quote(dir.file("out"));
  cmd += " 2>";
  cmd += quote(dir.file("err"));
  cmd += " </dev/null";
  const int raw = std::system(cmd.c_str());
  run_result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(dir.file("out"));
  r.err = slurp(dir.file("err"));
  return r;
}

run_result run_compare(std::vector<std::string> args);

// The fixtures have 5 repetitions a side: tests of the verdicts on them judge each metric on its
// own, at 0.01 (a family of 11 under Holm would leave them untested), and on the repetitions of
// each report (baseline.json and contender.json are two runs, one a side: without the option,
// one sample a side).
run_result run_compare_per_metric(std::vector<std::string> args) {
  args.push_back("--correction=none");
  args.push_back("--alpha=0.01");
  args.push_back("--repetitions-as-samples");
  return run_compare(std::move(args));
}

run_result run_compare(std::vector<std::string> args) {
  args.insert(args.begin(), IPCBENCH_COMPARE_BIN);
  return run_command(args);
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string last_line(const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') + 1);
}

// Bad input: exit 2, nothing on stdout, exactly one line on stderr that starts as given.
void expect_bad_input(const run_result& r, const std::string& stderr_prefix) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.back(), '\n');
  EXPECT_EQ(r.err.rfind(stderr_prefix, 0), 0u) << r.err;
}

TEST(Cli, MissingFile) {
  scratch_dir dir;
  const std::string missing = dir.file("nope.json");
  const run_result r = run_compare({fixture("baseline.json"), missing});
  const std::string message =
      "ipcbench-compare: cannot read " + quoted(missing) + ": No such file or directory";
  expect_bad_input(r, message);
  EXPECT_EQ(r.err, message + "\n");
}

TEST(Cli, TruncatedJson) {
  const run_result r = run_compare({fixture("baseline.json"), fixture("truncated.json")});
  expect_bad_input(r, "ipcbench-compare: '" + fixture("truncated.json") + "' is not valid JSON: ");
}

TEST(Cli, JsonThatIsNotAReport) {
  const run_result r = run_compare({fixture("not_a_report.json"), fixture("baseline.json")});
  expect_bad_input(r, "ipcbench-compare: '" + fixture("not_a_report.json") +
                          "' is not a benchmark report: no 'benchmarks' array");
}

TEST(Cli, NothingInCommon) {
  const run_result r = run_compare({fixture("baseline.json"), fixture("unrelated.json")});
  expect_bad_input(r, "ipcbench-compare: no common benchmarks between");
}

TEST(Cli, BadOptions) {
  const std::string b = fixture("baseline.json");
  expect_bad_input(run_compare({b, b, "--frobnicate"}),
                   "ipcbench-compare: unknown option '--frobnicate'");
  expect_bad_input(run_compare({b, b, "--alpha", "2"}), "ipcbench-compare: bad --alpha '2'");
  expect_bad_input(run_compare({b, b, "--alpha=x"}), "ipcbench-compare: bad --alpha 'x'");
  expect_bad_input(run_compare({b, b, "--format", "html"}), "ipcbench-compare: bad --format");
  expect_bad_input(run_compare({b, b, "--metrics", "rtt_p50_ns,nope"}),
                   "ipcbench-compare: unknown metric 'nope'");
  expect_bad_input(run_compare({b, b, "--threshold", "rtt_p50_ns"}),
                   "ipcbench-compare: bad --threshold");
  expect_bad_input(run_compare({b, b, "--threshold", "rtt_p50_ns=-1"}),
                   "ipcbench-compare: bad threshold");
  expect_bad_input(run_compare({b, b, "--test", "t-test"}), "ipcbench-compare: bad --test");
  expect_bad_input(run_compare({b, b, "--alpha"}), "ipcbench-compare: option --alpha needs");
  expect_bad_input(run_compare({b}), "ipcbench-compare: expected BASELINE.json and CONTENDER");
  expect_bad_input(run_compare({b, b, b}), "ipcbench-compare: too many arguments");
}

TEST(Cli, Help) {
  const run_result r = run_compare({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("Usage: ipcbench-compare BASELINE.json CONTENDER.json [options]", 0), 0u);
  EXPECT_NE(r.out.find("--threshold-all"), std::string::npos);
  EXPECT_EQ(r.err, "");
}

TEST(Cli, RegressionExitsOne) {
  const run_result r =
      run_compare_per_metric({fixture("baseline.json"), fixture("contender.json")});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(last_line(r.out),
            "2 regressions, 2 improvements, 7 unchanged, 0 untested, 2 missing (1 failed), 1 new, "
            "2 not comparable");
  EXPECT_EQ(r.out.find('\033'), std::string::npos);  // not a terminal: no colour
  // The kernel differs: one warning on stderr, and still exit 1 (not 2).
  EXPECT_EQ(count_lines(r.err), 1u);
  EXPECT_EQ(r.err.rfind("ipcbench-compare: warning: reports come from different machines", 0), 0u);
}

TEST(Cli, NoRegressionExitsZero) {
  const run_result r = run_compare_per_metric({fixture("baseline.json"), fixture("baseline.json")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(last_line(r.out),
            "0 regressions, 0 improvements, 17 unchanged, 0 untested, 0 missing, 0 new, "
            "1 not comparable");
  EXPECT_EQ(r.err, "");
}

TEST(Cli, ABenchmarkThatFailsOrDisappearsInTheContenderFailsTheGate) {
  // No regression on p99; tcp failed its data check in the contender, shm_spin.futex is gone.
  const std::vector<std::string> args{fixture("baseline.json"), fixture("contender.json"),
                                      "--metrics", "rtt_p99_ns"};
  const run_result r = run_compare_per_metric(args);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("  FAILED tcp/latency/64/cross: ok in baseline, failed in contender "
                       "(integrity error: message 812 corrupted at byte 17)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Only in baseline (missing):\n  shm_spin.futex/latency/64/same\n"),
            std::string::npos);
  // A removal may be allowed; a failure may not.
  auto allowed = args;
  allowed.push_back("--allow-missing");
  EXPECT_EQ(run_compare_per_metric(allowed).status, 1);
  auto old_flag = args;  // the old opt-in is the default now, and still accepted
  old_flag.push_back("--fail-on-missing");
  EXPECT_EQ(run_compare_per_metric(old_flag).status, 1);
}

TEST(Cli, ABenchmarkThatFailsInOneRoundIsReportedWithItsCount) {
  scratch_dir dir;
  const std::string a = dir.file("a"), b = dir.file("b");
  std::filesystem::create_directory(a);
  std::filesystem::create_directory(b);
  json ok = json::parse(std::ifstream(fixture("baseline.json")));
  json flaky = ok;
  for (auto& e : flaky["benchmarks"])
    if (e["name"] == "pipe/latency/64/cross" && e.value("repetition_index", -1) == 2) {
      e["status"] = "failed";
      e["reason"] = "data check: 3 corrupted";
    }
  for (int i = 0; i < 6; ++i) {
    const std::string n = "/round-00" + std::to_string(i) + ".json";
    std::ofstream(a + n) << ok.dump();
    std::ofstream(b + n) << (i == 4 ? flaky : ok).dump();
  }
  const run_result r = run_compare({"--paired", "--baseline", a, "--contender", b});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("  FAILED pipe/latency/64/cross: ok in baseline, failed in contender in 1 "
                       "of 6 runs (data check: 3 corrupted)"),
            std::string::npos)
      << r.out;
  // Its five good rounds are still judged.
  std::istringstream lines(r.out);
  bool judged = false;
  for (std::string line; std::getline(lines, line);)
    judged =
        judged || (line.rfind("pipe ", 0) == 0 && line.find("rtt_p50_ns") != std::string::npos &&
                   line.find("no change") != std::string::npos);
  EXPECT_TRUE(judged) << r.out;
}

TEST(Cli, ThresholdOptionsChangeTheVerdict) {
  const std::string b = fixture("baseline.json");
  const std::string c = fixture("contender.json");
  // pipe p50 is +25 %, unix_stream throughput -10 %: a 30 % threshold silences both.
  const auto regressions = [](const run_result& r) {
    return json::parse(r.out)["summary"]["regressions"].get<int>();
  };
  EXPECT_EQ(regressions(run_compare_per_metric({b, c, "--threshold-all", "30", "--format=json"})),
            0);
  EXPECT_EQ(regressions(run_compare_per_metric(
                {b, c, "--threshold-all=30%", "--threshold", "rtt_p50_ns=20", "--format=json"})),
            1);
}

TEST(Cli, JsonOutputParsesWithTheAgreedKeys) {
  const run_result r = run_compare({fixture("plain_baseline.json"), fixture("plain_contender.json"),
                                    "--format", "json", "--alpha", "0.05", "--correction",
                                    "none"});  // 4 repetitions a side: the best p is 0.029
  EXPECT_EQ(r.status, 1);
  const json doc = json::parse(r.out);  // throws, failing the test, if it is not JSON
  for (const char* key : {"baseline", "contender", "test", "alpha", "warnings", "results",
                          "only_in_baseline", "only_in_contender", "not_comparable", "summary"}) {
    EXPECT_TRUE(doc.contains(key)) << key;
  }
  // with correction, family_size, runs, paired, family, detectable_effect and undecided
  EXPECT_EQ(doc.size(), 17u);
  EXPECT_EQ(doc["test"], "mann-whitney");
  EXPECT_EQ(doc["alpha"], 0.05);
  ASSERT_EQ(doc["results"].size(), 4u);
  for (const json& item : doc["results"]) {
    EXPECT_LE(item.size(), 19u);  // untested ones also carry untested_reason
    for (const char* key : {"name", "id", "mechanism", "variant", "pattern", "message_size",
                            "placement", "metric", "direction", "baseline", "contender", "ratio",
                            "p_value", "threshold", "method", "verdict"}) {
      EXPECT_TRUE(item.contains(key)) << key;
    }
    EXPECT_TRUE(item["baseline"].contains("median"));
    EXPECT_TRUE(item["baseline"].contains("n"));
  }
  // Plain names that do not parse leave the fields null; ours parse.
  EXPECT_TRUE(doc["results"][0]["mechanism"].is_null());
  EXPECT_EQ(doc["results"][2]["mechanism"], "pipe");
  EXPECT_EQ(doc["results"][2]["message_size"], 64);
  // 3 vs 3: not tested.
  EXPECT_EQ(doc["results"][3]["method"], "untested");
  EXPECT_EQ(doc["results"][3]["verdict"], "untested");
  EXPECT_TRUE(doc["results"][3]["p_value"].is_null());
  EXPECT_EQ(doc["summary"]["regressions"], 2);
  EXPECT_EQ(doc["summary"]["untested"], 1);
  EXPECT_EQ(doc["summary"].size(), 8u);
}

TEST(Cli, MarkdownEndsWithTheSummary) {
  const run_result r = run_compare_per_metric(
      {fixture("baseline.json"), fixture("contender.json"), "--format=markdown"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(last_line(r.out),
            "**2 regressions, 2 improvements, 7 unchanged, 0 untested, 2 missing (1 failed), 1 "
            "new, 2 not comparable**");
  EXPECT_NE(r.out.find("> **Warning:** reports come from different machines"), std::string::npos);
}

TEST(Cli, BootstrapOutputIsDeterministic) {
  const std::vector<std::string> args{fixture("baseline.json"),
                                      fixture("contender.json"),
                                      "--test",
                                      "bootstrap",
                                      "--format",
                                      "json"};
  const run_result a = run_compare_per_metric(args);
  const run_result b = run_compare_per_metric(args);
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(json::parse(a.out)["test"], "bootstrap");
}

// Plants slowdowns with plant_regression.py and checks the gate's verdicts on them.
class PlantedRegression : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(IPCBENCH_PYTHON)) GTEST_SKIP() << "no python3";
  }

  json gate(double factor, const std::string& regex, int expected_status) {
    const std::string planted = dir_.file("planted.json");
    const run_result p =
        run_command({IPCBENCH_PYTHON, IPCBENCH_PLANT_SCRIPT, fixture("baseline.json"), planted,
                     "--plant", regex, std::to_string(factor)});
    EXPECT_EQ(p.status, 0) << p.err;
    const run_result r =
        run_compare_per_metric({fixture("baseline.json"), planted, "--format", "json"});
    EXPECT_EQ(r.status, expected_status) << factor << " " << regex << "\n" << r.out;
    return json::parse(r.out);
  }

  static std::string verdict_of(const json& doc, const std::string& name,
                                const std::string& metric) {
    for (const json& item : doc["results"]) {
      if (item["name"] == name && item["metric"] == metric) return item["verdict"];
    }
    return "(absent)";
  }

  scratch_dir dir_;
};

TEST_F(PlantedRegression, LatencySlowdowns) {
  const std::string pipe = "pipe/latency/64/cross";
  json doc = gate(1.02, "^pipe/", 0);
  EXPECT_EQ(verdict_of(doc, pipe, "rtt_p50_ns"), "no change");
  EXPECT_EQ(verdict_of(doc, pipe, "rtt_p99_ns"), "no change");

  doc = gate(1.10, "^pipe/", 1);
  EXPECT_EQ(verdict_of(doc, pipe, "rtt_p50_ns"), "regression");
  EXPECT_EQ(verdict_of(doc, pipe, "rtt_p99_ns"), "no change");  // below the 15 % tail threshold
  EXPECT_EQ(doc["summary"]["regressions"], 1);

  doc = gate(1.25, "^pipe/", 1);
  EXPECT_EQ(verdict_of(doc, pipe, "rtt_p50_ns"), "regression");
  EXPECT_EQ(verdict_of(doc, pipe, "rtt_p99_ns"), "regression");
  EXPECT_EQ(doc["summary"]["regressions"], 2);
}

TEST_F(PlantedRegression, ThroughputSlowdowns) {
  const std::string uds = "unix_stream/throughput/65536/cross";
  EXPECT_EQ(verdict_of(gate(1.02, "throughput", 0), uds, "bytes_per_second"), "no change");
  EXPECT_EQ(verdict_of(gate(1.10, "throughput", 1), uds, "bytes_per_second"), "regression");
  EXPECT_EQ(verdict_of(gate(1.25, "throughput", 1), uds, "bytes_per_second"), "regression");
  // A speed-up planted the same way is an improvement.
  EXPECT_EQ(verdict_of(gate(1 / 1.25, "throughput", 0), uds, "bytes_per_second"), "improvement");
}

}  // namespace
TEST(Cli, SamplesThatCannotDecideAreRefusedNeverAQuietPass) {
  // 5 repetitions a side under Holm at 0.05 over a family of 17: refused, one line, exit 2.
  expect_bad_input(run_compare({fixture("baseline.json"), fixture("baseline.json")}),
                   "ipcbench-compare: cannot decide: 17 gated metrics have as few as 5 vs 5 "
                   "repetitions");
  // --allow-untested shows the ratios, untested, and exits 0.
  const run_result shown =
      run_compare({fixture("baseline.json"), fixture("baseline.json"), "--allow-untested"});
  EXPECT_EQ(shown.status, 0) << shown.err;
  EXPECT_EQ(last_line(shown.out),
            "0 regressions, 0 improvements, 0 unchanged, 17 untested, 0 missing, 0 new, 1 not "
            "comparable");
  // A benchmark lost in the contender is a verdict all the same: exit 1, the refusal a warning.
  const run_result r = run_compare(
      {fixture("baseline.json"), fixture("contender.json"), "--repetitions-as-samples"});
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(last_line(r.out),
            "0 regressions, 0 improvements, 0 unchanged, 11 untested, 2 missing (1 failed), 1 "
            "new, 2 not comparable");
  EXPECT_NE(r.err.find("warning: cannot decide: 11 gated metrics"), std::string::npos) << r.err;
}

TEST(Cli, TwoSeparateRunsOneASideAreOneSampleASide) {
  scratch_dir dir;
  // A second run of baseline.json's suite, 25 % slower on every pipe latency: another start.
  json later = json::parse(std::ifstream(fixture("baseline.json")));
  later["context"]["date"] = "2024-11-20T10:12:00+00:00";
  for (auto& e : later["benchmarks"])
    if (e["name"] == "pipe/latency/64/cross" && e.contains("rtt_p50_ns"))
      e["rtt_p50_ns"] = e["rtt_p50_ns"].get<double>() * 1.25;
  const std::string b = fixture("baseline.json"), c = dir.file("later.json");
  std::ofstream(c) << later.dump();
  // Refused, one line, exit 2: what it needs is runs.
  expect_bad_input(run_compare({b, c}),
                   "ipcbench-compare: cannot decide: one ipcbench run a side is one sample a side "
                   "(the host moves between runs, so one run's repetitions are not samples of the "
                   "other's host); each side needs 6 runs (--baseline DIR --contender DIR)");
  // --allow-untested shows each run's median, untested as one run against one.
  const run_result shown = run_compare({b, c, "--allow-untested"});
  EXPECT_EQ(shown.status, 0) << shown.err;
  EXPECT_NE(shown.out.find("1.250        -  untested (1 vs 1 runs cannot reach 0.05"),
            std::string::npos)
      << shown.out;
  EXPECT_EQ(last_line(shown.out),
            "0 regressions, 0 improvements, 0 unchanged, 17 untested, 0 missing, 0 new, 1 not "
            "comparable");
  EXPECT_NE(shown.err.find("17 results with 1 vs 1 runs untested"), std::string::npos) << shown.err;
  // Judged on its repetitions when asked: the 25 % is a regression.
  const run_result asked = run_compare_per_metric({b, c});
  EXPECT_EQ(asked.status, 1) << asked.err;
  EXPECT_EQ(last_line(asked.out),
            "1 regressions, 0 improvements, 16 unchanged, 0 untested, 0 missing, 0 new, 1 not "
            "comparable");
  // One run read twice (a copy of the same file) is one run: its repetitions are the samples.
  const std::string copy = dir.file("copy.json");
  std::filesystem::copy_file(b, copy);
  const run_result same = run_compare_per_metric({b, copy});
  EXPECT_EQ(same.status, 0) << same.err;
  EXPECT_EQ(last_line(same.out),
            "0 regressions, 0 improvements, 17 unchanged, 0 untested, 0 missing, 0 new, 1 not "
            "comparable");
  expect_bad_input(run_compare({b, copy}),
                   "ipcbench-compare: cannot decide: 17 gated metrics have as few as 5 vs 5 "
                   "repetitions");
  // A failure is a verdict all the same.
  const run_result failed = run_compare({b, fixture("contender.json")});
  EXPECT_EQ(failed.status, 1) << failed.err;
  EXPECT_NE(failed.out.find("  FAILED tcp/latency/64/cross"), std::string::npos) << failed.out;
  EXPECT_NE(failed.err.find("warning: cannot decide: one ipcbench run a side"), std::string::npos)
      << failed.err;
  // The option is the gate's.
  expect_bad_input(run_compare({"--same-answer", b, c, "--repetitions-as-samples"}),
                   "ipcbench-compare: --same-answer applies no gate and does not take "
                   "--repetitions-as-samples");
}

TEST(Cli, RepetitionsForTheGateFamilyOfAListOfBenchmarks) {
  scratch_dir dir;
  const std::string list = dir.file("names");
  // In the family: pipe latency at 64 B (p50, p99, CPU) and throughput at 1 MiB (bytes/s, CPU).
  // Outside: 4097 B, and pairs/64 (128 processes: more than any test machine's CPUs).
  std::ofstream(list) << "pipe/latency/64/cross/iterations:1/manual_time\n"
                         "pipe/throughput/1048576/cross/iterations:1/manual_time\n"
                         "pipe/latency/4097/cross/iterations:1/manual_time\n"
                         "pipe/pairs/64/throughput/64/cross/iterations:1/manual_time\n";
  const run_result r = run_compare({"--repetitions-for-list", list});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "5\n");  // a family of 5: 0.01, which 5 vs 5 (0.0079) reaches
  const run_result all = run_compare({"--repetitions-for-list", list, "--gate-all"});
  EXPECT_EQ(all.out, "6\n");  // 10 metrics: 0.005
  expect_bad_input(run_compare({"--repetitions-for-list", dir.file("none")}),
                   "ipcbench-compare: cannot read");
}

TEST(Cli, SeveralReportsPerSideAndFolders) {
  scratch_dir dir;
  const std::string b = fixture("baseline.json");
  // A folder of runs on each side; each run's median is one sample.
  const std::string side_a = dir.file("a"), side_b = dir.file("b");
  std::filesystem::create_directory(side_a);
  std::filesystem::create_directory(side_b);
  for (int i = 0; i < 6; ++i) {
    std::filesystem::copy_file(b, side_a + "/run" + std::to_string(i) + ".json");
    std::filesystem::copy_file(b, side_b + "/run" + std::to_string(i) + ".json");
  }
  const run_result r =
      run_compare({"--baseline", side_a, "--contender", side_b, "--format", "json"});
  EXPECT_EQ(r.status, 0) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["runs"], json({{"baseline", 6}, {"contender", 6}}));
  EXPECT_EQ(doc["results"][0]["baseline"]["n"], 6);
  // Three runs a side cannot decide over this family: refused with what it needs.
  const run_result three = run_compare({"--baseline", side_a + "/run0.json", side_a + "/run1.json",
                                        side_a + "/run2.json", "--contender", side_b});
  expect_bad_input(three,
                   "ipcbench-compare: cannot decide: 17 gated metrics have as few as 3 vs 6");
  EXPECT_NE(three.err.find("each side needs 6 runs"), std::string::npos) << three.err;
  // One run beside several is one sample too, its median, not its 5 repetitions.
  const run_result one = run_compare({"--baseline", side_a + "/run0.json", "--contender", side_b,
                                      "--allow-untested", "--format", "json"});
  EXPECT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(json::parse(one.out)["results"][0]["baseline"]["n"], 1);
  EXPECT_NE(one.err.find("17 results with 1 vs 6 runs untested"), std::string::npos) << one.err;
  // Refused, it says runs too: its samples are the runs' medians.
  const run_result one_refused =
      run_compare({"--baseline", side_a + "/run0.json", "--contender", side_b});
  expect_bad_input(one_refused,
                   "ipcbench-compare: cannot decide: 17 gated metrics have as few as 1 vs 6 runs");
  EXPECT_NE(one_refused.err.find("each side needs 6 runs"), std::string::npos) << one_refused.err;
  expect_bad_input(
      run_compare({"--paired", "--baseline", side_a + "/run0.json", "--contender", side_b}),
      "ipcbench-compare: --paired needs as many runs a side: 1 baseline, 6 contender");
  expect_bad_input(run_compare({"--baseline", b}),
                   "ipcbench-compare: --baseline and --contender go together");
  expect_bad_input(run_compare({b, "--contender", b}), "ipcbench-compare: give the reports either");
  expect_bad_input(run_compare({"--baseline", dir.file("none"), "--contender", b}),
                   "ipcbench-compare: cannot read");
}

TEST(Cli, RunsUnderDifferentConditionsAreRefusedUnlessAllowed) {
  scratch_dir dir;
  json a = json::parse(std::ifstream(fixture("baseline.json")));
  json held = a, allowed = a;
  held["context"]["ipcbench"]["idle_states"] = {{"in_force", "held"}};
  allowed["context"]["ipcbench"]["idle_states"] = {{"in_force", "allowed"}};
  const std::string fa = dir.file("held.json"), fb = dir.file("allowed.json");
  std::ofstream(fa) << held.dump();
  std::ofstream(fb) << allowed.dump();
  expect_bad_input(run_compare({fa, fb}),
                   "ipcbench-compare: the runs differ in idle-state mode: 'held' (baseline) vs "
                   "'allowed' (contender)");
  const run_result r = run_compare({fa, fb, "--allow-mismatch", "--allow-untested"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning: the runs differ in idle-state mode"), std::string::npos) << r.err;
}

// --normalise on fixtures/regimes_a.json (mostly the fast host regime: wake-up floor 5000 ns,
// cache-line 125 ns) against regimes_b.json (mostly the slow one: 20000 ns, 500 ns); values in
// fixtures/README.md. Each metric judged on its own at 0.01: 6 vs 6 repetitions reach 0.0022.
class Normalise : public ::testing::Test {
 protected:
  static json gate(const std::vector<std::string>& extra, int expected_status) {
    std::vector<std::string> args{fixture("regimes_a.json"), fixture("regimes_b.json"), "--metrics",
                                  "rtt_p50_ns,bytes_per_second", "--format=json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const run_result r = run_compare_per_metric(args);
    EXPECT_EQ(r.status, expected_status) << r.err;
    return json::parse(r.out);
  }

  static json result_of(const json& doc, const std::string& name) {
    for (const json& item : doc["results"])
      if (item["name"] == name) return item;
    return nullptr;
  }
};

TEST_F(Normalise, FourTimesTheRawLatencyIsTheSameMultipleOfTheFloor) {
  const std::string pipe = "pipe/latency/64/cross";
  const json raw = gate({}, 1);
  EXPECT_FALSE(raw.contains("normalisation"));
  EXPECT_EQ(result_of(raw, pipe)["baseline"]["median"], 10000.0);
  EXPECT_EQ(result_of(raw, pipe)["contender"]["median"], 40000.0);
  EXPECT_EQ(result_of(raw, pipe)["verdict"], "regression");

  // p50 / wake-up floor: {2.0, 2.1, 1.9, 2.0, 2.2, 1.8} on both sides.
  const json wake = gate({"--normalise", "wake"}, 0);
  const json pw = result_of(wake, pipe);
  EXPECT_EQ(pw["baseline"], json({{"median", 2.0}, {"n", 6}}));
  EXPECT_EQ(pw["contender"], json({{"median", 2.0}, {"n", 6}}));
  EXPECT_EQ(pw["ratio"], 1.0);
  EXPECT_EQ(pw["verdict"], "no change");
  EXPECT_EQ(wake["normalisation"], json({{"by", "wake"},
                                         {"floor", "wakeup_rtt_p50_ns"},
                                         {"metrics",
                                          {"rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_p999_ns",
                                           "rtt_mean_ns", "one_way_p50_ns"}},
                                         {"without_floor", {{"baseline", 1}, {"contender", 6}}}}));
  // p50 / cache-line floor: 10000 / 125 = 40000 / 500 = 80.
  const json line = gate({"--normalise=line"}, 0);
  EXPECT_EQ(result_of(line, pipe)["baseline"]["median"], 80.0);
  EXPECT_EQ(result_of(line, pipe)["contender"]["median"], 80.0);
  EXPECT_EQ(line["normalisation"]["floor"], "cache_line_rtt_p50_ns");
  // Throughput is not normalised: the same bytes/s either way (median 1.00e9 and 0.99e9).
  for (const json* doc : {&raw, &wake, &line}) {
    const json t = result_of(*doc, "pipe/throughput/1048576/cross");
    EXPECT_EQ(t["baseline"]["median"], 1.0e9);
    EXPECT_EQ(t["contender"]["median"], 0.99e9);
  }
}

TEST_F(Normalise, ARepetitionWithoutTheFloorDropsOut) {
  // unix_stream: the baseline's sixth repetition (30000 ns) has no floors; left out, the
  // baseline is {1.2, 1.26, 1.14, 1.2, 1.32} (median 1.2) against the contender's six.
  const json doc = gate({"--normalise", "wake"}, 0);
  const json uds = result_of(doc, "unix_stream/latency/64/cross");
  EXPECT_EQ(uds["baseline"], json({{"median", 1.2}, {"n", 5}}));
  EXPECT_EQ(uds["contender"], json({{"median", 1.2}, {"n", 6}}));
  EXPECT_EQ(uds["verdict"], "no change");
  // tcp: no contender repetition has floors, so it cannot be judged, and says why.
  const json tcp = result_of(doc, "tcp/latency/64/cross");
  EXPECT_EQ(tcp["verdict"], "untested");
  EXPECT_EQ(tcp["untested_reason"],
            "6 contender repetitions without floors.wakeup_rtt_p50_ns: nothing to normalise by");
  EXPECT_TRUE(tcp["ratio"].is_null());
  EXPECT_EQ(doc["summary"]["untested"], 1);
  EXPECT_EQ(doc["summary"]["unchanged"], 3);
  EXPECT_EQ(gate({}, 1)["summary"]["untested"], 0);  // raw, tcp is judged
}

TEST_F(Normalise, ARepetitionLeftOutIsNamedWhenTooFewRemain) {
  // Four of the baseline's six pipe repetitions without floors: 2 vs 6 cannot reach 0.01.
  scratch_dir dir;
  json a = json::parse(std::ifstream(fixture("regimes_a.json")));
  int stripped = 0;
  for (json& e : a["benchmarks"])
    if (e["name"] == "pipe/latency/64/cross" && stripped++ < 4) e.erase("floors");
  const run_result r = run_compare_per_metric(
      {dir.write("a.json", a.dump()), fixture("regimes_b.json"), "--normalise", "wake", "--metrics",
       "rtt_p50_ns", "--format", "json", "--allow-untested"});
  EXPECT_EQ(r.status, 0) << r.err;
  const json doc = json::parse(r.out);
  const json pipe = result_of(doc, "pipe/latency/64/cross");
  EXPECT_EQ(pipe["baseline"]["n"], 2);
  EXPECT_EQ(pipe["verdict"], "untested");
  const std::string why = pipe["untested_reason"];
  EXPECT_EQ(why.rfind("2 vs 6 repetitions cannot reach 0.01", 0), 0u) << why;
  EXPECT_NE(why.find("; 4 baseline repetitions without floors.wakeup_rtt_p50_ns left out"),
            std::string::npos)
      << why;
}

TEST_F(Normalise, TheOutputSaysSoOnce) {
  const std::vector<std::string> args{fixture("regimes_a.json"),
                                      fixture("regimes_b.json"),
                                      "--metrics",
                                      "rtt_p50_ns,bytes_per_second",
                                      "--normalise",
                                      "wake"};
  const std::string note =
      "latency normalised (--normalise wake): each repetition's rtt_* and one_way_* metrics "
      "divided by the wake-up round trip measured beside it (floors.wakeup_rtt_p50_ns), so shown "
      "as multiples of it; throughput and CPU metrics are not normalised; left out for want of "
      "that floor: 1 baseline and 6 contender repetitions";
  const run_result table = run_compare_per_metric(args);
  EXPECT_EQ(table.status, 0) << table.err;
  EXPECT_EQ(table.out.rfind("Note: " + note + "\n\n", 0), 0u) << table.out;
  EXPECT_EQ(table.out.find("not normalised"), table.out.rfind("not normalised"));
  EXPECT_NE(table.out.find("rtt_p50_ns           2.00 x     2.00 x  1.000"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("954 MiB/s  944 MiB/s"), std::string::npos) << table.out;

  auto markdown = args;
  markdown.push_back("--format=markdown");
  const run_result md = run_compare_per_metric(markdown);
  EXPECT_NE(md.out.find("> **Note:** latency normalised (--normalise wake): each repetition's "
                        "rtt\\_\\* and one\\_way\\_\\* metrics"),
            std::string::npos)
      << md.out;
  EXPECT_EQ(md.out.find("not normalised"), md.out.rfind("not normalised"));
  // Without --normalise the output is as it was: no note.
  EXPECT_EQ(run_compare_per_metric({fixture("regimes_a.json"), fixture("regimes_b.json")})
                .out.find("normalised"),
            std::string::npos);
}

TEST_F(Normalise, SameAnswerComparesTheMultiples) {
  const std::string a = fixture("regimes_a.json"), b = fixture("regimes_b.json");
  // Raw, by the reports' estimates: pipe and unix_stream +300 %, tcp 22400 / 9000 - 1.
  const json raw = json::parse(run_compare({"--same-answer", a, b, "--format", "json"}).out);
  EXPECT_EQ(raw["latency"]["median_abs_delta_pct"], 300.0);
  // Normalised: pipe and unix_stream 0 %; tcp has no floors in B and drops out.
  const run_result r =
      run_compare({"--same-answer", a, b, "--normalise", "wake", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["values"], "medians");  // the estimates are in ns
  EXPECT_EQ(doc["latency"]["benchmarks"], 2);
  EXPECT_EQ(doc["latency"]["median_abs_delta_pct"], 0.0);
  EXPECT_EQ(doc["latency"]["p90_abs_delta_pct"], 0.0);
  EXPECT_NEAR(doc["throughput"]["median_abs_delta_pct"].get<double>(), 1.0, 1e-9);  // as raw
  EXPECT_EQ(doc["normalisation"]["without_floor"], json({{"a", 1}, {"b", 6}}));
  EXPECT_EQ(doc["rankings"][0]["tau_b"], 1.0);  // unix_stream 1.2x before pipe 2.0x in both
  const run_result text = run_compare({"--same-answer", a, b, "--normalise", "wake"});
  EXPECT_NE(text.out.find("\nvalues compared: the median over each report's repetitions (the "
                          "estimates are in ns, not normalised)\nlatency normalised (--normalise "
                          "wake): "),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("left out for want of that floor: 1 A and 6 B repetitions\n"),
            std::string::npos)
      << text.out;
}

TEST(RegimeMix, DifferentMixesAreOneWarningAndANoteInEveryFormat) {
  // A spent 20 of 23 repetitions in the fast regime, B 4 of 18.
  const std::string a = fixture("regimes_a.json"), b = fixture("regimes_b.json");
  const std::string warning =
      "the runs met the host's regimes in different mixes (shares more than 0.2 apart): "
      "baseline: 125 ns 87 %, 500 ns 13 %; contender: 125 ns 22 %, 500 ns 78 % (each regime's "
      "cache-line round trip and share of the repetitions); raw latencies are not comparable "
      "across them: --normalise wake or line compares multiples of the floors measured beside "
      "each repetition";
  const std::vector<std::string> args{a, b, "--metrics", "rtt_p50_ns"};
  const run_result table = run_compare_per_metric(args);
  EXPECT_EQ(table.status, 1);  // pipe's 4x raw p50
  EXPECT_EQ(table.err, "ipcbench-compare: warning: " + warning + "\n");
  EXPECT_EQ(table.out.rfind("Note: " + warning + "\n\n", 0), 0u) << table.out;

  auto md = args;
  md.push_back("--format=markdown");
  EXPECT_NE(run_compare_per_metric(md).out.find("> **Warning:** the runs met the host's regimes"),
            std::string::npos);

  auto as_json = args;
  as_json.push_back("--format=json");
  const json doc = json::parse(run_compare_per_metric(as_json).out);
  EXPECT_EQ(doc["warnings"], json::array({warning}));
  EXPECT_EQ(doc["regimes"]["baseline"],
            json({{"reference", 0},
                  {"regimes",
                   {{{"cache_line_rtt_p50_ns", 125.0}, {"share", 0.8696}},
                    {{"cache_line_rtt_p50_ns", 500.0}, {"share", 0.1304}}}}}));
  EXPECT_EQ(doc["regimes"]["contender"]["regimes"][1]["share"], 0.7778);
  EXPECT_EQ(doc["regimes"]["differ"], true);

  // Normalised, the warning says so instead of suggesting it.
  auto normalised = args;
  normalised.insert(normalised.end(), {"--normalise", "wake"});
  const run_result n = run_compare_per_metric(normalised);
  EXPECT_NE(n.err.find("the latencies here are normalised (--normalise wake)\n"), std::string::npos)
      << n.err;

  // --same-answer warns the same way, with its A and B.
  const run_result same = run_compare({"--same-answer", a, b});
  EXPECT_EQ(same.status, 0);
  EXPECT_NE(same.err.find("warning: the runs met the host's regimes in different mixes (shares "
                          "more than 0.2 apart): A: 125 ns 87 %, 500 ns 13 %; B: 125 ns 22 %"),
            std::string::npos)
      << same.err;
  EXPECT_NE(same.out.find("\nNote: the runs met the host's regimes"), std::string::npos);
}

TEST(RegimeMix, NothingWhenTheMixesAgreeOrASideHasNone) {
  scratch_dir dir;
  const std::string a = fixture("regimes_a.json");
  json b = json::parse(std::ifstream(fixture("regimes_b.json")));
  // Shares 0.8 and 0.2 against A's 0.87 and 0.13, reference 130 ns against 125: the same mix.
  auto& regimes = b["context"]["ipcbench"]["regimes"]["regimes"];
  regimes[0]["share"] = 0.8;
  regimes[1]["share"] = 0.2;
  regimes[0]["cache_line_rtt_p50_ns"]["median"] = 130.0;
  const std::vector<std::string> tail{"--metrics", "rtt_p50_ns", "--format", "json"};
  auto args = std::vector<std::string>{a, dir.write("same_mix.json", b.dump())};
  args.insert(args.end(), tail.begin(), tail.end());
  run_result r = run_compare_per_metric(args);
  EXPECT_EQ(r.err, "");
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["regimes"]["differ"], false);
  EXPECT_TRUE(doc["regimes"]["warning"].is_null());
  EXPECT_TRUE(doc["warnings"].empty());

  // B without regimes (null, as a run without cache-line floors has), or an older report.
  b["context"]["ipcbench"]["regimes"] = nullptr;
  args[1] = dir.write("no_regimes.json", b.dump());
  r = run_compare_per_metric(args);
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(json::parse(r.out).contains("regimes"));
  b["context"]["ipcbench"].erase("regimes");
  args[1] = dir.write("older.json", b.dump());
  args[0] = args[1];
  args[1] = a;
  r = run_compare_per_metric(args);
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(json::parse(r.out).contains("regimes"));
}

TEST_F(Normalise, BadValueIsOneLineAndExitTwo) {
  const std::string a = fixture("regimes_a.json"), b = fixture("regimes_b.json");
  expect_bad_input(run_compare({a, b, "--normalise", "copy"}),
                   "ipcbench-compare: bad --normalise 'copy' (wake or line)");
  expect_bad_input(run_compare({a, b, "--normalise="}),
                   "ipcbench-compare: bad --normalise '' (wake or line)");
  expect_bad_input(run_compare({a, b, "--normalise"}),
                   "ipcbench-compare: option --normalise needs a value");
  expect_bad_input(run_compare({"--same-answer", a, b, "--normalise", "Wake"}),
                   "ipcbench-compare: bad --normalise 'Wake' (wake or line)");
}

// --same-answer: two small reports built here whose figures are worked out by hand.
class SameAnswer : public ::testing::Test {
 protected:
  struct bench {
    std::string name;  // <id>[/<topology>/<N>]/<pattern>/<size>/<placement>
    std::vector<double> values;
    std::string status = "ok";
  };

  // One iteration entry per value, with the fields the bench program writes that compare reads.
  static json make_report(const std::vector<bench>& benches) {
    json doc = json::parse(std::ifstream(fixture("baseline.json")));
    doc["benchmarks"] = json::array();
    for (const bench& b : benches) {
      const auto info = parse_name(b.name);
      const bool latency = info->pattern == "latency";
      for (std::size_t i = 0; i < b.values.size(); ++i) {
        json e = {{"name", b.name},
                  {"run_name", b.name},
                  {"run_type", "iteration"},
                  {"repetition_index", i},
                  {"id", *info->id},
                  {"mechanism", *info->mechanism},
                  {"family", *info->id == "null" ? "calibration" : *info->mechanism},
                  {"pattern", *info->pattern},
                  {"message_size", *info->message_size},
                  {"placement", *info->placement},
                  {"status", b.status},
                  {"reason", b.status == "ok" ? "" : "data check: 1 corrupted"}};
        if (info->topology) {
          e["topology"] = *info->topology;
          e["fan"] = *info->fan;
          e["group"] = {{"topology", *info->topology}, {"n", *info->fan}};
        }
        if (b.status == "ok") e[latency ? "rtt_p50_ns" : "bytes_per_second"] = b.values[i];
        doc["benchmarks"].push_back(std::move(e));
      }
    }
    return doc;
  }

  std::string write(const std::string& file, const json& doc) const {
    return dir_.write(file, doc.dump());
  }

  // A's spread figures (`spread.a` of --same-answer --format=json) for report `a`, written to
  // `file`, against the regimes_b fixture.
  json spread_a_against_regimes_b(const std::string& file, const json& a) const {
    const std::string path = write(file, a);
    return json::parse(
        run_compare({"--same-answer", path, fixture("regimes_b.json"), "--format=json"})
            .out)["spread"]["a"];
  }

  // The text of --same-answer for report `a`, written to `file`, against the regimes_b fixture;
  // it must exit 0.
  std::string same_answer_against_regimes_b(const std::string& file, const json& a) const {
    const run_result r = run_compare({"--same-answer", write(file, a), fixture("regimes_b.json")});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }

  // The text of --same-answer for reports of `a` and `b`; it must exit 0.
  std::string same_answer_of(const std::vector<bench>& a, const std::vector<bench>& b) const {
    const run_result r = run_compare(
        {"--same-answer", write("a.json", make_report(a)), write("b.json", make_report(b))});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }

  static void expect_in(const std::string& out, const std::string& part) {
    EXPECT_NE(out.find(part), std::string::npos) << "no \"" << part << "\" in:\n" << out;
  }

  // A and B: latency |delta| {0, 10, 0, 5, 20, 0} %, throughput {10, 52.5, 0, 0} %; at 64 B
  // pipe and fifo swap places (tau-b (5 - 1) / 6), at 1 MiB shm_spin.spin falls from first to
  // second (tau-b (2 - 1) / 3). Left out of everything: the topologies, tcp (failed in B) and
  // eventfd (only in A); of the rankings, the null calibration. Spread over 1.5x: pipe 4096 in A
  // (3100 / 1500), shm_spin.spin 1 MiB in B (2.0 / 1.2); unix_stream in B is exactly 1.5.
  static std::vector<bench> side_a() {
    return {
        {"shm_spin.spin/latency/64/cross", {500, 500, 500}},
        {"pipe/latency/64/cross", {1000, 1000, 1000}},
        {"fifo/latency/64/cross", {1050, 1050, 1050}},
        {"unix_stream/latency/64/cross", {3000, 3000, 3000}},
        {"pipe/latency/4096/cross", {2000, 1500, 3100}},
        {"null/latency/64/none", {50, 50, 50}},
        {"eventfd/latency/64/cross", {100, 100, 100}},
        {"tcp/latency/64/cross", {4000, 4000, 4000}},
        {"pipe/pairs/2/latency/64/cross", {1000, 1000, 1000}},
        {"pipe/throughput/1048576/cross", {1e9, 1e9, 1e9}},
        {"shm_spin.spin/throughput/1048576/cross", {4e9, 4e9, 4e9}},
        {"unix_stream/throughput/1048576/cross", {2e9, 2e9, 2e9}},
        {"pipe/throughput/64/cross", {1e8, 1e8, 1e8}},
        {"pipe/fan_in/2/throughput/1048576/cross", {9e9, 9e9, 9e9}},
    };
  }
  static std::vector<bench> side_b() {
    return {
        {"shm_spin.spin/latency/64/cross", {500, 500, 500}},
        {"pipe/latency/64/cross", {1100, 1100, 1100}},
        {"fifo/latency/64/cross", {1050, 1050, 1050}},
        {"unix_stream/latency/64/cross", {3150, 2100, 3150}},
        {"pipe/latency/4096/cross", {2400, 2400, 2400}},
        {"null/latency/64/none", {50, 50, 50}},
        {"tcp/latency/64/cross", {0, 0, 0}, "failed"},
        {"pipe/pairs/2/latency/64/cross", {5000, 5000, 5000}},
        {"pipe/throughput/1048576/cross", {1.1e9, 1.1e9, 1.1e9}},
        {"shm_spin.spin/throughput/1048576/cross", {1.9e9, 1.2e9, 2.0e9}},
        {"unix_stream/throughput/1048576/cross", {2e9, 2e9, 2e9}},
        {"pipe/throughput/64/cross", {1e8, 1e8, 1e8}},
        {"pipe/fan_in/2/throughput/1048576/cross", {1e8, 1e8, 1e8}},
    };
  }

  scratch_dir dir_;
};

TEST_F(SameAnswer, PrintsTheFiguresWorkedOutByHand) {
  const std::string a = write("a.json", make_report(side_a()));
  const std::string b = write("b.json", make_report(side_b()));
  const run_result r = run_compare({"--same-answer", a, b});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "A: " + a + "\nB: " + b +
                "\n"
                "latency p50 |delta| between A and B: 6 benchmarks, median 2.50 %, 90th "
                "percentile 20.00 %\n"
                "throughput |delta| between A and B: 4 benchmarks, median 5.00 %, 90th "
                "percentile 52.50 %\n"
                // B / A: 1, 1.1, 1, 1.05, 1.2 and the null 1; about their median 1.025:
                // 2.44 % four times, 7.32 % and 17.07 %. Throughput: 1.1, 0.475, 1, 1.
                "latency p50 of the runs as a whole: B / A a median 1.025 (the null benchmarks, "
                "the harness with no IPC: 1.000 over 1); |delta| about that ratio: 6 benchmarks, "
                "median 2.44 %, 90th percentile 17.07 % (a shift of every benchmark alike moves "
                "no ranking)\n"
                "throughput of the runs as a whole: B / A a median 1.000 (no null benchmark in "
                "both); |delta| about that ratio: 4 benchmarks, median 5.00 %, 90th percentile "
                "52.50 % (a shift of every benchmark alike moves no ranking)\n"
                "latency p50 ranking at 64 B (cross): Kendall tau-b 0.667 over 4 mechanisms\n"
                "throughput ranking at 1 MiB (cross): Kendall tau-b 0.333 over 3 mechanisms\n"
                "latency p50 winner at 64 B (cross): A shm_spin.spin, B shm_spin.spin: agree\n"
                "throughput winner at 1 MiB (cross): A shm_spin.spin, B unix_stream: differ\n"
                "repetitions spread over 1.5x (max/min of the main metric) in A: 1 of 12 "
                "benchmarks (8.33 %)\n"
                "repetitions spread over 1.5x (max/min of the main metric) in B: 1 of 10 "
                "benchmarks (10.00 %)\n");

  // The same report twice: no difference at all (eventfd and tcp are in both now).
  const run_result same = run_compare({"--same-answer", a, a});
  EXPECT_EQ(same.status, 0) << same.err;
  expect_in(same.out,
            "latency p50 |delta| between A and B: 8 benchmarks, median 0.00 %, 90th percentile "
            "0.00 %\n");
  expect_in(same.out, "throughput ranking at 1 MiB (cross): Kendall tau-b 1.000 over 3");
}

TEST_F(SameAnswer, JsonHasTheSameFigures) {
  const std::string a = write("a.json", make_report(side_a()));
  const std::string b = write("b.json", make_report(side_b()));
  const run_result r = run_compare({"--same-answer", a, b, "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["a"], a);
  EXPECT_EQ(doc["b"], b);
  EXPECT_EQ(doc["common"], 13);
  EXPECT_EQ(doc["latency"]["metric"], "rtt_p50_ns");
  EXPECT_EQ(doc["latency"]["benchmarks"], 6);
  EXPECT_NEAR(doc["latency"]["median_abs_delta_pct"].get<double>(), 2.5, 1e-9);
  EXPECT_NEAR(doc["latency"]["p90_abs_delta_pct"].get<double>(), 20.0, 1e-9);
  EXPECT_EQ(doc["throughput"]["benchmarks"], 4);
  EXPECT_NEAR(doc["throughput"]["median_abs_delta_pct"].get<double>(), 5.0, 1e-9);
  EXPECT_NEAR(doc["throughput"]["p90_abs_delta_pct"].get<double>(), 52.5, 1e-9);
  ASSERT_EQ(doc["rankings"].size(), 2u);
  const json& lat = doc["rankings"][0];
  EXPECT_EQ(lat["metric"], "rtt_p50_ns");
  EXPECT_EQ(lat["message_size"], 64);
  EXPECT_EQ(lat["placement"], "cross");
  EXPECT_EQ(lat["n"], 4);
  EXPECT_NEAR(lat["tau_b"].get<double>(), 4.0 / 6.0, 1e-12);
  EXPECT_EQ(lat["winner_a"], "shm_spin.spin");
  EXPECT_EQ(lat["winners_agree"], true);
  const json& tput = doc["rankings"][1];
  EXPECT_EQ(tput["metric"], "bytes_per_second");
  EXPECT_EQ(tput["message_size"], 1048576);
  EXPECT_EQ(tput["n"], 3);
  EXPECT_NEAR(tput["tau_b"].get<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(tput["winner_a"], "shm_spin.spin");
  EXPECT_EQ(tput["winner_b"], "unix_stream");
  EXPECT_EQ(tput["winners_agree"], false);
  const json& whole = doc["as_a_whole"];
  EXPECT_EQ(whole["latency"]["benchmarks"], 6);
  EXPECT_NEAR(whole["latency"]["ratio"].get<double>(), 1.025, 1e-12);
  EXPECT_NEAR(whole["latency"]["median_abs_delta_pct"].get<double>(), (1.0 - 1.0 / 1.025) * 100,
              1e-9);
  EXPECT_NEAR(whole["latency"]["p90_abs_delta_pct"].get<double>(), (1.2 / 1.025 - 1.0) * 100, 1e-9);
  EXPECT_NEAR(whole["latency"]["null_ratio"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(whole["latency"]["null_benchmarks"], 1);
  EXPECT_NEAR(whole["throughput"]["ratio"].get<double>(), 1.0, 1e-12);
  EXPECT_TRUE(whole["throughput"]["null_ratio"].is_null());
  EXPECT_EQ(whole["throughput"]["null_benchmarks"], 0);
  EXPECT_EQ(doc["spread"]["limit"], 1.5);
  EXPECT_EQ(doc["spread"]["a"], json({{"benchmarks", 12}, {"over", 1}, {"share", 1.0 / 12.0}}));
  EXPECT_EQ(doc["spread"]["b"], json({{"benchmarks", 10}, {"over", 1}, {"share", 0.1}}));
}

TEST_F(SameAnswer, EachPlacementIsRankedOnItsOwnCrossFirst) {
  auto a = side_a(), b = side_b();
  a.push_back({"pipe/latency/64/same", {700, 700, 700}});
  a.push_back({"fifo/latency/64/same", {800, 800, 800}});
  b.push_back({"pipe/latency/64/same", {700, 700, 700}});
  b.push_back({"fifo/latency/64/same", {600, 600, 600}});
  const std::string out = same_answer_of(a, b);
  expect_in(out,
            "latency p50 ranking at 64 B (cross): Kendall tau-b 0.667 over 4 mechanisms\n"
            "latency p50 ranking at 64 B (same): Kendall tau-b -1.000 over 2 mechanisms\n");
  expect_in(out, "latency p50 winner at 64 B (same): A pipe, B fifo: differ\n");
}

TEST_F(SameAnswer, AShiftOfEveryBenchmarkAlikeLeavesNoDeltaAboutTheRunsRatio) {
  // B runs every benchmark 6 % slower (the null benchmark too), and pipe another 10 % on top.
  std::vector<bench> a = {{"shm_spin.spin/latency/64/cross", {500}},
                          {"pipe/latency/64/cross", {1000}},
                          {"fifo/latency/64/cross", {1050}},
                          {"null/latency/64/none", {50}},
                          {"pipe/throughput/1048576/cross", {1e9}}};
  std::vector<bench> b = {{"shm_spin.spin/latency/64/cross", {530}},
                          {"pipe/latency/64/cross", {1166}},
                          {"fifo/latency/64/cross", {1113}},
                          {"null/latency/64/none", {53}},
                          {"pipe/throughput/1048576/cross", {1e9 / 1.06}}};
  const std::string out = same_answer_of(a, b);
  expect_in(out,
            "latency p50 |delta| between A and B: 4 benchmarks, median 6.00 %, 90th percentile "
            "16.60 %\n");
  expect_in(out,
            "latency p50 of the runs as a whole: B / A a median 1.060 (the null benchmarks, the "
            "harness with no IPC: 1.060 over 1); |delta| about that ratio: 4 benchmarks, median "
            "0.00 %, 90th percentile 10.00 %");
  expect_in(out, "throughput of the runs as a whole: B / A a median 0.943 (no null benchmark");
}

TEST_F(SameAnswer, AppliesNoGate) {
  // The fixtures hold regressions and lost benchmarks: the gate exits 1, --same-answer 0.
  const run_result r =
      run_compare({"--same-answer", fixture("baseline.json"), fixture("contender.json")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("regression"), std::string::npos) << r.out;
}

// --same-answer on fixtures/regimes_a.json and regimes_b.json, which state estimates.
TEST(SameAnswerEstimates, TheReportsStatedAnswersAreCompared) {
  const std::string a = fixture("regimes_a.json"), b = fixture("regimes_b.json");
  const run_result r = run_compare({"--same-answer", a, b});
  EXPECT_EQ(r.status, 0) << r.err;
  // Estimates: A pipe 10000, unix_stream 6000, tcp 9000; B 40000, 24000, 22400. |delta| 300 %,
  // 300 %, 148.89 %; ranks A (unix_stream, tcp, pipe), B (tcp, unix_stream, pipe): one pair of
  // three discordant, tau-b 1/3. Throughput 1.0e9 in both.
  const std::string expected_head =
      "A: " + a + "\nB: " + b +
      "\nvalues compared: each report's estimate (estimates.value), not the median over its "
      "repetitions\n";
  EXPECT_EQ(r.out.rfind(expected_head, 0), 0u) << r.out;
  for (const char* line :
       {"latency p50 |delta| between A and B: 3 benchmarks, median 300.00 %, 90th percentile "
        "300.00 %\n",
        "throughput |delta| between A and B: 1 benchmark, median 0.00 %, 90th percentile 0.00 %\n",
        // As declared (intervals A: unix_stream [5700, 6600], tcp 9000 (no interval: a point),
        // pipe [9000, 11000]; B: [22800, 26400], [14800, 30400], [36000, 44000]): A orders
        // (pipe, unix_stream) and (unix_stream, tcp), ties (pipe, tcp); B orders (pipe,
        // unix_stream) and (pipe, tcp), ties (unix_stream, tcp): one concordant pair over
        // sqrt(2 * 2), 0.5. Widths: A 15 % and 20 % (tcp a point), B 15 %, 69.64 % and 20 %.
        "latency p50 ranking at 64 B (cross): Kendall tau-b 0.333 over 3 mechanisms; 0.500 as "
        "the reports declare them (intervals that overlap: tied); of 3 pairs, both reports order "
        "1 the same way and 0 the opposite ways, one ties 2 the other orders (A ties 1 of them, "
        "B 1), both tie 0; the intervals a median 17.50 % of their values wide in A, 20.00 % in "
        "B\n",
        "latency p50 winner at 64 B (cross): A unix_stream, B tcp: differ\n",
        // Over 1.5x in A: unix_stream (30000 / 5700, one regime, unexplained) and tcp (37200 /
        // 8700, two regimes); in B: tcp (two modes) and the throughput (two regimes).
        "repetitions spread over 1.5x (max/min of the main metric) in A: 2 of 4 benchmarks "
        "(50.00 %); the report explains 1 of them (50.00 %: modes (0 of the timed batches' parts), "
        "or regimes, a "
        "disturbance of the run, the host's steal time, another task on a peer's CPU or the "
        "host moving during a repetition, or the run's pace beside them (0), each within the "
        "limit), 1 unexplained "
        "(50.00 %)\n",
        "repetitions spread over 1.5x (max/min of the main metric) in B: 2 of 4 benchmarks "
        "(50.00 %); the report explains 2 of them (100.00 %: modes (0 of the timed batches' "
        "parts), or regimes, a "
        "disturbance of the run, the host's steal time, another task on a peer's CPU or the "
        "host moving during a repetition, or the run's pace beside them (0), each within the "
        "limit), 0 unexplained "
        "(0.00 %)\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << "no \"" << line << "\" in:\n" << r.out;

  const json doc = json::parse(run_compare({"--same-answer", a, b, "--format=json"}).out);
  EXPECT_EQ(doc["values"], "estimates");
  EXPECT_EQ(doc["latency"]["median_abs_delta_pct"], 300.0);
  EXPECT_EQ(doc["latency"]["p90_abs_delta_pct"], 300.0);
  EXPECT_EQ(doc["throughput"]["median_abs_delta_pct"], 0.0);
  EXPECT_NEAR(doc["rankings"][0]["tau_b"].get<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(doc["rankings"][0]["tau_declared"].get<double>(), 0.5, 1e-12);
  EXPECT_EQ(doc["rankings"][0]["declared_pairs"], json({{"same_order", 1},
                                                        {"opposite_order", 0},
                                                        {"one_tied", 2},
                                                        {"tied_by_a_only", 1},
                                                        {"tied_by_b_only", 1},
                                                        {"both_tied", 0}}));
  EXPECT_NEAR(doc["rankings"][0]["interval_width_pct"]["a"].get<double>(), 17.5, 1e-9);
  EXPECT_NEAR(doc["rankings"][0]["interval_width_pct"]["b"].get<double>(), 20.0, 1e-9);
  // A's intervals of unix_stream and tcp do not overlap: the winners are not tied.
  EXPECT_EQ(doc["rankings"][0]["winners_tied"], false);
  EXPECT_TRUE(doc["rankings"][1]["tau_declared"].is_null());  // one mechanism
  EXPECT_EQ(doc["spread"]["a"],
            json({{"benchmarks", 4},
                  {"over", 2},
                  {"share", 0.5},
                  {"explained", {{"benchmarks", 1}, {"share", 0.5}}},
                  {"explained_by_run_pace", {{"benchmarks", 0}, {"share", 0.0}}},
                  {"explained_by_part_modes", {{"benchmarks", 0}, {"share", 0.0}}},
                  {"unexplained", {{"benchmarks", 1}, {"share", 0.5}}},
                  {"unexplained_with_a_cause_named", {{"benchmarks", 0}, {"share", 0.0}}},
                  {"unexplained_by_one_repetition_alone", {{"benchmarks", 0}, {"share", 0.0}}}}));
  EXPECT_EQ(doc["spread"]["b"]["explained"], json({{"benchmarks", 2}, {"share", 1.0}}));
  EXPECT_EQ(doc["spread"]["b"]["unexplained"], json({{"benchmarks", 0}, {"share", 0.0}}));
}

TEST_F(SameAnswer, ARankingSaysWhichReportTiesAndHowWideEachOnesIntervalsAre) {
  // A states no interval (every latency estimate a point): A orders all three pairs, B ties
  // (unix_stream, tcp), whose intervals [22800, 26400] and [14800, 30400] overlap. B's widths:
  // 15 %, 69.64 % and 20 %, a median of 20 %.
  json a = json::parse(slurp(fixture("regimes_a.json")));
  for (auto& [name, e] : a["estimates"].items()) e["interval"] = nullptr;
  expect_in(same_answer_against_regimes_b("a.json", a),
            "one ties 1 the other orders (A ties 0 of them, B 1), both tie 0; no interval in A, "
            "the intervals a median 20.00 % of their values wide in B\n");
  const json doc = json::parse(
      run_compare({"--same-answer", write("a.json", a), fixture("regimes_b.json"), "--format=json"})
          .out);
  EXPECT_EQ(doc["rankings"][0]["declared_pairs"]["tied_by_a_only"], 0);
  EXPECT_EQ(doc["rankings"][0]["declared_pairs"]["tied_by_b_only"], 1);
  EXPECT_TRUE(doc["rankings"][0]["interval_width_pct"]["a"].is_null());
  EXPECT_NEAR(doc["rankings"][0]["interval_width_pct"]["b"].get<double>(), 20.0, 1e-9);
}

TEST_F(SameAnswer, ASpreadWhoseCauseTheReportNamesIsCountedApart) {
  // A's unexplained spread (unix_stream), its estimate now naming a cause: still unexplained
  // (no mode, no regime), and counted apart as one with a cause named.
  json a = json::parse(slurp(fixture("regimes_a.json")));
  a["estimates"]["unix_stream/latency/64/cross"]["spread_cause"] =
      "the wake-up floor beside the slowest repetition (5.3x the fastest) is 4.0x the fastest's";
  expect_in(
      same_answer_against_regimes_b("a.json", a),
      "in A: 2 of 4 benchmarks (50.00 %); the report explains 1 of them (50.00 %: modes (0 of the "
      "timed batches' parts), or regimes, a disturbance of the run, the host's steal time, "
      "another task on a peer's CPU or the host moving during a repetition, or the run's pace "
      "beside them (0), each within "
      "the limit), 1 unexplained (50.00 %), "
      "of which it names a cause "
      "for 1 (the CPU, a wait for it, a floor beside the slowest repetition, or the "
      "mechanism's own threads on the peers' CPUs)\n");
  const json spread = spread_a_against_regimes_b("a.json", a);
  EXPECT_EQ(spread["unexplained"], json({{"benchmarks", 1}, {"share", 0.5}}));
  EXPECT_EQ(spread["unexplained_with_a_cause_named"], json({{"benchmarks", 1}, {"share", 0.5}}));
}

TEST_F(SameAnswer, ASpreadThatOneRepetitionMakesAloneIsCountedApartAndStaysUnexplained) {
  // A's unexplained spread (unix_stream), its estimate naming one repetition that makes it alone:
  // still unexplained, and counted apart; a spread the report explains is not counted again.
  json a = json::parse(slurp(fixture("regimes_a.json")));
  const json lone = {
      {"order", 3}, {"value", 30000.0}, {"ratio", 5.0}, {"rest", 4}, {"rest_spread", 1.16}};
  a["estimates"]["unix_stream/latency/64/cross"]["spread_outlier"] = lone;
  a["estimates"]["tcp/latency/64/cross"]["spread_outlier"] = lone;  // two regimes: explained
  expect_in(
      same_answer_against_regimes_b("a.json", a),
      "in A: 2 of 4 benchmarks (50.00 %); the report explains 1 of them (50.00 %: modes (0 of the "
      "timed batches' parts), or regimes, a disturbance of the run, the host's steal time, "
      "another task on a peer's CPU or the host moving during a repetition, or the run's pace "
      "beside them (0), each within "
      "the limit), 1 unexplained (50.00 %); one repetition alone makes "
      "1 of them (100.00 % of "
      "the unexplained), the others lying within the limit\n");
  const json spread = spread_a_against_regimes_b("a.json", a);
  EXPECT_EQ(spread["unexplained"], json({{"benchmarks", 1}, {"share", 0.5}}));
  EXPECT_EQ(spread["unexplained_by_one_repetition_alone"],
            json({{"benchmarks", 1}, {"share", 0.5}}));
}

TEST_F(SameAnswer, RegimesDoNotExplainASpreadWithinTheRegimeJudgedOn) {
  // A's tcp spans two regimes (8700-9300 fast, 34800-37200 slow): explained while the fast
  // repetitions it is judged on spread 1.07x, not once its estimate says they spread 1.6x.
  json a = json::parse(slurp(fixture("regimes_a.json")));
  a["estimates"]["tcp/latency/64/cross"]["spread"] = 9300.0 / 8700.0;
  EXPECT_EQ(spread_a_against_regimes_b("a.json", a)["explained"],
            json({{"benchmarks", 1}, {"share", 0.5}}));
  a["estimates"]["tcp/latency/64/cross"]["spread"] = 1.6;
  const json spread = spread_a_against_regimes_b("a2.json", a);
  EXPECT_EQ(spread["explained"], json({{"benchmarks", 0}, {"share", 0.0}}));
  EXPECT_EQ(spread["unexplained"], json({{"benchmarks", 2}, {"share", 1.0}}));
}

TEST_F(SameAnswer, ADisturbanceTheEstimateLeftOutExplainsASpread) {
  // A's unix_stream: 5700-6600 in one regime and a 30000 without floors (5.3x). Its estimate
  // saying it left one repetition out as lying in a disturbance of the run, and that the rest
  // spread 1.16x: explained; with no such repetition: not.
  json a = json::parse(slurp(fixture("regimes_a.json")));
  a["estimates"]["unix_stream/latency/64/cross"]["spread"] = 6600.0 / 5700.0;
  EXPECT_EQ(spread_a_against_regimes_b("a.json", a)["explained"],
            json({{"benchmarks", 1}, {"share", 0.5}}));
  a["estimates"]["unix_stream/latency/64/cross"]["disturbed"] = 1;
  EXPECT_EQ(spread_a_against_regimes_b("a2.json", a)["explained"],
            json({{"benchmarks", 2}, {"share", 1.0}}));
}

TEST_F(SameAnswer, RepetitionsLeftOutForStealOrAnotherTaskExplainASpreadTheRestKeepWithinLimit) {
  // A's unix_stream as above, its estimate saying it left one repetition out for the host's
  // steal time during its batch (stolen), or because another task took a peer's CPU during it
  // (preempted), and that the rest spread 1.16x: explained; the rest 1.6x: not.
  for (const char* cause : {"stolen", "preempted"}) {
    SCOPED_TRACE(cause);
    json a = json::parse(slurp(fixture("regimes_a.json")));
    a["estimates"]["unix_stream/latency/64/cross"]["spread"] = 6600.0 / 5700.0;
    a["estimates"]["unix_stream/latency/64/cross"][cause] = 1;
    EXPECT_EQ(spread_a_against_regimes_b(std::string(cause) + ".json", a)["explained"],
              json({{"benchmarks", 2}, {"share", 1.0}}));
    a["estimates"]["unix_stream/latency/64/cross"]["spread"] = 1.6;
    EXPECT_EQ(spread_a_against_regimes_b(std::string(cause) + "2.json", a)["explained"],
              json({{"benchmarks", 1}, {"share", 0.5}}));
  }
}

TEST_F(SameAnswer, RepetitionsLeftOutForTheHostMovingExplainASpreadTheRestKeepWithinTheLimit) {
  // A's unix_stream as above, its estimate saying it left one repetition out for belonging to no
  // regime (the host moved during it), and that the rest spread 1.16x: explained; 1.6x: not.
  json a = json::parse(slurp(fixture("regimes_a.json")));
  a["estimates"]["unix_stream/latency/64/cross"]["spread"] = 6600.0 / 5700.0;
  a["estimates"]["unix_stream/latency/64/cross"]["moved"] = 1;
  EXPECT_EQ(spread_a_against_regimes_b("a.json", a)["explained"],
            json({{"benchmarks", 2}, {"share", 1.0}}));
  a["estimates"]["unix_stream/latency/64/cross"]["spread"] = 1.6;
  EXPECT_EQ(spread_a_against_regimes_b("a2.json", a)["explained"],
            json({{"benchmarks", 1}, {"share", 0.5}}));
}

TEST_F(SameAnswer, ModesOfTheBatchesPartsExplainASpreadAndAreCountedApart) {
  // A's unix_stream (5.3x, one regime): its estimate listing modes of its batches' parts
  // (`sub_batches` in each): explained, and counted as theirs; tcp's two regimes are not.
  json a = json::parse(slurp(fixture("regimes_a.json")));
  a["estimates"]["unix_stream/latency/64/cross"]["modes"] =
      json::array({{{"value", 6000.0}, {"share", 0.75}, {"repetitions", 4}, {"sub_batches", 12}},
                   {{"value", 30000.0}, {"share", 0.25}, {"repetitions", 2}, {"sub_batches", 4}}});
  expect_in(same_answer_against_regimes_b("a.json", a),
            "in A: 2 of 4 benchmarks (50.00 %); the report explains 2 of them (100.00 %: modes (1 "
            "of the timed batches' parts), or regimes");
  const json spread = spread_a_against_regimes_b("a.json", a);
  EXPECT_EQ(spread["explained"], json({{"benchmarks", 2}, {"share", 1.0}}));
  EXPECT_EQ(spread["explained_by_part_modes"], json({{"benchmarks", 1}, {"share", 0.5}}));
}

TEST_F(SameAnswer, TheRunsPaceBesideTheRepetitionsExplainsASpreadItBringsWithinTheLimit) {
  // A's unix_stream (5.3x, one regime, no mode): its estimate saying that, taken to the run's
  // pace beside each repetition, they spread 1.4x: explained, and counted as the pace's; 1.6x:
  // not.
  json a = json::parse(slurp(fixture("regimes_a.json")));
  a["estimates"]["unix_stream/latency/64/cross"]["spread_at_run_pace"] = 1.4;
  json spread = spread_a_against_regimes_b("a.json", a);
  EXPECT_EQ(spread["explained"], json({{"benchmarks", 2}, {"share", 1.0}}));
  EXPECT_EQ(spread["explained_by_run_pace"], json({{"benchmarks", 1}, {"share", 0.5}}));
  a["estimates"]["unix_stream/latency/64/cross"]["spread_at_run_pace"] = 1.6;
  spread = spread_a_against_regimes_b("a2.json", a);
  EXPECT_EQ(spread["explained"], json({{"benchmarks", 1}, {"share", 0.5}}));
  EXPECT_EQ(spread["explained_by_run_pace"], json({{"benchmarks", 0}, {"share", 0.0}}));
}

TEST(SameAnswerEstimates, EachBenchmarkIsAlsoComparedInARegimeBothRunsMeasured) {
  const std::string a = fixture("regimes_a.json");
  // As the fixtures are, no latency benchmark has a regime both measured: A measured pipe and
  // unix_stream in regime 0 (125 ns), B in regime 1 (500 ns), and B's tcp in none.
  // Throughput: regime 0 in both (6 and 4 repetitions), 1.0e9 in both.
  const run_result r = run_compare({"--same-answer", a, fixture("regimes_b.json")});
  EXPECT_EQ(r.status, 0) << r.err;
  for (const char* line :
       {"latency p50 |delta| state by state (each benchmark in one host state both runs measured "
        "it in, the one with most repetitions first): 0 benchmarks; 3 without such a state\n",
        "throughput |delta| state by state (each benchmark in one host state both runs measured "
        "it in, the one with most repetitions first): 1 benchmark, median 0.00 %, 90th "
        "percentile 0.00 %; 0 without such a state\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << "no \"" << line << "\" in:\n" << r.out;
  // No ranking has two mechanisms valued in one state by both.
  EXPECT_EQ(r.out.find("state by state: in the host state"), std::string::npos) << r.out;

  // B's tcp measured in regime 0 three times (9900 against A's 9000: +10 %) and in regime 1
  // once: regime 1 has fewer on the poorer side (1 against 3), so regime 0 is compared.
  scratch_dir dir;
  json b = json::parse(std::ifstream(fixture("regimes_b.json")));
  json& tcp = b["estimates"]["tcp/latency/64/cross"]["by_regime"];
  tcp = json::array({{{"regime", 0}, {"value", 9900.0}, {"repetitions", 3}},
                     {{"regime", 1}, {"value", 30000.0}, {"repetitions", 1}}});
  json doc = json::parse(
      run_compare({"--same-answer", a, dir.write("b.json", b.dump()), "--format=json"}).out);
  EXPECT_EQ(doc["same_regime"]["min_repetitions"], 1);
  EXPECT_EQ(doc["same_regime"]["latency"]["benchmarks"], 1);
  EXPECT_NEAR(doc["same_regime"]["latency"]["median_abs_delta_pct"].get<double>(), 10.0, 1e-9);
  EXPECT_EQ(doc["same_regime"]["latency"]["without_common_regime"], 2);
  EXPECT_EQ(doc["same_regime"]["throughput"]["benchmarks"], 1);
  EXPECT_EQ(doc["same_regime"]["throughput"]["without_common_regime"], 0);
  // The reports' estimates are still what the first lines compare: 22400 against 9000.
  EXPECT_NEAR(doc["latency"]["p90_abs_delta_pct"].get<double>(), 300.0, 1e-9);

  // Regime 1 measured 3 times by A and 6 by B: both regimes qualify, and the one with more
  // repetitions on the poorer side wins only when it has more; here 3 against 3, so the lower
  // round trip (regime 0) is compared.
  tcp[1]["repetitions"] = 6;
  doc = json::parse(
      run_compare({"--same-answer", a, dir.write("b2.json", b.dump()), "--format=json"}).out);
  EXPECT_NEAR(doc["same_regime"]["latency"]["median_abs_delta_pct"].get<double>(), 10.0, 1e-9);
  // With A's regime 1 at 4 repetitions, regime 1 has more on the poorer side (4 against 3):
  // 30000 against 36000, -16.67 %.
  json a4 = json::parse(std::ifstream(a));
  a4["estimates"]["tcp/latency/64/cross"]["by_regime"][1]["repetitions"] = 4;
  doc = json::parse(run_compare({"--same-answer", dir.write("a4.json", a4.dump()),
                                 dir.write("b3.json", b.dump()), "--format=json"})
                        .out);
  EXPECT_NEAR(doc["same_regime"]["latency"]["median_abs_delta_pct"].get<double>(),
              100.0 * (1.0 - 30000.0 / 36000.0), 1e-9);
  // Normalised latencies are not in ns, as the estimates are: no same-regime figures.
  doc = json::parse(run_compare({"--same-answer", a, fixture("regimes_b.json"), "--normalise=line",
                                 "--format=json"})
                        .out);
  EXPECT_FALSE(doc.contains("same_regime"));
}

TEST(SameAnswerEstimates, ABenchmarkWithNoCommonStateIsComparedInMultiplesOfTheFloorItWaitsOn) {
  scratch_dir dir;
  // --same-answer's same_regime.latency_state_or_floor for two reports.
  int written = 0;
  const auto state_or_floor = [&](const json& ra, const json& rb) {
    const std::string n = std::to_string(++written);
    const run_result r = run_compare({"--same-answer", dir.write("a" + n + ".json", ra.dump()),
                                      dir.write("b" + n + ".json", rb.dump()), "--format=json"});
    EXPECT_EQ(r.status, 0) << r.err;
    return json::parse(r.out)["same_regime"]["latency_state_or_floor"];
  };
  json a = json::parse(std::ifstream(fixture("regimes_a.json")));
  json b = json::parse(std::ifstream(fixture("regimes_b.json")));
  // As the fixtures are, no latency benchmark has a state both measured, and neither report says
  // which receivers spin: none is compared by the floors.
  json m = state_or_floor(a, b);
  EXPECT_EQ(m["benchmarks"], 0);
  EXPECT_EQ(m["in_one_state"], 0);
  EXPECT_EQ(m["by_floor"], 0);
  EXPECT_EQ(m["without_either"], 3);

  // Both reports say that no receiver spins: each is compared in multiples of the wake-up round
  // trip beside its repetitions. pipe: A 9000-11000 over 5000, B 36000-44000 over 20000, both a
  // median of 2.0: 0 %. unix_stream: A 6000 over 5000 (its repetition without floors left out),
  // 1.2; B 24000 over a wake-up of 16000 here, 1.5: +25 %. tcp: B has no floors, left out.
  const auto describe = [](json& r, bool unix_stream_spins) {
    r["context"]["ipcbench"]["mechanisms"] =
        json::array({{{"id", "pipe"}, {"spins", false}},
                     {{"id", "unix_stream"}, {"spins", unix_stream_spins}},
                     {{"id", "tcp"}, {"spins", false}}});
  };
  for (json& entry : b["benchmarks"])
    if (entry["name"] == "unix_stream/latency/64/cross")
      entry["floors"]["wakeup_rtt_p50_ns"] = 16000.0;
  describe(a, false);
  describe(b, false);
  const run_result r =
      run_compare({"--same-answer", dir.write("a.json", a.dump()), dir.write("b.json", b.dump())});
  EXPECT_EQ(r.status, 0) << r.err;
  const char* line =
      "latency p50 |delta| state by state, else in multiples of the floor the mechanism waits on "
      "(the cache-line round trip for a receiver that spins, the wake-up round trip for one that "
      "sleeps; each measured beside its repetition): 2 benchmarks, median 12.50 %, 90th "
      "percentile 25.00 % (0 in one state, 2 by the floors); 1 without either\n";
  EXPECT_NE(r.out.find(line), std::string::npos) << "no \"" << line << "\" in:\n" << r.out;

  // A unix_stream that spins is stated in cache-line round trips: A 6000 over 125, 48; B 24000
  // over 500, 48: 0 %.
  describe(a, true);
  describe(b, true);
  m = state_or_floor(a, b);
  EXPECT_EQ(m["by_floor"], 2);
  EXPECT_NEAR(m["p90_abs_delta_pct"].get<double>(), 0.0, 1e-9);

  // Reports that disagree on whether it spins have no floor in common for it.
  describe(b, false);
  m = state_or_floor(a, b);
  EXPECT_EQ(m["by_floor"], 1);
  EXPECT_EQ(m["without_either"], 2);

  // A benchmark compared in a common state is counted there, not by the floors: B's pipe also
  // measured in regime 0, at 10500 against A's 10000 (+5 %).
  b["estimates"]["pipe/latency/64/cross"]["by_regime"] =
      json::array({{{"regime", 0}, {"value", 10500.0}, {"repetitions", 1}},
                   {{"regime", 1}, {"value", 40000.0}, {"repetitions", 6}}});
  m = state_or_floor(a, b);
  EXPECT_EQ(m["in_one_state"], 1);
  EXPECT_EQ(m["by_floor"], 0);
  EXPECT_NEAR(m["median_abs_delta_pct"].get<double>(), 5.0, 1e-9);
}

TEST(SameAnswerEstimates, LatencyIsAlsoComparedAtOneFloorForBoth) {
  scratch_dir dir;
  json a = json::parse(std::ifstream(fixture("regimes_a.json")));
  json b = json::parse(std::ifstream(fixture("regimes_b.json")));
  const auto compare = [&](const json& ra, const json& rb) {
    static int written = 0;
    const std::string n = std::to_string(++written);
    const run_result r = run_compare({"--same-answer", dir.write("a" + n + ".json", ra.dump()),
                                      dir.write("b" + n + ".json", rb.dump()), "--format=json"});
    EXPECT_EQ(r.status, 0) << r.err;
    return json::parse(r.out);
  };
  // Neither report adjusted a latency to its floor: no such figures.
  EXPECT_FALSE(compare(a, b).contains("latency_at_common_floor"));

  // A took pipe and unix_stream to its median wake-up floor of 8000 ns with slope 0.5, B to
  // 12500 ns with slope 1: both go on to sqrt(8000 x 12500) = 10000 ns. pipe: A 10000 x
  // (10000 / 8000)^0.5, B 40000 x 10000 / 12500 = 32000; unix_stream: A 6000 x 1.25^0.5, B
  // 24000 x 0.8. Both 3.2 / 1.25^0.5 - 1 = +186.22 %. tcp, adjusted in neither, as stated:
  // 22400 / 9000 - 1 = +148.89 %.
  for (const char* id : {"pipe/latency/64/cross", "unix_stream/latency/64/cross"}) {
    a["estimates"][id]["adjusted"] = {
        {"floor", "wakeup_rtt_p50_ns"}, {"slope", 0.5}, {"to_ns", 8000.0}, {"raw_value", 1.0}};
    b["estimates"][id]["adjusted"] = {
        {"floor", "wakeup_rtt_p50_ns"}, {"slope", 1.0}, {"to_ns", 12500.0}, {"raw_value", 1.0}};
  }
  const double taken = 100.0 * (3.2 / std::sqrt(1.25) - 1.0);
  json c = compare(a, b)["latency_at_common_floor"];
  EXPECT_EQ(c["benchmarks"], 3);
  EXPECT_EQ(c["taken"], 2);
  EXPECT_EQ(c["as_stated"], 1);
  EXPECT_NEAR(c["median_abs_delta_pct"].get<double>(), taken, 1e-9);
  EXPECT_NEAR(c["p90_abs_delta_pct"].get<double>(), taken, 1e-9);
  EXPECT_EQ(c["floors"], json::array({{{"floor", "wakeup_rtt_p50_ns"},
                                       {"a_ns", 8000.0},
                                       {"b_ns", 12500.0},
                                       {"common_ns", 10000.0}}}));
  // The reports' own values are still what the first figures compare.
  EXPECT_NEAR(compare(a, b)["latency"]["p90_abs_delta_pct"].get<double>(), 300.0, 1e-9);
  const run_result text =
      run_compare({"--same-answer", dir.write("a.json", a.dump()), dir.write("b.json", b.dump())});
  const std::string line =
      "latency p50 |delta| at a common floor (each run's adjusted estimates taken from its "
      "own median floor to the two runs' geometric mean, with its own fitted slope): 3 "
      "benchmarks, median 186.22 %, 90th percentile 186.22 % (2 taken to it, 1 as stated; "
      "wake-up A 8000 ns, B 12500 ns, common 10000 ns)\n";
  EXPECT_NE(text.out.find(line), std::string::npos) << "no \"" << line << "\" in:\n" << text.out;

  // A benchmark the two runs took to different floors is compared as stated: unix_stream 300 %.
  b["estimates"]["unix_stream/latency/64/cross"]["adjusted"]["floor"] = "cache_line_rtt_p50_ns";
  c = compare(a, b)["latency_at_common_floor"];
  EXPECT_EQ(c["taken"], 1);
  EXPECT_EQ(c["as_stated"], 2);
  EXPECT_NEAR(c["p90_abs_delta_pct"].get<double>(), 300.0, 1e-9);

  // An adjustment without its floor is no report of ours: one line, exit 2.
  b["estimates"]["pipe/latency/64/cross"]["adjusted"].erase("to_ns");
  const std::string bad = dir.write("bad.json", b.dump());
  expect_bad_input(run_compare({"--same-answer", fixture("regimes_a.json"), bad}),
                   "ipcbench-compare: '" + bad + "' is not a benchmark report: " +
                       "estimates['pipe/latency/64/cross'].adjusted lacks its floor, a slope >= 0 "
                       "or a to_ns > 0");
}

TEST(SameAnswerEstimates, EachRankingIsAlsoComparedInTheStateBothRunsValuedMostOf) {
  scratch_dir dir;
  // A: regime 0 (125 ns) holds pipe 10000 [9000, 11000], unix_stream 6000 [5700, 6600] and tcp
  // 9000 (a point); regime 1 (500 ns) tcp 36000.
  json a = json::parse(std::ifstream(fixture("regimes_a.json")));
  a["estimates"]["pipe/latency/64/cross"]["by_regime"][0]["interval"] = {9000.0, 11000.0};
  a["estimates"]["unix_stream/latency/64/cross"]["by_regime"][0]["interval"] = {5700.0, 6600.0};
  // B: regime 0 pipe 10500 [10000, 11000], unix_stream 9950 and tcp 9900 (points); regime 1
  // pipe, unix_stream and tcp, but A has only tcp there.
  json b = json::parse(std::ifstream(fixture("regimes_b.json")));
  json& e = b["estimates"];
  e["pipe/latency/64/cross"]["by_regime"].push_back(
      {{"regime", 0}, {"value", 10500.0}, {"repetitions", 5}, {"interval", {10000.0, 11000.0}}});
  e["unix_stream/latency/64/cross"]["by_regime"].push_back(
      {{"regime", 0}, {"value", 9950.0}, {"repetitions", 1}, {"interval", nullptr}});
  e["tcp/latency/64/cross"]["by_regime"] =
      json::array({{{"regime", 0}, {"value", 9900.0}, {"repetitions", 3}},
                   {{"regime", 1}, {"value", 30000.0}, {"repetitions", 1}}});
  const std::string pa = dir.write("a.json", a.dump()), pb = dir.write("b.json", b.dump());
  const run_result r = run_compare({"--same-answer", pa, pb});
  EXPECT_EQ(r.status, 0) << r.err;
  // Regime 0 holds all three in both (regime 1 only tcp). Values: A unix < tcp < pipe, B tcp <
  // unix < pipe: one pair of three reversed. As declared: unix before pipe in both; pipe and tcp
  // tied in A (9000 is in pipe's interval), ordered in B; unix and tcp ordered opposite ways.
  const std::string line =
      "latency p50 ranking at 64 B (cross), state by state: in the host state both runs valued "
      "most of them in (cache line A 125 ns, B 125 ns; 1 with an interval in both): Kendall "
      "tau-b 0.333 over 3 of 3 mechanisms; 0.000 as the reports declare them (intervals that "
      "overlap: tied); of 3 pairs, both reports order 1 the same way and 1 the opposite ways, "
      "one ties 1 the other orders (A ties 1 of them, B 0), both tie 0; the intervals a median "
      "17.50 % of their values wide in A, 9.52 % in B; winner A unix_stream, B tcp: differ\n";
  EXPECT_NE(r.out.find(line), std::string::npos) << r.out;
  // The reports' own answers (regime 0 in A, regime 1 in B) are still what the first ranking
  // line compares: A 6000, 9000, 10000 against B 24000, 22400, 40000.
  EXPECT_NE(r.out.find("latency p50 ranking at 64 B (cross): Kendall tau-b 0.333 over 3 "
                       "mechanisms"),
            std::string::npos)
      << r.out;
  // Each benchmark's delta is in the state with most repetitions on its poorer side: all three
  // in regime 0 (pipe +5 %, unix_stream +65.83 %, tcp +10 %).
  json doc = json::parse(run_compare({"--same-answer", pa, pb, "--format=json"}).out);
  EXPECT_EQ(doc["same_regime"]["latency"]["benchmarks"], 3);
  EXPECT_EQ(doc["same_regime"]["latency"]["without_common_regime"], 0);
  EXPECT_NEAR(doc["same_regime"]["latency"]["median_abs_delta_pct"].get<double>(), 10.0, 1e-9);
  ASSERT_EQ(doc["same_regime"]["rankings"].size(), 1u);
  const json& s = doc["same_regime"]["rankings"][0];
  EXPECT_EQ(s["metric"], "rtt_p50_ns");
  EXPECT_EQ(s["message_size"], 64);
  EXPECT_EQ(s["n"], 3);
  EXPECT_EQ(s["of"], 3);
  EXPECT_EQ(s["with_interval"], 1);
  EXPECT_EQ(s["regime"], json({{"a", 0}, {"b", 0}}));
  EXPECT_EQ(s["cache_line_rtt_p50_ns"], json({{"a", 125.0}, {"b", 125.0}}));
  EXPECT_NEAR(s["tau_b"].get<double>(), 1.0 / 3, 1e-9);
  EXPECT_NEAR(s["tau_declared"].get<double>(), 0.0, 1e-9);
  EXPECT_EQ(s["declared_pairs"], json({{"same_order", 1},
                                       {"opposite_order", 1},
                                       {"one_tied", 1},
                                       {"tied_by_a_only", 1},
                                       {"tied_by_b_only", 0},
                                       {"both_tied", 0}}));
  EXPECT_NEAR(s["interval_width_pct"]["a"].get<double>(), 17.5, 1e-9);
  EXPECT_NEAR(s["interval_width_pct"]["b"].get<double>(), 100.0 / 10.5, 1e-9);
  EXPECT_EQ(s["winner_a"], "unix_stream");
  EXPECT_EQ(s["winner_b"], "tcp");
  EXPECT_EQ(s["winners_agree"], false);

  // With A's tcp, pipe and unix_stream also in regime 1, and B's there, regime 1 holds as many
  // (3) and more with an interval in both (B's pipe and unix_stream have theirs there): it is the
  // one compared.
  a["estimates"]["pipe/latency/64/cross"]["by_regime"].push_back(
      {{"regime", 1}, {"value", 41000.0}, {"repetitions", 5}, {"interval", {39000.0, 43000.0}}});
  a["estimates"]["unix_stream/latency/64/cross"]["by_regime"].push_back(
      {{"regime", 1}, {"value", 25000.0}, {"repetitions", 5}, {"interval", {24000.0, 26000.0}}});
  e["pipe/latency/64/cross"]["by_regime"][0]["interval"] = {38000.0, 42000.0};
  e["unix_stream/latency/64/cross"]["by_regime"][0]["interval"] = {22800.0, 26400.0};
  doc = json::parse(run_compare({"--same-answer", dir.write("a2.json", a.dump()),
                                 dir.write("b2.json", b.dump()), "--format=json"})
                        .out);
  ASSERT_EQ(doc["same_regime"]["rankings"].size(), 1u);
  EXPECT_EQ(doc["same_regime"]["rankings"][0]["regime"], json({{"a", 1}, {"b", 1}}));
  EXPECT_EQ(doc["same_regime"]["rankings"][0]["with_interval"], 2);
  EXPECT_EQ(doc["same_regime"]["rankings"][0]["winner_a"], "unix_stream");
}

TEST(SameAnswerEstimates, BenchmarksWithAnIntervalInBothAreComparedApart) {
  scratch_dir dir;
  const auto compare = [&](const json& rb, const char* format) {
    static int written = 0;
    const std::string n = std::to_string(++written);
    const run_result r = run_compare({"--same-answer", fixture("regimes_a.json"),
                                      dir.write("b" + n + ".json", rb.dump()), format});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  };
  json b = json::parse(std::ifstream(fixture("regimes_b.json")));
  // As the fixtures stand: pipe (A 10000 [9000, 11000], B 40000 [36000, 44000]) and unix_stream
  // (A 6000 [5700, 6600], B 24000 [22800, 26400]) have an interval in both, 300 % apart, apart;
  // widths 20, 20, 15 and 15 %. tcp (no interval in A, +148.89 %) and the throughput (none in B,
  // 0 %) are the rest.
  json doc = json::parse(compare(b, "--format=json"))["by_interval"];
  EXPECT_EQ(doc["latency"]["with_interval"]["benchmarks"], 2);
  EXPECT_EQ(doc["latency"]["with_interval"]["median_abs_delta_pct"], 300.0);
  EXPECT_EQ(doc["latency"]["median_interval_width_pct"], 17.5);
  EXPECT_EQ(doc["latency"]["overlapping"], json({{"benchmarks", 0}, {"share", 0.0}}));
  EXPECT_EQ(doc["latency"]["inside_the_other"], json({{"values", 0}, {"of", 4}, {"share", 0.0}}));
  EXPECT_EQ(doc["latency"]["without"]["benchmarks"], 1);
  EXPECT_NEAR(doc["latency"]["without"]["median_abs_delta_pct"].get<double>(), 148.888888888889,
              1e-9);
  EXPECT_EQ(doc["throughput"]["with_interval"]["benchmarks"], 0);
  EXPECT_TRUE(doc["throughput"]["median_interval_width_pct"].is_null());
  EXPECT_TRUE(doc["throughput"]["overlapping"]["share"].is_null());
  EXPECT_EQ(doc["throughput"]["without"]["median_abs_delta_pct"], 0.0);

  // B's pipe 10500 [9800, 11500]: 5 % off, the intervals overlap, and each value lies inside
  // the other's interval. B's unix_stream 6800 [6650, 7000]: 13.33 % off, apart, neither inside.
  // Widths 20, 16.19, 15 and 5.15 %: median 15.60 %.
  b["estimates"]["pipe/latency/64/cross"]["value"] = 10500.0;
  b["estimates"]["pipe/latency/64/cross"]["interval"] = {9800.0, 11500.0};
  b["estimates"]["unix_stream/latency/64/cross"]["value"] = 6800.0;
  b["estimates"]["unix_stream/latency/64/cross"]["interval"] = {6650.0, 7000.0};
  doc = json::parse(compare(b, "--format=json"))["by_interval"]["latency"];
  EXPECT_EQ(doc["overlapping"], json({{"benchmarks", 1}, {"share", 0.5}}));
  EXPECT_EQ(doc["inside_the_other"], json({{"values", 2}, {"of", 4}, {"share", 0.5}}));
  EXPECT_NEAR(doc["median_interval_width_pct"].get<double>(), (15.0 + 1700.0 / 105.0) / 2.0, 1e-9);
  const std::string text = compare(b, "--format=table");
  for (const char* line :
       {"latency p50 |delta| where both reports state an interval of the value "
        "(estimates.interval): 2 benchmarks, median 9.17 %, 90th percentile 13.33 %, the "
        "intervals a median 15.60 % of their values wide; the two intervals overlap at 1 of 2 "
        "(50.00 %), and a value lies inside the other report's interval at 2 of 4 (50.00 %; two "
        "runs the host did not move between: about 98 % and 75 %); where either states none: 1 "
        "benchmark, median 148.89 %, 90th percentile 148.89 %\n",
        "throughput |delta| where both reports state an interval of the value "
        "(estimates.interval): 0 benchmarks; where either states none: 1 benchmark, median "
        "0.00 %, 90th percentile 0.00 %\n"})
    EXPECT_NE(text.find(line), std::string::npos) << "no \"" << line << "\" in:\n" << text;
}

TEST(SameAnswerEstimates, TheReportsClaimsAreComparedPlaceByPlace) {
  scratch_dir dir;
  // One comparison decided with an interval in `regime`; none (a rank test) without one.
  const auto row = [](const char* where, const char* verdict, std::optional<int> regime) {
    json against = json::array();
    if (regime)
      against.push_back({{"interval", {1.1, 1.3}}, {"regime", *regime}});
    else
      against.push_back({{"interval", nullptr}, {"regime", 0}});
    return json{{"where", where}, {"verdict", verdict}, {"against", against}};
  };
  json a = json::parse(std::ifstream(fixture("regimes_a.json")));
  json b = json::parse(std::ifstream(fixture("regimes_b.json")));
  // Both fixtures' regimes: 0 at a cache line of 125 ns, 1 at 500 ns.
  a["claims"] = {
      {{"id", "shm_fastest"},
       {"rows",
        {row("latency 64 B", "holds", 0), row("latency 4096 B", "holds", 0),
         row("latency 65536 B", "refuted", 1), row("throughput 64 B", "tie", 0)}}},
      {{"id", "fifo_as_pipe"}, {"rows", {{{"where", "latency 64 B"}, {"verdict", "holds"}}}}}};
  b["claims"] = {
      {{"id", "shm_fastest"},
       {"rows",
        {row("latency 1 B", "holds", 0), row("latency 64 B", "holds", 1),
         row("latency 4096 B", "refuted", 1), row("latency 65536 B", "holds", 1),
         row("throughput 64 B", "untested", std::nullopt)}}},
      {{"id", "fifo_as_pipe"}, {"rows", {{{"where", "latency 64 B"}, {"verdict", "refuted"}}}}}};
  const std::string pa = dir.write("a.json", a.dump()), pb = dir.write("b.json", b.dump());
  // shm_fastest: 4 places in both (latency 1 B only in B); the same at 64 B; opposite at 4096 B
  // (A decided in the fast state, B in the slow one) and at 65536 B (both in the slow state); a
  // tie against untested at throughput 64 B. fifo_as_pipe: opposite, in no one state.
  const run_result r = run_compare({"--same-answer", pa, pb});
  EXPECT_EQ(r.status, 0) << r.err;
  for (const char* line :
       {"\nclaim shm_fastest (the reports' claims): 4 places judged in both, the same verdict at "
        "1, opposite (holds in one, refuted in the other) at 2 (1 of them decided in different "
        "states of the host), a tie or untested in one at 1\n",
        "\nclaim fifo_as_pipe (the reports' claims): 1 place judged in both, the same verdict at "
        "0, opposite (holds in one, refuted in the other) at 1 (0 of them decided in different "
        "states of the host), a tie or untested in one at 0\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << "no \"" << line << "\" in:\n" << r.out;
  const json doc = json::parse(run_compare({"--same-answer", pa, pb, "--format=json"}).out);
  EXPECT_EQ(doc["claims"][0], json({{"id", "shm_fastest"},
                                    {"places", 4},
                                    {"same", 1},
                                    {"opposite", 2},
                                    {"opposite_in_different_states", 1},
                                    {"otherwise", 1}}));
  EXPECT_EQ(doc["claims"].size(), 2u);
  // A report without claims (an older one): no claim lines, an empty list.
  const run_result none = run_compare({"--same-answer", fixture("regimes_a.json"), pb});
  EXPECT_EQ(none.out.find("claim "), std::string::npos) << none.out;
  EXPECT_EQ(
      json::parse(run_compare({"--same-answer", fixture("regimes_a.json"), pb, "--format=json"})
                      .out)["claims"],
      json::array());
  // Claims that are not a list: bad input, one line, exit 2.
  a["claims"] = "holds";
  const std::string bad = dir.write("bad.json", a.dump());
  const run_result broken = run_compare({"--same-answer", bad, pb});
  EXPECT_EQ(broken.status, 2);
  EXPECT_NE(broken.err.find("is not a benchmark report: 'claims' is not an array"),
            std::string::npos)
      << broken.err;
}

TEST(SameAnswerEstimates, MediansWhenOneReportHasNone) {
  scratch_dir dir;
  json b = json::parse(std::ifstream(fixture("regimes_b.json")));
  b.erase("estimates");
  const std::string a = fixture("regimes_a.json"), bare = dir.write("b.json", b.dump());
  const run_result r = run_compare({"--same-answer", a, bare});
  EXPECT_EQ(r.status, 0) << r.err;
  // Medians: pipe 40000 / 10000, unix_stream 24000 / 6150 (+290.24 %), tcp 22400 / 22050
  // (+1.59 %); ranks A (unix_stream, pipe, tcp), B (tcp, unix_stream, pipe): tau-b -1/3.
  for (const char* line :
       {"\nvalues compared: the median over each report's repetitions (B has no estimates)\n",
        "latency p50 |delta| between A and B: 3 benchmarks, median 290.24 %, 90th percentile "
        "300.00 %\n",
        "throughput |delta| between A and B: 1 benchmark, median 1.00 %, 90th percentile 1.00 %\n",
        "latency p50 ranking at 64 B (cross): Kendall tau-b -0.333 over 3 mechanisms\n",
        // A still explains its spread; B, without estimates, says nothing of it.
        "in A: 2 of 4 benchmarks (50.00 %); the report explains 1 of them",
        "in B: 2 of 4 benchmarks (50.00 %)\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << "no \"" << line << "\" in:\n" << r.out;
  const json doc = json::parse(run_compare({"--same-answer", bare, a, "--format=json"}).out);
  EXPECT_EQ(doc["values"], "medians");
  EXPECT_FALSE(doc.contains("by_interval"));
  EXPECT_FALSE(doc["spread"]["a"].contains("explained"));
  EXPECT_TRUE(doc["spread"]["b"].contains("explained"));
  EXPECT_NE(run_compare({"--same-answer", bare, a}).out.find("(A has no estimates)"),
            std::string::npos);
}

TEST_F(SameAnswer, BadInputIsOneLineAndExitTwo) {
  const std::string a = write("a.json", make_report(side_a()));
  const std::string missing = dir_.file("nope.json");
  expect_bad_input(run_compare({"--same-answer", a, missing}),
                   "ipcbench-compare: cannot read " + quoted(missing) + ": No such file");
  expect_bad_input(run_compare({"--same-answer", fixture("truncated.json"), a}),
                   "ipcbench-compare: '" + fixture("truncated.json") + "' is not valid JSON: ");
  expect_bad_input(run_compare({"--same-answer", a, fixture("not_a_report.json")}),
                   "ipcbench-compare: '" + fixture("not_a_report.json") +
                       "' is not a benchmark report: no 'benchmarks' array");
  expect_bad_input(
      run_compare({"--same-answer", fixture("baseline.json"), fixture("unrelated.json")}),
      "ipcbench-compare: no common benchmarks between");
  // A compressed report that does not decompress is named as such, with the tool's complaint.
  const std::string xz = dir_.write("r.json.xz", std::string("\xFD\x37\x7A\x58\x5A\0\0\x04", 8));
  const std::string gz = dir_.write("r.json.gz", std::string("\x1F\x8B\x08\0", 4));
  expect_bad_input(run_compare({"--same-answer", xz, a}),
                   "ipcbench-compare: " + quoted(xz) +
                       " is xz-compressed and xz -dc could not "
                       "read it: xz: ");
  expect_bad_input(
      run_compare({gz, a}),
      "ipcbench-compare: " + quoted(gz) + " is gzip-compressed and gzip -dc could not read it: ");
  expect_bad_input(run_compare({"--same-answer", a}),
                   "ipcbench-compare: --same-answer takes two reports");
  expect_bad_input(run_compare({"--same-answer", a, a, "--paired"}),
                   "ipcbench-compare: --same-answer applies no gate and does not take --paired");
  expect_bad_input(run_compare({"--same-answer", a, a, "--format", "markdown"}),
                   "ipcbench-compare: --same-answer prints text or JSON");
}

TEST_F(SameAnswer, ReadsXzAndGzipReports) {
  for (const char* tool : {"xz", "gzip"})
    if (std::system((std::string("command -v ") + tool + " >/dev/null").c_str()) != 0)
      GTEST_SKIP() << "no " << tool;
  const std::string a = write("a.json", make_report(side_a()));
  const std::string b = write("b.json", make_report(side_b()));
  const std::string xz = dir_.file("a.json.xz"), gz = dir_.file("b.json.gz");
  ASSERT_EQ(std::system(("xz -c " + quote(a) + " >" + quote(xz)).c_str()), 0);
  ASSERT_EQ(std::system(("gzip -c " + quote(b) + " >" + quote(gz)).c_str()), 0);
  const run_result plain = run_compare({"--same-answer", a, b, "--format", "json"});
  const run_result packed = run_compare({"--same-answer", xz, gz, "--format", "json"});
  ASSERT_EQ(packed.status, 0) << packed.err;
  json expected = json::parse(plain.out), got = json::parse(packed.out);
  EXPECT_EQ(got["a"], xz);
  EXPECT_EQ(got["b"], gz);
  expected.erase("a"), expected.erase("b"), got.erase("a"), got.erase("b");
  EXPECT_EQ(got, expected);
  // The gate reads them too, in folders as well.
  const std::string side = dir_.file("runs");
  std::filesystem::create_directory(side);
  std::filesystem::copy_file(xz, side + "/r.json.xz");
  EXPECT_EQ(run_compare({"--baseline", side, "--contender", a, "--allow-untested"}).status, 0);
  // Without the tool: one line that names it.
  const std::string empty = dir_.file("empty");
  std::filesystem::create_directory(empty);
  expect_bad_input(
      run_command({"env", "PATH=" + empty, IPCBENCH_COMPARE_BIN, "--same-answer", xz, a}),
      "ipcbench-compare: " + quoted(xz) +
          " is xz-compressed and there is no xz program to decompress it");
}

}  // namespace ipcbench::compare
