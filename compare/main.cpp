// ipcbench-compare: compares two benchmark reports and gates regressions.
// Exit status: 0 no regression, 1 at least one regression, 2 bad input or usage. Every error is
// one line on stderr; nothing escapes main as an exception.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "compare/gate.hpp"
#include "compare/output.hpp"
#include "compare/report.hpp"

namespace ipcbench::compare {
namespace {

constexpr std::string_view kProgram = "ipcbench-compare";

class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class output_format { table, markdown, json };

struct cli_options {
  std::vector<std::string> files;                   // BASELINE CONTENDER
  std::vector<std::string> baselines, contenders;   // --baseline ... --contender ...
  std::optional<std::uint64_t> repetitions_for;     // --repetitions-for FAMILY
  std::optional<std::string> repetitions_for_list;  // --repetitions-for-list FILE
  bool allow_mismatch = false;
  // --repetitions-as-samples: one ipcbench run a side is judged on its repetitions anyway.
  bool repetitions_as_samples = false;
  bool same_answer = false;  // --same-answer A B: agreement figures, no gate
  std::string gate_only;     // the first option given that only the gate uses
  output_format format = output_format::table;
  normalisation normalise = normalisation::none;  // --normalise wake|line
  gate_options gate;
  bool help = false;
};

std::string help_text() {
  std::string text =
      "Usage: ipcbench-compare BASELINE.json CONTENDER.json [options]\n"
      "       ipcbench-compare --baseline A.json [B.json|DIR ...] --contender C.json [...] "
      "[options]\n"
      "       ipcbench-compare --same-answer A.json B.json [--format table|json] "
      "[--normalise wake|line]\n"
      "\n"
      "Compares ipcbench reports (or plain Google Benchmark JSON files) benchmark by benchmark\n"
      "and gates regressions. A change counts only when it is significant AND larger than the\n"
      "metric's threshold on the ratio of medians. Significance controls the error over the\n"
      "whole family of metrics compared (Holm), so an A/A comparison exits 1 in at most alpha\n"
      "of runs whose samples are exchangeable. The samples are each run's median (several\n"
      "reports a side: separate runs, or the rounds of an A/B job; a DIR means its *.json\n"
      "files), so a change is judged against the spread between runs. Two separate ipcbench\n"
      "runs, one a side, are one sample a side and cannot be gated (exit 2: the host moves\n"
      "between runs, so one run's repetitions are not samples of the other's host); a report\n"
      "against itself, and plain Google Benchmark JSON, are judged on their repetitions\n"
      "(--repetitions-as-samples judges two runs' so). The gate family is the benchmarks at\n"
      "64 B, 64 KiB and 1 MiB (and notifications) whose processes fit the CPUs; the others are\n"
      "shown as \"not gated\" (--gate-all gates them). A comparison in which a\n"
      "gated metric cannot reach significance for want of repetitions is refused (exit 2) with\n"
      "the number each side needs. A benchmark that was ok in the baseline and failed, was\n"
      "skipped or is missing in the contender (in any run) fails the gate. Reports whose runs\n"
      "differ in idle-state mode, placement, process model, target time, sweep or cpuidle\n"
      "driver are refused. A report compressed with xz or gzip (a DIR's *.json.xz, *.json.gz)\n"
      "is read through xz -dc or gzip -dc.\n"
      "\n"
      "--same-answer compares two runs of one suite for reproducibility, without a gate: the\n"
      "median and 90th percentile of |delta| % of p50 latency and of throughput, Kendall's\n"
      "tau-b of the rankings by 64 B latency and 1 MiB throughput (also as the reports declare\n"
      "them: a pair whose intervals overlap is tied) and their winners, and the share of\n"
      "benchmarks whose repetitions spread over 1.5x (and, for a report with estimates, how\n"
      "many of those it explains by modes or regimes). The values are the\n"
      "reports' estimates where both have them, else the medians of the repetitions. It exits\n"
      "0, or 2 on bad input.\n"
      "\n"
      "Options:\n"
      "  --baseline F... / --contender F...  several reports (or folders) per side\n"
      "  --correction holm|none        error control over the family (default: holm)\n"
      "  --allow-mismatch              compare runs made under different conditions anyway\n"
      "  --same-answer A B             agreement figures of two runs of one suite (above)\n"
      "  --repetitions-for N           print the repetitions a side that a family of N metrics\n"
      "                                needs at --alpha (with --correction), then exit\n"
      "  --repetitions-for-list FILE   the same for the gate family of the benchmarks named in\n"
      "                                FILE (one name a line, as --benchmark_list_tests prints)\n"
      "  --paired                      the sides are the rounds of one A/B job, paired in file\n"
      "                                order: a metric whose pairs can reach its level is tested\n"
      "                                on the per-round ratios (Wilcoxon signed-rank)\n"
      "  --gate-all                    gate every benchmark, not only the default family\n"
      "  --allow-missing               a benchmark missing or skipped in the contender does not\n"
      "                                fail the gate (a deliberate removal); a failed one still "
      "does\n"
      "  --repetitions-as-samples      one ipcbench report a side: judge each report's\n"
      "                                repetitions as the samples, as if the two runs shared\n"
      "                                one host (a still machine); an A/A of two default runs on\n"
      "                                a VM then flags regressions far more often than alpha\n"
      "  --allow-untested              compare even when gated metrics cannot reach significance\n"
      "                                (their ratios shown as untested) instead of refusing\n"
      "  --format table|markdown|json  output format (default: table)\n"
      "  --normalise wake|line         compare latency metrics (rtt_*, one_way_*) as multiples\n"
      "                                of the floor measured beside each repetition: the\n"
      "                                wake-up round trip (floors.wakeup_rtt_p50_ns) or the\n"
      "                                cache-line round trip (floors.cache_line_rtt_p50_ns);\n"
      "                                repetitions without it are left out; throughput and\n"
      "                                CPU metrics are not normalised (gate and --same-answer)\n"
      "  --metrics M1,M2,...           metrics to compare (default: rtt_p50_ns,rtt_p99_ns,\n"
      "                                bytes_per_second; real_time,bytes_per_second for plain\n"
      "                                Google Benchmark entries)\n"
      "  --test mann-whitney|bootstrap significance test (default: mann-whitney, two-sided)\n"
      "  --alpha A                     family-wise significance level, 0 < A < 1 (default: 0.05)\n"
      "  --threshold METRIC=PCT        smallest change that counts for METRIC, in percent;\n"
      "                                repeatable, wins over --threshold-all\n"
      "  --threshold-all PCT           smallest change that counts for every metric\n"
      "  --fail-on-missing             the default now (kept for old scripts)\n"
      "  --resamples N                 bootstrap resamples (default: 10000)\n"
      "  --seed N                      bootstrap seed (default: fixed, output is deterministic)\n"
      "  -h, --help                    show this help\n"
      "\n"
      "Metrics (direction, default threshold):\n";
  for (const metric_spec& m : known_metrics()) {
    char line[128];
    std::snprintf(line, sizeof line, "  %-20s %-17s %g %%\n", std::string(m.name).c_str(),
                  m.better == direction::lower_is_better ? "lower is better" : "higher is better",
                  m.default_threshold * 100.0);
    text += line;
  }
  text +=
      "\n"
      "Exit status: 0 no regression, 1 a regression or a benchmark lost in the contender, 2\n"
      "bad input, usage, or a comparison whose samples cannot decide.\n";
  return text;
}

double parse_number(std::string_view text, std::string_view what) {
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw usage_error("bad " + std::string(what) + " '" + std::string(text) + "'");
  }
  return value;
}

std::uint64_t parse_count(std::string_view text, std::string_view what) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw usage_error("bad " + std::string(what) + " '" + std::string(text) + "'");
  }
  return value;
}

