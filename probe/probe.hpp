// Probes: the textbook claims about Linux IPC, checked on this machine. A probe measures one
// claim and returns its value and verdict; run_probe() adds the claim's text and method and
// turns a probe that cannot run (an exception, a missed deadline) into a finding marked
// "not applicable" with the reason, so one missing facility never fails the whole run.
// Probes call the IPC syscalls directly: they measure the kernel, not a mechanism adapter.
// Coordinator side; a probe forks its own children where a call is expected to block, and
// every kernel object it creates is registered with cleanup::guard while it exists.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sys/child.hpp"
#include "sys/cleanup.hpp"
#include "sys/system.hpp"

namespace ipcbench::probes {

// inconclusive: measured, but the samples cannot decide; untested: the report lacks what a claim
// computed from the sweep needs (see copies.cpp).
enum class verdict { holds, does_not_hold, not_applicable, inconclusive, untested };
// "holds", "does not hold", "not applicable", "inconclusive", "untested" (the report's spelling).
std::string_view to_string(verdict v) noexcept;
std::optional<verdict> parse_verdict(std::string_view text) noexcept;

// One row of the report's top-level `probes` array (results/README.md).
struct finding {
  std::string id;
  std::string claim;
  // Where the claim comes from: "tutorial 001, section 1.6 '管道的容量' (pipe capacity)",
  // "man 7 pipe". Empty in reports written before findings named their source.
  std::string source;
  nlohmann::json value;  // free-form; null when nothing was measured
  verdict result = verdict::not_applicable;
  std::string method;
  std::string detail;
};
nlohmann::json to_json(const finding& f);
// Throws std::invalid_argument naming the missing or malformed field. "source" is optional (older
// reports have none); when present it must be a string.
finding finding_from_json(const nlohmann::json& j);

// What a probe's body measured; the claim, id and method come from the probe.
struct outcome {
  nlohmann::json value;
  verdict result = verdict::not_applicable;
  std::string detail;
};

// A probe that ran past its deadline throws this; run_probe() reports it as not applicable.
struct probe_timeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The time one probe may take. Every wait inside a probe is bounded by left().
class deadline {
 public:
  explicit deadline(std::chrono::milliseconds budget);
  std::chrono::milliseconds budget() const noexcept { return budget_; }
  // Time left, never negative.
  std::chrono::milliseconds left() const noexcept;
  // Throws probe_timeout("<what>: deadline of N ms passed") when no time is left.
  void check(std::string_view what) const;

