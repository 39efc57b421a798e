// One real report end to end: the bench program writes a tiny quick run, ipcbench-compare reads
// it (against itself: no regression, exit 0), and plots/render.py draws it.
#include <gtest/gtest.h>

#include <boost/process.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/schema.hpp"
#include "test_env.hpp"

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace ipcbench {
namespace {

// Runs `program args...` with stdout and stderr into files under `dir`; returns the exit code.
int run(const std::string& program, const std::vector<std::string>& args, const fs::path& dir,
        const std::string& tag) {
  return bp::system(program, bp::args(args), (bp::std_in < bp::null),
                    (bp::std_out > dir / (tag + ".out")), (bp::std_err > dir / (tag + ".err")));
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool has_matplotlib() {
  return bp::system(IPCBENCH_PYTHON, "-c", "import matplotlib", (bp::std_in < bp::null),
                    (bp::std_out > bp::null), (bp::std_err > bp::null)) == 0;
}

TEST(ReportEndToEnd, BenchReportFeedsCompareAndPlots) {
  const fs::path dir = test::scratch_dir() / "e2e";
  fs::create_directories(dir);
  const fs::path report = dir / "report.json";
  ASSERT_EQ(run(IPCBENCH_BIN,
                {"--quick", "--benchmark_filter=^(null|pipe)/(latency|throughput)/64/",
                 "--target-time=0.005", "--benchmark_repetitions=2",
                 "--benchmark_out=" + report.string()},
                dir, "bench"),
            0)
      << slurp(dir / "bench.err");

  // The report has both patterns, every repetition, and the schema's fields.
  std::ifstream in(report);
  const auto doc = nlohmann::json::parse(in);
  ASSERT_TRUE(doc.at("context").contains(schema::kContextKey));
  // A quick run asks its reference state for a twentieth of the run, and says so.
  const auto& regimes = doc.at("context").at(schema::kContextKey).at("regimes");
  if (regimes.is_object()) {
    EXPECT_NE(regimes.at("method").get<std::string>().find("holds 5 % of the run (a quick run"),
              std::string::npos)
        << regimes.at("method");
  }
  int iterations = 0;
  for (const auto& e : doc.at("benchmarks")) {
    const auto name = schema::parse_name(e.at("run_name").get<std::string>());
    ASSERT_TRUE(name) << e.at("run_name");
    EXPECT_EQ(e.at(schema::field::kStatus), "ok") << e.dump();
    EXPECT_EQ(e.at(schema::field::kPattern), name->pattern);
    if (e.at("run_type") == "iteration") ++iterations;
  }
  EXPECT_EQ(iterations, 2 * 4);  // null and pipe, latency and throughput, 2 repetitions

  // Compared with itself: 2 repetitions a side cannot decide anything, so the gate refuses
  // (exit 2, saying what it needs); shown as untested, nothing to flag, exit 0, and JSON too.
  ASSERT_EQ(run(IPCBENCH_COMPARE_BIN, {report.string(), report.string()}, dir, "compare"), 2);
  EXPECT_NE(slurp(dir / "compare.err").find("cannot decide"), std::string::npos)
      << slurp(dir / "compare.err");
  ASSERT_EQ(run(IPCBENCH_COMPARE_BIN, {report.string(), report.string(), "--allow-untested"}, dir,
                "compare"),
            0)
      << slurp(dir / "compare.err");
  EXPECT_NE(slurp(dir / "compare.out").find("0 regressions"), std::string::npos)
      << slurp(dir / "compare.out");
  ASSERT_EQ(run(IPCBENCH_COMPARE_BIN,
                {report.string(), report.string(), "--format", "json", "--allow-untested"}, dir,
                "compare-json"),
            0)
      << slurp(dir / "compare-json.err");
  const auto verdicts = nlohmann::json::parse(slurp(dir / "compare-json.out"));
  EXPECT_FALSE(verdicts.at("results").empty());

  if (!has_matplotlib()) GTEST_SKIP() << IPCBENCH_PYTHON << " has no matplotlib";
  const fs::path out = dir / "plots";
  ASSERT_EQ(run(IPCBENCH_PYTHON,
                {std::string(IPCBENCH_SOURCE_DIR) + "/plots/render.py", report.string(), "--out",
                 out.string()},
                dir, "render"),
            0)
      << slurp(dir / "render.err");
  EXPECT_TRUE(fs::exists(out / "index.html"));
  EXPECT_TRUE(fs::exists(out / "latency-overview.svg"));
  EXPECT_TRUE(fs::exists(out / "throughput-overview.svg"));
  fs::remove_all(dir);
}

// The paced UDP benchmark in a real report: its entries carry the search's counters (or, when
// no rate kept under 0.1 % here, are skipped with the reason), and compare and the plots take
// the report as they take any other.
TEST(ReportEndToEnd, PacedUdpReportFeedsCompareAndPlots) {
  const fs::path dir = test::scratch_dir() / "e2e-paced";
  fs::create_directories(dir);
  const fs::path report = dir / "report.json";
  ASSERT_EQ(run(IPCBENCH_BIN,
                {"--quick", "--benchmark_filter=^(null|udp\\.paced)/throughput/64/",
                 "--target-time=0.005", "--benchmark_repetitions=1",
                 "--benchmark_out=" + report.string()},
                dir, "bench"),
            0)
      << slurp(dir / "bench.err");
  std::ifstream in(report);
  const auto doc = nlohmann::json::parse(in);
  int paced = 0;
  for (const auto& e : doc.at("benchmarks")) {
    if (e.at(schema::field::kId) != "udp.paced" || e.at("run_type") != "iteration") continue;
    ++paced;
    EXPECT_EQ(e.at(schema::field::kMechanism), "udp");
    EXPECT_EQ(e.at(schema::field::kVariant), "paced");
    if (e.at(schema::field::kStatus) == "skipped") {
      EXPECT_NE(e.at(schema::field::kReason).get<std::string>().find("no rate tried"),
                std::string::npos)
          << e.dump();
      continue;
    }
    ASSERT_EQ(e.at(schema::field::kStatus), "ok") << e.dump();
    EXPECT_GT(e.at(schema::counter::kTargetMessagesPerSecond).get<double>(), 0) << e.dump();
    EXPECT_GE(e.at(schema::counter::kRateTrials).get<double>(), 1) << e.dump();
    EXPECT_GT(e.at(schema::counter::kMessagesPerSecond).get<double>(), 0) << e.dump();
    EXPECT_TRUE(e.contains(schema::counter::kLossRate)) << e.dump();
  }
  EXPECT_EQ(paced, 1);
  bool listed = false;
  for (const auto& m : doc.at("context").at(schema::kContextKey).at("mechanisms"))
    if (m.at("id") == "udp.paced") listed = m.at("paced").get<bool>();
  EXPECT_TRUE(listed);

  ASSERT_EQ(run(IPCBENCH_COMPARE_BIN, {report.string(), report.string(), "--allow-untested"}, dir,
                "compare"),
            0)
      << slurp(dir / "compare.err") << slurp(dir / "compare.out");
  if (!has_matplotlib()) GTEST_SKIP() << IPCBENCH_PYTHON << " has no matplotlib";
  ASSERT_EQ(run(IPCBENCH_PYTHON,
                {std::string(IPCBENCH_SOURCE_DIR) + "/plots/render.py", report.string(), "--out",
                 (dir / "plots").string()},
                dir, "render"),
            0)
      << slurp(dir / "render.err");
  EXPECT_TRUE(fs::exists(dir / "plots" / "index.html"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ipcbench