// "5" or "5%" -> 0.05
double parse_percent(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.back() == '%') digits.remove_suffix(1);
  const double pct = parse_number(digits, "threshold");
  if (!(pct >= 0.0) || pct > 1e6) {
    throw usage_error("bad threshold '" + std::string(text) + "' (a percentage >= 0)");
  }
  return pct / 100.0;
}

const metric_spec& metric_named(std::string_view name) {
  const metric_spec* spec = find_metric(name);
  if (!spec) {
    std::string known;
    for (const auto& m : known_metrics())
      known += (known.empty() ? "" : ", ") + std::string(m.name);
    throw usage_error("unknown metric '" + std::string(name) + "' (known: " + known + ")");
  }
  return *spec;
}

cli_options parse_args(int argc, char** argv) {
  cli_options opts;
  bool only_files = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_files || arg.empty() || arg[0] != '-' || arg == "-") {
      opts.files.push_back(arg);
      continue;
    }
    if (arg == "--baseline" || arg == "--contender") {
      auto& side = arg == "--baseline" ? opts.baselines : opts.contenders;
      while (i + 1 < argc && argv[i + 1][0] != '-') side.emplace_back(argv[++i]);
      if (side.empty()) throw usage_error(arg + " needs at least one report or folder");
      continue;
    }
    if (arg == "--allow-mismatch") {
      opts.allow_mismatch = true;
      continue;
    }
    if (arg == "--same-answer") {
      opts.same_answer = true;
      continue;
    }
    if (arg == "--") {
      only_files = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      opts.help = true;
      continue;
    }
    const bool gate_flag = arg == "--fail-on-missing" || arg == "--allow-missing" ||
                           arg == "--allow-untested" || arg == "--gate-all" || arg == "--paired" ||
                           arg == "--repetitions-as-samples";
    if (gate_flag && opts.gate_only.empty()) opts.gate_only = arg;
    if (arg == "--repetitions-as-samples") {
      opts.repetitions_as_samples = true;
      continue;
    }
    if (arg == "--fail-on-missing") continue;  // the default
    if (arg == "--allow-missing") {
      opts.gate.allow_missing = true;
      continue;
    }
    if (arg == "--allow-untested") {
      opts.gate.allow_untested = true;
      continue;
    }
    if (arg == "--gate-all") {
      opts.gate.gate_all = true;
      continue;
    }
    if (arg == "--paired") {
      opts.gate.paired = true;
      continue;
    }
    // Options with a value: "--name value" or "--name=value".
    std::string name = arg;
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    static const std::string_view kValued[] = {
        "--format", "--normalise",  "--metrics",         "--test",
        "--alpha",  "--threshold",  "--threshold-all",   "--resamples",
        "--seed",   "--correction", "--repetitions-for", "--repetitions-for-list"};
    if (std::find(std::begin(kValued), std::end(kValued), name) == std::end(kValued)) {
      throw usage_error("unknown option '" + name + "' (try --help)");
    }
    if (!value) {
      if (i + 1 >= argc) throw usage_error("option " + name + " needs a value");
      value = argv[++i];
    }
    const std::string& v = *value;
    if (name != "--format" && name != "--normalise" && opts.gate_only.empty())
      opts.gate_only = name;
    if (name == "--format") {
      if (v == "table") {
        opts.format = output_format::table;
      } else if (v == "markdown") {
        opts.format = output_format::markdown;
      } else if (v == "json") {
        opts.format = output_format::json;
      } else {
        throw usage_error("bad --format '" + v + "' (table, markdown or json)");
      }
    } else if (name == "--normalise") {
      const auto n = parse_normalisation(v);
      if (!n) throw usage_error("bad --normalise '" + v + "' (wake or line)");
      opts.normalise = *n;
    } else if (name == "--metrics") {
      opts.gate.metrics.clear();
      std::string_view rest = v;
      while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        if (!item.empty()) {
          const std::string metric(metric_named(item).name);
          if (std::find(opts.gate.metrics.begin(), opts.gate.metrics.end(), metric) ==
              opts.gate.metrics.end()) {
            opts.gate.metrics.push_back(metric);
          }
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      if (opts.gate.metrics.empty()) throw usage_error("--metrics needs at least one metric");
    } else if (name == "--test") {
      if (v == "mann-whitney") {
        opts.gate.test = test_kind::mann_whitney;
      } else if (v == "bootstrap") {
        opts.gate.test = test_kind::bootstrap;
      } else {
        throw usage_error("bad --test '" + v + "' (mann-whitney or bootstrap)");
      }
    } else if (name == "--alpha") {
      const double alpha = parse_number(v, "--alpha");
      if (!(alpha > 0.0 && alpha < 1.0)) {
        throw usage_error("bad --alpha '" + v + "' (between 0 and 1)");
      }
      opts.gate.alpha = alpha;
    } else if (name == "--threshold") {
      const auto eq = v.rfind('=');
      if (eq == std::string::npos) throw usage_error("bad --threshold '" + v + "' (METRIC=PCT)");
      const metric_spec& spec = metric_named(std::string_view(v).substr(0, eq));
      opts.gate.thresholds[std::string(spec.name)] = parse_percent(v.substr(eq + 1));
    } else if (name == "--threshold-all") {
      opts.gate.threshold_all = parse_percent(v);
    } else if (name == "--resamples") {
      const std::uint64_t n = parse_count(v, "--resamples");
      if (n == 0 || n > 10'000'000) throw usage_error("bad --resamples '" + v + "' (1..10000000)");
      opts.gate.resamples = static_cast<std::size_t>(n);
    } else if (name == "--seed") {
      opts.gate.seed = parse_count(v, "--seed");
    } else if (name == "--repetitions-for") {
      const std::uint64_t n = parse_count(v, "--repetitions-for");
      if (n == 0 || n > 1'000'000)
        throw usage_error("bad --repetitions-for '" + v + "' (1..1000000)");
      opts.repetitions_for = n;
    } else if (name == "--repetitions-for-list") {
      opts.repetitions_for_list = v;
    } else if (name == "--correction") {
      if (v == "holm") {
        opts.gate.family = correction::holm;
      } else if (v == "none") {
        opts.gate.family = correction::none;
      } else {
        throw usage_error("bad --correction '" + v + "' (holm or none)");
      }
    }
  }
  if (opts.help) return opts;
  if (opts.same_answer) {
    if (!opts.gate_only.empty())
      throw usage_error("--same-answer applies no gate and does not take " + opts.gate_only);
    if (!opts.baselines.empty() || !opts.contenders.empty() || opts.files.size() != 2)
      throw usage_error("--same-answer takes two reports: --same-answer A.json B.json");
    if (opts.format == output_format::markdown)
      throw usage_error("--same-answer prints text or JSON (--format table or json)");
    return opts;
  }
  if (opts.repetitions_for || opts.repetitions_for_list) return opts;
  if (!opts.baselines.empty() || !opts.contenders.empty()) {
    if (!opts.files.empty())
      throw usage_error(
          "give the reports either as BASELINE CONTENDER or with --baseline and "
          "--contender, not both");
    if (opts.baselines.empty() || opts.contenders.empty())
      throw usage_error("--baseline and --contender go together");
  } else if (opts.files.size() != 2) {
    throw usage_error(opts.files.size() < 2
                          ? "expected BASELINE.json and CONTENDER.json (try --help)"
                          : "too many arguments: expected BASELINE.json and CONTENDER.json");
  } else {
    opts.baselines = {opts.files[0]};
    opts.contenders = {opts.files[1]};
  }
  return opts;
}

