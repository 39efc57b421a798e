#include "probe.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <system_error>

#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {

std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::holds:
      return "holds";
    case verdict::does_not_hold:
      return "does not hold";
    case verdict::inconclusive:
      return "inconclusive";
    case verdict::untested:
      return "untested";
    case verdict::not_applicable:
      break;
  }
  return "not applicable";
}

std::optional<verdict> parse_verdict(std::string_view text) noexcept {
  for (verdict v : {verdict::holds, verdict::does_not_hold, verdict::not_applicable,
                    verdict::inconclusive, verdict::untested})
    if (text == to_string(v)) return v;
  return std::nullopt;
}

nlohmann::json to_json(const finding& f) {
  return {{"id", f.id},
          {"claim", f.claim},
          {"source", f.source},
          {"value", f.value},
          {"verdict", std::string(to_string(f.result))},
          {"method", f.method},
          {"detail", f.detail}};
}

finding finding_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("a probe is not a JSON object");
  auto text = [&](const char* key) {
    if (!j.contains(key) || !j.at(key).is_string())
      throw std::invalid_argument(std::string("a probe has no string field '") + key + "'");
    return j.at(key).get<std::string>();
  };
  finding f;
  f.id = text("id");
  f.claim = text("claim");
  f.method = text("method");
  f.detail = text("detail");
  if (j.contains("source")) f.source = text("source");  // absent in older reports
  const std::string v = text("verdict");
  const auto parsed = parse_verdict(v);
  if (!parsed)
    throw std::invalid_argument(
        "probe '" + f.id + "' has verdict '" + v +
        "' (holds, does not hold, not applicable, inconclusive or untested)");
  f.result = *parsed;
  if (!j.contains("value")) throw std::invalid_argument("probe '" + f.id + "' has no 'value'");
  f.value = j.at("value");
  return f;
}

deadline::deadline(std::chrono::milliseconds budget)
    : budget_(budget), end_(std::chrono::steady_clock::now() + budget) {}

std::chrono::milliseconds deadline::left() const noexcept {
  const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(
      end_ - std::chrono::steady_clock::now());
  return d.count() > 0 ? d : std::chrono::milliseconds(0);
}

void deadline::check(std::string_view what) const {
  if (left().count() == 0)
    throw probe_timeout(std::string(what) + ": deadline of " + std::to_string(budget_.count()) +
                        " ms passed");
}

finding run_probe(const probe& p, std::chrono::milliseconds budget) {
  finding f;
  f.id = p.id;
  f.claim = p.claim;
  f.source = p.source;
  f.method = p.method;
  try {
    const deadline d(budget);
    outcome o = p.run(d);
    f.value = std::move(o.value);
    f.result = o.result;
    f.detail = std::move(o.detail);
  } catch (const probe_timeout& e) {
    f.value = {{"timed out", e.what()}};
    f.result = verdict::not_applicable;
    f.detail = std::string("timed out: ") + e.what();
  } catch (const std::exception& e) {
    f.value = {{"could not run", e.what()}};
    f.result = verdict::not_applicable;
    f.detail = std::string("could not run: ") + e.what();
  }
  return f;
}

std::vector<probe> all_probes() {
  std::vector<probe> all;
  for (auto family : {pipe_atomicity_probes, pipe_probes, fifo_probes, message_queue_probes,
                      sysv_shm_probes, mmap_probes, datagram_probes, semaphore_probes,
                      signal_probes, zerocopy_probes, uring_wakeup_probes}) {
    auto some = family();
    all.insert(all.end(), std::make_move_iterator(some.begin()),
               std::make_move_iterator(some.end()));
  }
  return all;
}