 private:
  std::chrono::milliseconds budget_;
  std::chrono::steady_clock::time_point end_;
};

struct probe {
  std::string id;
  std::string claim;
  std::string source;  // the textbook or man page the claim is taken from (finding::source)
  std::string method;
  std::function<outcome(const deadline&)> run;
};

// Runs one probe under a deadline; the finding carries the probe's id, claim, source and method.
// Never throws: an exception becomes `not applicable` with "could not run: <what>" in detail, a
// missed deadline "timed out: <what>".
finding run_probe(const probe& p, std::chrono::milliseconds budget);

// Every probe that runs on its own, in the order of the report's table; one family per file.
std::vector<probe> all_probes();
std::vector<probe> pipe_atomicity_probes();  // atomicity.cpp
std::vector<probe> pipe_probes();            // pipe.cpp
std::vector<probe> fifo_probes();            // fifo.cpp
std::vector<probe> message_queue_probes();   // message_queue.cpp
std::vector<probe> sysv_shm_probes();        // sysv_shm.cpp
std::vector<probe> mmap_probes();            // mmap.cpp
std::vector<probe> datagram_probes();        // datagram.cpp
std::vector<probe> semaphore_probes();       // semaphore.cpp
std::vector<probe> signal_probes();          // signal.cpp
std::vector<probe> zerocopy_probes();        // zerocopy.cpp
std::vector<probe> uring_wakeup_probes();    // uring_wakeup.cpp

// The table printed by ipcbench-probe: claim | value | verdict, wrapped to `width` columns.
std::string format_table(const std::vector<finding>& findings, std::size_t width = 120);

// --- helpers shared by the probe families -------------------------------------------------

// A child forked to make a call that should block. The child writes one byte to a pipe right
// before the call; watch_blocking() waits for that byte, then lets `window` pass and looks
// whether the child is still there and asleep (state S in /proc/<pid>/stat; a child still
// runnable is looked at again for up to 2 s, in case a loaded machine has not run it to the
// call yet). The child_process kills and reaps the child when the watch goes out of scope.
struct blocking_watch {
  child_process child;
  bool blocked = false;             // still running and asleep after the window
  std::string state;                // "asleep (S)", "exited with 0", ...
  std::optional<int> early_status;  // wait status when it did not block
};
// `body` receives the descriptor to signal on (call announce(fd) right before the blocking call)
// and returns the child's exit code.
blocking_watch watch_blocking(const std::function<int(int announce_fd)>& body,
                              std::chrono::milliseconds window, const deadline& d);
// The window the probes give a child to reach its blocking call and fall asleep in it.
inline constexpr auto kBlockingWindow = std::chrono::milliseconds(200);
void announce(int fd) noexcept;
// Waits, within the deadline, for a watched child to finish after it was unblocked; returns its
// wait status or nullopt when it is still blocked.
std::optional<int> wait_unblocked(child_process& child, std::chrono::milliseconds limit,
                                  const deadline& d);

// Waits for a child to exit within the deadline; returns its wait status or throws
// probe_timeout("<what>: ...") (the child_process then kills and reaps it).
int wait_exit(child_process& child, const deadline& d, std::string_view what);

// A System V object made by a forked child that exits without removing it (the kernel-persistence
// probes). The child runs `create`, which makes the object and returns its id, sends the id, then
// exits with `then(id)`. Returns once the id has come; the caller owns the object's removal from
// then on and registers it with cleanup::guard at once. Throws probe_timeout when no id comes
// within the deadline, std::runtime_error naming the creator's end when it exits without one.
struct left_by_child {
  int id = -1;
  child_process creator;  // may still be running
};
left_by_child create_in_child(const std::function<int()>& create,
                              const std::function<int(int id)>& then, const deadline& d);

// Writes to a non-blocking pipe until EAGAIN (whole pages, then single bytes); returns the bytes
// written. Throws std::system_error on any other error.
std::size_t fill_until_eagain(int fd, const deadline& d);

// A FIFO in a private directory (mode 0700) of its own, registered with the emergency cleanup so
// Ctrl-C removes it too; unlinked with its directory on destruction. Throws std::system_error.
class temp_fifo {
 public:
  temp_fifo();
  temp_fifo(const temp_fifo&) = delete;
  temp_fifo& operator=(const temp_fifo&) = delete;
  ~temp_fifo();
  const std::string& path() const noexcept { return path_; }

 private:
  private_dir dir_;
  std::string path_;
  cleanup::guard guard_;
};

// For claims decided on repeated measurements (copies.cpp, semaphore.cpp): the median of a
// non-empty sample (the chance of a complete separation is stats/rank.hpp's separation_chance);
// `v` rounded to `digits` decimals, as text ("%.*f") and as a number.
double median(std::vector<double> v);
std::string rounded(double v, int digits);
double round_to(double v, int digits);
// A p value as text: two significant digits (a p of 1e-7 is not "0.000").
std::string p_text(double p);

// The level of the exact rank test's two-sided p (stats/rank.hpp) at which a timed probe takes a
// verdict, as the report's claims take theirs (1 - their confidence of 0.9): if the two sides
// were alike, a verdict either way would come by chance with probability at most 0.1, and one in
// a given direction 0.05. Compared with a relative tolerance (kRankLevel * (1 + 1e-9)), since
// the exact p of a complete separation of 3 and 3 is 2 / C(6, 3) = 0.1 itself.
inline constexpr double kRankLevel = 0.1;
inline bool within_rank_level(double p, double level = kRankLevel) {
  return p <= level * (1 + 1e-9);
}

// errno as its symbolic name: "EINVAL", "EAGAIN"; "errno 123" when unknown.
std::string errno_name(int err);
// True when this process has CAP_SYS_RESOURCE in its effective set (it may exceed pipe-max-size
// and the POSIX message queue limits).
bool has_cap_sys_resource();

}  // namespace ipcbench::probes