// Whether two reports are two separate runs of the ipcbench bench program: both carry
// context.ipcbench, and they are not one run read twice (the same file, or a copy: the same
// context, date and load included). Plain Google Benchmark JSON is never: what its host did
// between its runs is not known here.
bool separate_runs(const report& a, const report& b) {
  const auto ipcbench = [](const report& r) {
    const auto it = r.context().find("ipcbench");
    return it != r.context().end() && it->is_object();
  };
  if (!ipcbench(a) || !ipcbench(b)) return false;
  std::error_code ec;
  if (std::filesystem::equivalent(a.path(), b.path(), ec)) return false;
  return a.context() != b.context();
}

// The reports of one side: files as given, folders as their *.json (and *.json.xz, *.json.gz)
// files in name order.
std::vector<report> load_side(const std::vector<std::string>& items, normalisation normalise) {
  std::vector<report> runs;
  for (const std::string& item : items) {
    std::error_code ec;
    if (std::filesystem::is_directory(item, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(item, ec)) {
        const std::string name = e.path().filename().string();
        if (name.ends_with(".json") || name.ends_with(".json.xz") || name.ends_with(".json.gz"))
          files.push_back(e.path().string());
      }
      if (files.empty())
        throw input_error("no *.json (or .json.xz, .json.gz) report in folder '" + item + "'");
      std::sort(files.begin(), files.end());
      for (const auto& f : files) runs.push_back(load_report(f, normalise));
    } else {
      runs.push_back(load_report(item, normalise));
    }
  }
  return runs;
}

