#include "report.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <iostream>

#include "sys/system.hpp"

namespace ipcbench {

int report_extras::add_repetition(const std::string& name, nlohmann::json fields) {
  const int rep = next_rep_[name]++;
  runs_[{name, rep}] = std::move(fields);
  return rep;
}

std::string report_name(std::string gb_name) {
  const auto at = gb_name.find(kGoogleSuffix);
  if (at != std::string::npos) gb_name.erase(at, std::string_view(kGoogleSuffix).size());
  return gb_name;
}

void skip_run(benchmark::State& state, const std::string& message) {
  for (auto _ : state) {
    state.SkipWithError(message.c_str());
    break;
  }
}

std::string json_without_nonfinite(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_string) {
      out += ch;
      if (ch == '\\' && i + 1 < text.size())
        out += text[++i];
      else if (ch == '"')
        in_string = false;
      continue;
    }
    if (ch == '"') {
      in_string = true;
      out += ch;
      continue;
    }
    std::size_t j = i + (ch == '-' || ch == '+');
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string word = text.substr(j, k - j);
    if (k > j &&
        (word == "nan" || word == "NaN" || word == "inf" || word == "Infinity" || word == "INF")) {
      out += "null";
      i = k - 1;
      continue;
    }
    out += ch;
  }
  return out;
}

std::string report_extras::repetition_blocked(const std::string& name) const {
  const auto first = runs_.find({name, 0});
  if (first == runs_.end() || first->second.value("status", "ok") != "failed") return {};
  return "repetition 1 failed (" + first->second.value("reason", std::string()) +
         "); the other repetitions were not run";
}

void report_extras::enrich(nlohmann::json& report) const {
  for (auto& b : report["benchmarks"]) {
    for (const char* key : {"name", "run_name"})
      if (b.contains(key)) b[key] = report_name(b[key].get<std::string>());
    const std::string run_name = b.value("run_name", b.value("name", ""));
    if (auto s = static_.find(run_name); s != static_.end()) b.update(s->second);
    if (b.value("run_type", "iteration") != "iteration") {
      b["status"] = "ok";
      b["reason"] = "";
      continue;
    }
    const std::int64_t rep = b.value("repetition_index", std::int64_t{0});
    if (auto r = runs_.find({run_name, rep}); r != runs_.end()) b.update(r->second);
  }
}

tee_reporter::tee_reporter(std::unique_ptr<benchmark::BenchmarkReporter> display)
    : display_(std::move(display)) {
  json_.SetOutputStream(&json_out_);
  json_.SetErrorStream(&json_err_);
}

bool tee_reporter::ReportContext(const Context& context) {
  json_.ReportContext(context);
  return display_->ReportContext(context);
}

void tee_reporter::ReportRuns(const std::vector<Run>& report) {
  json_.ReportRuns(report);
  display_->ReportRuns(report);
}

void tee_reporter::Finalize() {
  json_.Finalize();
  display_->Finalize();
}

void quiet_reporter::ReportRuns(const std::vector<Run>& report) {
  for (const auto& r : report)
    if (r.error_occurred && r.error_message.rfind("failed", 0) == 0)
      std::cerr << "\n" << r.benchmark_name() << ": " << r.error_message << "\n";
}

namespace {
std::string clock_text(std::int64_t ns) {
  const std::int64_t s = ns / 1'000'000'000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                static_cast<long long>(s % 60));
  return buf;
}
}  // namespace

void progress_line::start(std::size_t total) {
  total_ = total;
  done_ = 0;
  t0_ = now_ns();
  last_print_ = 0;
  tty_ = ::isatty(STDERR_FILENO) != 0;
  active_ = true;
}

void progress_line::step(const std::string& name) {
  if (!active_) return;
  ++done_;
  const std::int64_t now = now_ns();
  if (!tty_ && now - last_print_ < 10'000'000'000 && done_ != 1) return;
  last_print_ = now;
  const std::int64_t elapsed = now - t0_;
  std::string left = "?";
  if (done_ > 1 && total_ >= done_)
    left = clock_text(elapsed / static_cast<std::int64_t>(done_ - 1) *
                      static_cast<std::int64_t>(total_ - done_ + 1));
  char head[48];
  std::snprintf(head, sizeof head, "[%4zu/%zu] ", done_, total_);
  std::string line = head + name + "  " + clock_text(elapsed) + " elapsed, ~" + left + " left";
  if (tty_)
    std::cerr << "\r\033[K" << line << std::flush;
  else
    std::cerr << line << "\n";
}

void progress_line::finish() {
  if (!active_) return;
  if (tty_) std::cerr << "\r\033[K";
  std::cerr << "ran " << done_ << " benchmark repetition(s) in " << clock_text(now_ns() - t0_)
            << "\n";
  active_ = false;
}

}  // namespace ipcbench
