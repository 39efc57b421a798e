#include "registry/registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "mechanisms/notify/eventfd.hpp"
#include "mechanisms/notify/futex.hpp"
#include "mechanisms/notify/posix_sem.hpp"
#include "mechanisms/notify/signal.hpp"
#include "mechanisms/notify/sysv_sem.hpp"
#include "mechanisms/pipes/fifo.hpp"
#include "mechanisms/pipes/pipe.hpp"
#include "mechanisms/pipes/pipe_relay.hpp"
#include "mechanisms/pipes/pipe_resized.hpp"
#include "mechanisms/pipes/pipe_splice.hpp"
#include "mechanisms/pipes/pipe_splice_tee.hpp"
#include "mechanisms/pipes/pipe_vmsplice.hpp"
#include "mechanisms/queues/posix_mq.hpp"
#include "mechanisms/queues/sysv_mq.hpp"
#include "mechanisms/shm/mmap_anon.hpp"
#include "mechanisms/shm/mmap_file.hpp"
#include "mechanisms/shm/posix_shm.hpp"
#include "mechanisms/shm/posix_shm_inplace.hpp"
#include "mechanisms/shm/shm_broadcast.hpp"
#include "mechanisms/shm/shm_shared.hpp"
#include "mechanisms/shm/sysv_shm.hpp"
#include "mechanisms/single_copy/cma.hpp"
#include "mechanisms/single_copy/memfd.hpp"
#include "mechanisms/sockets/tcp.hpp"
#include "mechanisms/sockets/tcp_netns.hpp"
#include "mechanisms/sockets/tcp_zerocopy.hpp"
#include "mechanisms/sockets/udp.hpp"
#include "mechanisms/sockets/unix_dgram.hpp"
#include "mechanisms/sockets/unix_seqpacket.hpp"
#include "mechanisms/sockets/unix_stream.hpp"
#include "mechanisms/sockets/vsock.hpp"
#include "registry/make_entry.hpp"
#include "registry/middleware_daemons.hpp"
#include "registry/middleware_messaging.hpp"
#include "registry/uring.hpp"
#ifdef IPCBENCH_PLANT_DELAY
#include "registry/planted_delay.hpp"
#endif