// The metrics the default gate judges on a benchmark of this pattern.
std::size_t default_metric_count(const benchmark_info& info) {
  std::size_t n = 0;
  for (auto m : kDefaultMetrics) {
    const bool latency_only = latency_metric(m);
    const bool stream_only = m == "bytes_per_second";
    if (latency_only && info.pattern != "latency") continue;
    if (stream_only && info.pattern != "throughput") continue;
    ++n;
  }
  return n;
}

// The gate family's size for the benchmarks named in `path`, on the CPUs this process may use.
std::size_t family_of_list(const std::string& path, const gate_options& gate) {
  std::ifstream in(path);
  if (!in) throw input_error("cannot read '" + path + "'");
  cpu_set_t set;
  CPU_ZERO(&set);
  std::optional<std::size_t> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    cpus = static_cast<std::size_t>(CPU_COUNT(&set));
  std::size_t family = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto info = parse_name(line);
    if (!info) {
      family += gate.metrics.empty() ? std::size(kPlainDefaultMetrics) : gate.metrics.size();
      continue;
    }
    if (!gate.gate_all && !in_default_family(*info, cpus)) continue;
    family += gate.metrics.empty() ? default_metric_count(*info) : gate.metrics.size();
  }
  return family;
}

// --same-answer: the agreement figures of two reports of one suite, never a verdict.
int run_same_answer(const cli_options& opts) {
  const report a = load_report(opts.files[0], opts.normalise);
  const report b = load_report(opts.files[1], opts.normalise);
  const auto mismatches = condition_warnings(a, b);
  if (!mismatches.empty() && !opts.allow_mismatch)
    throw input_error(mismatches.front() + " (--allow-mismatch compares them anyway)");
  const same_answer_figures figures = same_answer(a, b);
  for (const auto& w : mismatches) std::cerr << kProgram << ": warning: " << w << '\n';
  for (const auto& w : condition_notes(a, b)) std::cerr << kProgram << ": warning: " << w << '\n';
  if (figures.regimes && !figures.regimes->warning.empty())
    std::cerr << kProgram << ": warning: " << figures.regimes->warning << '\n';
  if (opts.format == output_format::json) {
    std::cout << same_answer_json(figures).dump(2) << '\n';
  } else {
    std::cout << render_same_answer(figures);
  }
  std::cout.flush();
  if (!std::cout) throw std::runtime_error("cannot write to standard output");
  return 0;
}

