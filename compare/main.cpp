// ipcbench-compare: compares two benchmark reports and gates regressions.
// Exit status: 0 no regression, 1 at least one regression, 2 bad input or usage. Every error is
// one line on stderr; nothing escapes main as an exception.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
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
  std::vector<std::string> files;
  output_format format = output_format::table;
  gate_options gate;
  bool help = false;
};

std::string help_text() {
  std::string text =
      "Usage: ipcbench-compare BASELINE.json CONTENDER.json [options]\n"
      "\n"
      "Compares two ipcbench reports (or plain Google Benchmark JSON files) benchmark by\n"
      "benchmark and gates regressions. A change counts only when it is significant over the\n"
      "repetitions AND larger than the metric's threshold on the ratio of medians. With too\n"
      "few repetitions for the test to ever reach alpha, the threshold alone decides and the\n"
      "verdict says \"threshold only\".\n"
      "\n"
      "Options:\n"
      "  --format table|markdown|json  output format (default: table)\n"
      "  --metrics M1,M2,...           metrics to compare (default: rtt_p50_ns,rtt_p99_ns,\n"
      "                                bytes_per_second; real_time,bytes_per_second for plain\n"
      "                                Google Benchmark entries)\n"
      "  --test mann-whitney|bootstrap significance test (default: mann-whitney, two-sided)\n"
      "  --alpha A                     significance level, 0 < A < 1 (default: 0.01)\n"
      "  --threshold METRIC=PCT        smallest change that counts for METRIC, in percent;\n"
      "                                repeatable, wins over --threshold-all\n"
      "  --threshold-all PCT           smallest change that counts for every metric\n"
      "  --fail-on-missing             exit 1 also when a baseline benchmark is missing from\n"
      "                                the contender, or was ok and is skipped/failed there\n"
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
      "Exit status: 0 no regression, 1 at least one regression (or missing benchmark with\n"
      "--fail-on-missing), 2 bad input or usage.\n";
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
    if (arg == "--") {
      only_files = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      opts.help = true;
      continue;
    }
    if (arg == "--fail-on-missing") {
      opts.gate.fail_on_missing = true;
      continue;
    }
    // Options with a value: "--name value" or "--name=value".
    std::string name = arg;
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    static const std::string_view kValued[] = {"--format",    "--metrics",   "--test",
                                               "--alpha",     "--threshold", "--threshold-all",
                                               "--resamples", "--seed"};
    if (std::find(std::begin(kValued), std::end(kValued), name) == std::end(kValued)) {
      throw usage_error("unknown option '" + name + "' (try --help)");
    }
    if (!value) {
      if (i + 1 >= argc) throw usage_error("option " + name + " needs a value");
      value = argv[++i];
    }
    const std::string& v = *value;
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
    }
  }
  if (!opts.help && opts.files.size() != 2) {
    throw usage_error(opts.files.size() < 2
                          ? "expected BASELINE.json and CONTENDER.json (try --help)"
                          : "too many arguments: expected BASELINE.json and CONTENDER.json");
  }
  return opts;
}

int run(int argc, char** argv) {
  const cli_options opts = parse_args(argc, argv);
  if (opts.help) {
    std::cout << help_text();
    return 0;
  }
  const report baseline = load_report(opts.files[0]);
  const report contender = load_report(opts.files[1]);
  const comparison result = compare_reports(baseline, contender, opts.gate);

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