namespace ipcbench {
namespace {

// The paced variant of a lossy datagram channel: the same channel and endpoints, a stream whose
// producer is paced at the highest rate found with under 0.1 % lost (run_paced_channel). A
// registry variant rather than a pattern of its own: its numbers are a throughput (bytes/s and
// messages/s, compared and plotted as every stream's are, higher is better), of a mechanism used
// the way a sender that respects its receiver uses it, so `udp.paced/throughput/<size>/<placement>`
// sits beside `udp/throughput/...` in the report, compare and the plots, and no reader of the
// pattern field has to learn a third value.
template <channel C>
mechanism_entry make_paced_entry(const char* id) {
  mechanism_entry e = make_entry<C>(id);
  const mechanism_traits base = e.traits;
  e.traits.id = id;
  e.traits.variant = "paced";
  e.traits.paced = true;
  e.traits.description = base.description +
                         "; paced: the producer sends on a busy-wait schedule at the highest rate "
                         "a search finds with under 0.1 % lost, and the timed batch runs at it";
  e.traits.notes["pacing"] =
      "busy-wait on CLOCK_MONOTONIC, message i due at t0 + i/rate (absolute schedule, no sleep)";
  e.traits.notes["rate_search"] =
      "one unpaced trial, then at most 8 paced trials (its goodput, 1/16 of it, then bisection "
      "in log space), each a fresh run of 1/10 the target time and at least 1000 messages; the "
      "timed batch at the highest rate that lost under 0.1 %";
  // A paced group would run unpaced: the rate search is one pair's.
  e.groups.clear();
  if (!e.unavailable.empty()) return e;
  e.run = [traits = e.traits](const run_request& req) { return run_paced_channel<C>(traits, req); };
  return e;
}

// The entry of a mechanism the kernel may refuse at run time (cma under Yama or seccomp, memfd
// without sealing): when describe() throws, the entry is unavailable with the reason and keeps
// its mechanism, variant and family, so it is listed and charted with its family.
template <channel C>
mechanism_entry placed_entry(const char* id, const char* mechanism, const char* variant,
                             const char* family) {
  mechanism_entry e = make_entry<C>(id);
  if (!e.unavailable.empty()) {
    e.traits.mechanism = mechanism;
    e.traits.variant = variant;
    e.traits.family = family;
  }
  return e;
}

}  // namespace

namespace {

// Entries added before the registry is built (add_mechanism), and whether it is.
std::vector<mechanism_entry>& external_entries() {
  static std::vector<mechanism_entry> v;
  return v;
}
bool& registry_built() {
  static bool built = false;
  return built;
}

}  // namespace

const std::vector<mechanism_entry>& registry() {
  // The kernel mechanisms, then the middleware family (registry/middleware_*.cpp).
  static const std::vector<mechanism_entry> all = [] {
    std::vector<mechanism_entry> v = with_messaging_middleware({
#ifdef IPCBENCH_PLANT_DELAY
        make_entry<delayed_channel<pipe_channel>>("pipe"),  // test-only: planted_delay.hpp
#else
        with_fan_out_channels<pipe_channel>(
            with_fan_in<pipe_channel>(make_entry<pipe_channel>("pipe"))),
#endif
        with_fan_in<fifo_channel>(make_entry<fifo_channel>("fifo")),
        with_fan_in<unix_stream_server_channel>(with_fan_out_channels<unix_stream_channel>(
            make_entry<unix_stream_channel>("unix_stream"))),
        with_fan_in<tcp_server_channel>(make_entry<tcp_channel>("tcp")),
        make_entry<tcp_zerocopy_channel>("tcp.zerocopy"),
        make_entry<tcp_netns_channel>("tcp.netns"),
        make_entry<vsock_channel>("vsock"),
        make_entry<pipe_resized_channel>("pipe.resized"),
        make_entry<pipe_vmsplice_channel>("pipe.vmsplice"),
        with_fan_out_broadcast<pipe_splice_tee_channel>(
            make_entry<pipe_splice_channel>("pipe.splice")),
        make_entry<pipe_relay_rw_channel>("pipe.relay"),
        make_entry<pipe_relay_splice_channel>("pipe.relay.splice"),
        make_entry<sysv_shm_channel>("sysv_shm.sysv_sem"),
        make_entry<posix_shm_channel<posix_sem_sync>>("posix_shm.posix_sem"),
        with_fan_out_broadcast<posix_shm_broadcast_channel<futex_sync>>(
            with_fan_in<posix_shm_shared_channel<futex_sync>>(
                make_entry<posix_shm_channel<futex_sync>>("posix_shm.futex"))),
        make_entry<posix_shm_channel<mutex_cond_sync>>("posix_shm.mutex_cond"),
        make_entry<posix_shm_channel<spinlock_sync>>("posix_shm.spinlock"),
        make_entry<posix_shm_channel<rwlock_sync>>("posix_shm.rwlock"),
        make_entry<posix_shm_channel<unnamed_sem_sync>>("posix_shm.unnamed_sem"),
        make_entry<posix_shm_channel<adaptive_sync>>("posix_shm.adaptive"),
        with_fan_out_broadcast<posix_shm_broadcast_channel<spin_sync>>(
            with_fan_in<posix_shm_shared_channel<spin_sync>>(
                make_entry<posix_shm_channel<spin_sync>>("posix_shm.spin"))),
        make_entry<posix_shm_inplace_channel<futex_sync>>("posix_shm.futex.inplace"),
        make_entry<posix_shm_inplace_channel<spin_sync>>("posix_shm.spin.inplace"),
        make_entry<mmap_file_channel>("mmap_file.futex"),
        make_entry<mmap_anon_channel>("mmap_anon.futex"),
        placed_entry<cma_channel>("cma", "cma", "default", "cross memory attach"),
        placed_entry<memfd_per_connection_channel>("memfd.per_connection", "memfd",
                                                   "per_connection", "memfd & fd passing"),
        placed_entry<memfd_per_message_channel>("memfd.per_message", "memfd", "per_message",
                                                "memfd & fd passing"),
        with_work_queue<sysv_mq_channel>(
            with_fan_in<sysv_mq_channel>(make_entry<sysv_mq_channel>("sysv_mq"))),
        with_work_queue<posix_mq_channel>(
            with_fan_in<posix_mq_channel>(make_entry<posix_mq_channel>("posix_mq"))),
        with_fan_in<unix_dgram_channel>(make_entry<unix_dgram_channel>("unix_dgram")),
        make_entry<unix_seqpacket_channel>("unix_seqpacket"),
        make_entry<udp_channel>("udp"),
        make_paced_entry<udp_channel>("udp.paced"),
        make_entry<rt_signal_channel>("signal"),
        make_entry<handler_signal_channel>("signal.handler"),
        make_entry<eventfd_channel>("eventfd"),
        make_entry<sysv_sem_channel>("sysv_sem"),
        make_entry<posix_sem_channel>("posix_sem"),
        make_entry<futex_channel>("futex"),
    });
    // Middleware that needs a daemon (D-Bus): middleware_daemons.cpp.
    append_daemon_middleware(v);
    // The io_uring family (liburing, optional): uring.cpp.
    v = with_uring(std::move(v));
    // Out-of-tree adapters (add_mechanism: ipcbench::main<C>, a --plugin), after the built-in ones.
    // An id that is a built-in one's is refused (std::invalid_argument, before any run).
    for (auto& e : external_entries()) {
      const std::string& id = e.traits.id;
      if (std::any_of(v.begin(), v.end(), [&](const auto& b) { return b.traits.id == id; }))
        throw std::invalid_argument("out-of-tree mechanism id '" + id + "' is a built-in one's");
      v.push_back(std::move(e));
    }
    external_entries().clear();
    return v;
  }();
  registry_built() = true;
  return all;
}

void add_mechanism(mechanism_entry e) {
  const std::string& id = e.traits.id;
  if (registry_built())
    throw std::logic_error("add_mechanism(" + id + "): the registry is already in use");
  if (id.empty() || id.find_first_of("/ \t\n,") != std::string::npos)
    throw std::invalid_argument("out-of-tree mechanism id '" + id +
                                "' is empty or has a '/', a ',' or white space");
  const auto same = [&](const mechanism_entry& other) { return other.traits.id == id; };
  if (std::any_of(external_entries().begin(), external_entries().end(), same))
    throw std::invalid_argument("out-of-tree mechanism id '" + id + "' is added twice");
  if (e.traits.family.empty()) e.traits.family = "out of tree";
  if (e.traits.mechanism.empty()) e.traits.mechanism = id;
  if (e.traits.variant.empty()) e.traits.variant = "default";
  external_entries().push_back(std::move(e));
}

std::vector<topology> mechanism_entry::topologies() const {
  std::vector<topology> v;
  for (const auto& [t, fn] : groups) v.push_back(t);
  return v;
}

run_result mechanism_entry::run_group(const run_request& req, topology t, std::size_t n) const {
  if (auto it = groups.find(t); it != groups.end()) return it->second(req, n);
  run_result r;
  r.status = run_status::skipped;
  r.reason = unavailable.empty() ? traits.id + " does not run " + to_string(t) : unavailable;
  return r;
}

const mechanism_entry* find_mechanism(const std::string& id) {
  for (const auto& e : registry())
    if (e.traits.id == id) return &e;
  return nullptr;
}

}  // namespace ipcbench
