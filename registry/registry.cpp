#include "registry/registry.hpp"

#include <exception>

#include "harness/runner.hpp"
#include "mechanisms/notify/eventfd.hpp"
#include "mechanisms/notify/futex.hpp"
#include "mechanisms/notify/posix_sem.hpp"
#include "mechanisms/notify/signal.hpp"
#include "mechanisms/notify/sysv_sem.hpp"
#include "mechanisms/pipes/fifo.hpp"
#include "mechanisms/pipes/pipe.hpp"
#include "mechanisms/pipes/pipe_resized.hpp"
#include "mechanisms/pipes/pipe_vmsplice.hpp"
#include "mechanisms/queues/posix_mq.hpp"
#include "mechanisms/queues/sysv_mq.hpp"
#include "mechanisms/shm/mmap_anon.hpp"
#include "mechanisms/shm/mmap_file.hpp"
#include "mechanisms/shm/posix_shm.hpp"
#include "mechanisms/shm/sysv_shm.hpp"
#include "mechanisms/sockets/tcp.hpp"
#include "mechanisms/sockets/udp.hpp"
#include "mechanisms/sockets/unix_dgram.hpp"
#include "mechanisms/sockets/unix_seqpacket.hpp"
#include "mechanisms/sockets/unix_stream.hpp"
#ifdef IPCBENCH_PLANT_DELAY
#include "registry/planted_delay.hpp"
#endif

namespace ipcbench {
namespace {

// `fan_in`: the mechanism also runs fan_in/N (many writers on one channel make sense for it).
template <channel C>
mechanism_entry make_entry(const char* id, bool fan_in = false) {
  mechanism_entry e;
  try {
    e.traits = C::describe();
  } catch (const std::exception& ex) {
    e.traits.id = e.traits.mechanism = id;
    e.unavailable = std::string("unavailable on this machine: ") + ex.what();
  }
  e.run = [traits = e.traits, unavailable = e.unavailable](const run_request& req) {
    if (!unavailable.empty()) {
      run_result r;
      r.status = run_status::skipped;
      r.reason = unavailable;
      return r;
    }
    return run_channel<C>(traits, req);
  };
  e.topologies = {topology::pairs};
  if (fan_in) e.topologies.push_back(topology::fan_in);
  e.run_group = [traits = e.traits, unavailable = e.unavailable, fan_in](
                    const run_request& req, topology t, std::size_t n) {
    run_result r;
    r.status = run_status::skipped;
    if (!unavailable.empty()) {
      r.reason = unavailable;
      return r;
    }
    if (t == topology::pairs) return run_pairs<C>(traits, req, n);
    if (t == topology::fan_in && fan_in) return run_fan_in<C>(traits, req, n);
    r.reason = traits.id + " does not run " + to_string(t);
    return r;
  };
  if constexpr (named_channel<C>) {
    e.can_spawn = true;
    e.attach = run_attached<C>;
  }
  return e;
}

}  // namespace

const std::vector<mechanism_entry>& registry() {
  static const std::vector<mechanism_entry> all = {
#ifdef IPCBENCH_PLANT_DELAY
      make_entry<delayed_channel<pipe_channel>>("pipe"),  // test-only: planted_delay.hpp
#else
      make_entry<pipe_channel>("pipe", true),
#endif
      make_entry<fifo_channel>("fifo", true),
      make_entry<unix_stream_channel>("unix_stream"),
      make_entry<tcp_channel>("tcp"),
      make_entry<pipe_resized_channel>("pipe.resized"),
      make_entry<pipe_vmsplice_channel>("pipe.vmsplice"),
      make_entry<sysv_shm_channel>("sysv_shm.sysv_sem"),
      make_entry<posix_shm_channel<posix_sem_sync>>("posix_shm.posix_sem"),
      make_entry<posix_shm_channel<futex_sync>>("posix_shm.futex"),
      make_entry<posix_shm_channel<adaptive_sync>>("posix_shm.adaptive"),
      make_entry<posix_shm_channel<spin_sync>>("posix_shm.spin"),
      make_entry<mmap_file_channel>("mmap_file.futex"),
      make_entry<mmap_anon_channel>("mmap_anon.futex"),
      make_entry<sysv_mq_channel>("sysv_mq", true),
      make_entry<posix_mq_channel>("posix_mq", true),
      make_entry<unix_dgram_channel>("unix_dgram", true),
      make_entry<unix_seqpacket_channel>("unix_seqpacket"),
      make_entry<udp_channel>("udp"),
      make_entry<rt_signal_channel>("signal"),
      make_entry<handler_signal_channel>("signal.handler"),
      make_entry<eventfd_channel>("eventfd"),
      make_entry<sysv_sem_channel>("sysv_sem"),
      make_entry<posix_sem_channel>("posix_sem"),
      make_entry<futex_channel>("futex"),
  };
  return all;
}

const mechanism_entry* find_mechanism(const std::string& id) {
  for (const auto& e : registry())
    if (e.traits.id == id) return &e;
  return nullptr;
}

}  // namespace ipcbench