int run(int argc, char** argv) {
  const cli_options opts = parse_args(argc, argv);
  if (opts.help) {
    std::cout << help_text();
    return 0;
  }
  if (opts.same_answer) return run_same_answer(opts);
  if (opts.repetitions_for) {
    std::cout << repetitions_for_family(*opts.repetitions_for, opts.gate) << '\n';
    return 0;
  }
  if (opts.repetitions_for_list) {
    std::cout << repetitions_for_family(family_of_list(*opts.repetitions_for_list, opts.gate),
                                        opts.gate)
              << '\n';
    return 0;
  }
  const std::vector<report> baseline_runs = load_side(opts.baselines, opts.normalise);
  const std::vector<report> contender_runs = load_side(opts.contenders, opts.normalise);
  if (opts.gate.paired && baseline_runs.size() != contender_runs.size())
    throw input_error(
        "--paired needs as many runs a side: " + std::to_string(baseline_runs.size()) +
        " baseline, " + std::to_string(contender_runs.size()) + " contender");
  const bool one_run_a_side = !opts.repetitions_as_samples && baseline_runs.size() == 1 &&
                              contender_runs.size() == 1 &&
                              separate_runs(baseline_runs.front(), contender_runs.front());
  // A side of one run beside a side of several is one median too: samples of one kind a side.
  const bool medians = one_run_a_side || baseline_runs.size() > 1 || contender_runs.size() > 1;
  const report baseline = merge_runs(baseline_runs, medians);
  const report contender = merge_runs(contender_runs, medians);
  if (!opts.allow_mismatch) {
    const auto mismatches = condition_warnings(baseline, contender);
    if (!mismatches.empty())
      throw input_error(mismatches.front() + " (--allow-mismatch compares them anyway)");
  }
  comparison result = compare_reports(baseline, contender, opts.gate);
  if (result.undecided.count > 0 && !opts.gate.allow_untested) {
    const std::string why =
        one_run_a_side
            ? "cannot decide: one ipcbench run a side is one sample a side (the host moves "
              "between runs, so one run's repetitions are not samples of the other's host); each "
              "side needs " +
                  std::to_string(result.undecided.needed) +
                  " runs (--baseline DIR --contender DIR), or gate a change in one job with "
                  "run_all.sh --ab REF (--repetitions-as-samples judges each run's repetitions "
                  "anyway, --allow-untested shows the ratios)"
            : undecided_message(result, medians);
    // A lost benchmark or a regression found among the metrics that could be tested is a
    // verdict all the same; only a comparison that found nothing is refused.
    if (exit_code(result, opts.gate) == 0) throw input_error(why);
    result.warnings.push_back(why);
  }

  for (const auto& w : result.warnings) std::cerr << kProgram << ": warning: " << w << '\n';
  switch (opts.format) {
    case output_format::table: {
      const bool colour = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
      std::cout << render_table(result, colour);
      break;
    }
    case output_format::markdown:
      std::cout << render_markdown(result);
      break;
    case output_format::json:
      std::cout << to_json(result).dump(2) << '\n';
      break;
  }
  std::cout.flush();
  if (!std::cout) throw std::runtime_error("cannot write to standard output");
  return exit_code(result, opts.gate);
}

}  // namespace
}  // namespace ipcbench::compare

int main(int argc, char** argv) {
  using namespace ipcbench::compare;
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::string message = e.what();
    for (char& c : message) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    std::cerr << kProgram << ": " << message << '\n';
  } catch (...) {
    std::cerr << kProgram << ": unexpected error\n";
  }
  return 2;
}