namespace {

// JSON for people: strings without quotes, "key: value" pairs separated by ", ".
void value_text(const nlohmann::json& v, std::string& out) {
  if (v.is_string()) {
    out += v.get<std::string>();
  } else if (v.is_object()) {
    bool first = true;
    out += '{';
    for (const auto& [k, item] : v.items()) {
      if (!first) out += ", ";
      first = false;
      out += k + ": ";
      value_text(item, out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      value_text(v[i], out);
    }
    out += ']';
  } else if (v.is_null()) {
    out += "—";
  } else {
    out += v.dump();
  }
}

std::string top_value_text(const nlohmann::json& v) {
  std::string out;
  if (v.is_object()) {  // the outer braces add nothing in a table cell
    value_text(v, out);
    return out.substr(1, out.size() - 2);
  }
  value_text(v, out);
  return out;
}

// Display width, counting each UTF-8 sequence as one column.
std::size_t columns(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> wrap(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    while (columns(word) > width) {  // hard break of a word longer than the column
      if (!line.empty()) lines.push_back(std::exchange(line, {}));
      lines.push_back(word.substr(0, width));
      word.erase(0, width);
    }
    if (!line.empty() && columns(line) + 1 + columns(word) > width)
      lines.push_back(std::exchange(line, {}));
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t n = columns(s);
  return n >= width ? s : s + std::string(width - n, ' ');
}

}  // namespace

std::string format_table(const std::vector<finding>& findings, std::size_t width) {
  constexpr std::size_t kVerdict = 14;
  const std::size_t rest = width > kVerdict + 6 + 40 ? width - kVerdict - 6 : 40;
  const std::size_t claim_w = rest * 11 / 20, value_w = rest - claim_w;
  std::string out;
  auto row = [&](const std::vector<std::string>& a, const std::vector<std::string>& b,
                 const std::vector<std::string>& c) {
    const std::size_t n = std::max({a.size(), b.size(), c.size()});
    for (std::size_t i = 0; i < n; ++i) {
      std::string line = pad(i < a.size() ? a[i] : "", claim_w) + " | " +
                         pad(i < b.size() ? b[i] : "", value_w) + " | " +
                         (i < c.size() ? c[i] : "");
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
  };
  const std::string rule = std::string(claim_w, '-') + "-+-" + std::string(value_w, '-') + "-+-" +
                           std::string(kVerdict, '-') + "\n";
  row({"claim"}, {"value"}, {"verdict"});
  out += rule;
  std::size_t counts[5] = {0, 0, 0, 0, 0};
  for (const auto& f : findings) {
    ++counts[static_cast<int>(f.result)];
    std::string value = top_value_text(f.value);
    if (f.result == verdict::not_applicable && f.value.is_null()) value = f.detail;
    row(wrap(f.claim, claim_w), wrap(value, value_w), {std::string(to_string(f.result))});
  }
  out += rule;
  out += std::to_string(findings.size()) + (findings.size() == 1 ? " claim: " : " claims: ") +
         std::to_string(counts[0]) + " hold, " + std::to_string(counts[1]) + " do not hold, " +
         std::to_string(counts[2]) + " not applicable";
  if (counts[3] != 0) out += ", " + std::to_string(counts[3]) + " inconclusive";
  if (counts[4] != 0) out += ", " + std::to_string(counts[4]) + " untested";
  out += "\n";
  return out;
}

namespace {

char process_state(pid_t pid) {
  const auto stat = read_proc_stat(pid);
  return stat ? stat->state : '?';
}

}  // namespace

void announce(int fd) noexcept {
  const char byte = 1;
  (void)retry_on_eintr([&] { return ::write(fd, &byte, 1); });
}

blocking_watch watch_blocking(const std::function<int(int)>& body, std::chrono::milliseconds window,
                              const deadline& d) {
  auto ready = make_pipe();
  blocking_watch w;
  w.child = child_process::fork([&] {
    ready.read_end.reset();
    return body(ready.write_end.get());
  });
  ready.write_end.reset();
  // The byte comes right before the call; EOF means the child ended without announcing.
  if (!wait_readable(ready.read_end.get(), d.left())) d.check("waiting for the child to start");
  std::byte b{};
  const bool announced = read_exact(ready.read_end.get(), {&b, 1}) == io_status::ok;
  if (announced) {
    if (window > d.left())
      throw probe_timeout("blocking window of " + std::to_string(window.count()) +
                          " ms: the deadline is nearer");
    if (auto st = w.child.wait_for(window)) w.early_status = st;
  } else {
    w.early_status = w.child.wait_for(d.left());
    if (!w.early_status) d.check("waiting for the child");
  }
  if (w.early_status) {
    w.state = describe_wait_status(*w.early_status);
    return w;
  }
  // On a loaded machine the child may not have reached the call yet (state R): look again for a
  // while. A child that does not block ends; one that spins stays R and is reported so.
  char s = process_state(w.child.pid());
  for (int i = 0; i < 40 && s == 'R' && d.left() > std::chrono::milliseconds(50); ++i) {
    if (auto st = w.child.wait_for(std::chrono::milliseconds(50))) {
      w.early_status = st;
      w.state = describe_wait_status(*st);
      return w;
    }
    s = process_state(w.child.pid());
  }
  w.blocked = s == 'S' || s == 'D';
  w.state = w.blocked ? std::string("asleep (") + s + ")" : std::string("running (") + s + ")";
  return w;
}

std::optional<int> wait_unblocked(child_process& child, std::chrono::milliseconds limit,
                                  const deadline& d) {
  return child.wait_for(std::min(limit, d.left()));
}

temp_fifo::temp_fifo() : path_((dir_.path() / "fifo").string()) {
  guard_ = cleanup::guard(cleanup::kind::path, -1, path_.c_str());
  check(::mkfifo(path_.c_str(), 0600), "mkfifo(" + path_ + ")");
}

temp_fifo::~temp_fifo() {
  ::unlink(path_.c_str());
}

left_by_child create_in_child(const std::function<int()>& create,
                              const std::function<int(int)>& then, const deadline& d) {
  auto id_pipe = make_pipe();
  left_by_child made;
  made.creator = child_process::fork([&] {
    id_pipe.read_end.reset();
    const int id = create();
    // The id goes first: from here on the parent owns the object's removal.
    if (write_all(id_pipe.write_end.get(), std::as_bytes(std::span(&id, 1))) != io_status::ok)
      return 1;
    return then(id);
  });
  id_pipe.write_end.reset();
  if (!wait_readable(id_pipe.read_end.get(), d.left()))
    throw probe_timeout("waiting for the creator's id");
  if (read_exact(id_pipe.read_end.get(), std::as_writable_bytes(std::span(&made.id, 1))) !=
      io_status::ok)
    throw std::runtime_error("the creator " +
                             describe_wait_status(wait_exit(made.creator, d, "creator")) +
                             " before it sent the id");
  return made;
}

int wait_exit(child_process& child, const deadline& d, std::string_view what) {
  if (auto st = child.wait_for(d.left())) return *st;
  throw probe_timeout(std::string(what) + ": deadline of " + std::to_string(d.budget().count()) +
                      " ms passed");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string rounded(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double round_to(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

std::string p_text(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", p);
  return buf;
}

std::string errno_name(int err) {
  if (const char* name = ::strerrorname_np(err)) return name;
  return "errno " + std::to_string(err);
}

bool has_cap_sys_resource() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    try {
      const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
      constexpr int kCapSysResource = 24;  // linux/capability.h
      return (caps >> kCapSysResource) & 1;
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

}  // namespace ipcbench::probes
