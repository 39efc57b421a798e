#include "sys/netns.hpp"

#include <net/if.h>  // before the linux/ headers, which would clash with its IFF_ names

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include "sys/error.hpp"
#include "sys/retry.hpp"

namespace ipcbench {
namespace {

// One rtnetlink request, its attributes appended in place (nested ones closed by end()).
class nl_request {
 public:
  nl_request(int type, int flags) {
    h()->nlmsg_len = NLMSG_LENGTH(0);
    h()->nlmsg_type = static_cast<std::uint16_t>(type);
    h()->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    h()->nlmsg_seq = 1;
  }
  nlmsghdr* h() noexcept { return reinterpret_cast<nlmsghdr*>(buf_); }
  void* put(const void* data, std::size_t n) {
    const std::size_t at = NLMSG_ALIGN(h()->nlmsg_len);
    if (at + n > sizeof buf_) throw std::length_error("rtnetlink request too long");
    std::memcpy(buf_ + at, data, n);
    h()->nlmsg_len = static_cast<std::uint32_t>(at + n);
    return buf_ + at;
  }
  rtattr* begin(int type) { return attr(type, nullptr, 0); }
  void end(rtattr* nest) noexcept {
    nest->rta_len =
        static_cast<std::uint16_t>(buf_ + h()->nlmsg_len - reinterpret_cast<char*>(nest));
  }
  rtattr* attr(int type, const void* data, std::size_t n) {
    rtattr a{static_cast<std::uint16_t>(RTA_LENGTH(n)), static_cast<std::uint16_t>(type)};
    auto* at = static_cast<rtattr*>(put(&a, sizeof a));
    if (n > 0) put(data, n);
    return at;
  }
  void attr(int type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }

 private:
  alignas(nlmsghdr) char buf_[1024] = {};
};

// A NETLINK_ROUTE socket of the calling thread's network namespace.
unique_fd route_socket() {
  unique_fd s(
      check(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), "socket(AF_NETLINK)"));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  check(::bind(s.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local),
        "bind(AF_NETLINK)");
  return s;
}

// Sends the request and waits for its acknowledgement; throws naming `what` on an error.
void talk(int s, nl_request& r, const std::string& what) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  check(::sendto(s, r.h(), r.h()->nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&kernel),
                 sizeof kernel),
        "sendto(rtnetlink, " + what + ")");
  alignas(nlmsghdr) char reply[4096];
  const ssize_t n = check(retry_on_eintr([&] { return ::recv(s, reply, sizeof reply, 0); }),
                          "recv(rtnetlink, " + what + ")");
  auto* h = reinterpret_cast<nlmsghdr*>(reply);
  if (!NLMSG_OK(h, static_cast<std::size_t>(n)) || h->nlmsg_type != NLMSG_ERROR)
    throw std::runtime_error("rtnetlink " + what + ": no acknowledgement");
  const int err = static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
  if (err != 0) throw_errno(what, -err);
}

void link_up(int s, int index, const std::string& name) {
  nl_request r(RTM_NEWLINK, 0);
  ifinfomsg i{};
  i.ifi_family = AF_UNSPEC;
  i.ifi_index = index;
  i.ifi_flags = IFF_UP;
  i.ifi_change = IFF_UP;
  r.put(&i, sizeof i);
  talk(s, r, "set " + name + " up");
}

void add_address(int s, int index, const char* address, const std::string& name) {
  nl_request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg a{};
  a.ifa_family = AF_INET;
  a.ifa_prefixlen = 24;
  a.ifa_index = static_cast<std::uint32_t>(index);
  r.put(&a, sizeof a);
  in_addr v{};
  ::inet_pton(AF_INET, address, &v);
  r.attr(IFA_LOCAL, &v, sizeof v);
  r.attr(IFA_ADDRESS, &v, sizeof v);
  talk(s, r, std::string("add ") + address + "/24 to " + name);
}

int index_of(const char* name) {
  const unsigned i = ::if_nametoindex(name);
  if (i == 0) throw_errno(std::string("if_nametoindex(") + name + ")");
  return static_cast<int>(i);
}

// This thread's network namespace, as a descriptor.
unique_fd own_netns() {
  return unique_fd(check(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC),
                         "open(/proc/thread-self/ns/net)"));
}

// Gives `ns` a configured end: its address, up, and the loopback up.
void configure(const char* ifname, const char* address) {
  unique_fd s = route_socket();
  const int index = index_of(ifname);
  add_address(s.get(), index, address, ifname);
  link_up(s.get(), index, ifname);
  link_up(s.get(), index_of("lo"), "lo");
}

// Waits until `ifname` of this thread's namespace is running (IFF_RUNNING: its carrier is on and
// the kernel's link watch has set it operationally up). Until then its queue discipline drops
// what is sent, and a TCP SYN lost so is sent again only after a second. Throws after 5 s.
void await_running(const char* ifname) {
  unique_fd s(check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket(AF_INET)"));
  ifreq q{};
  std::strncpy(q.ifr_name, ifname, IFNAMSIZ - 1);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    check(::ioctl(s.get(), SIOCGIFFLAGS, &q), std::string("ioctl(SIOCGIFFLAGS, ") + ifname + ")");
    if ((q.ifr_flags & IFF_RUNNING) != 0) return;
    if (std::chrono::steady_clock::now() > give_up)
      throw std::runtime_error(std::string(ifname) + " is up but not running after 5 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

veth_namespaces make_in_this_thread() {
  veth_namespaces ns;
  check(::unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
  ns.b = own_netns();
  check(::unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
  ns.a = own_netns();
  {
    // The veth pair in A, its peer end created straight in B.
    unique_fd s = route_socket();
    nl_request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    // Interface indices of their own: each fresh namespace numbers its links from 1, so both
    // ends would get 2. A veth end whose index equals its peer's (its iflink) is not an urgent
    // link event for the kernel's link watch, which then runs at most once a second: bringing the
    // pair up waited about 1 s in two runs out of three in a sweep.
    ifinfomsg i{};
    i.ifi_family = AF_UNSPEC;
    i.ifi_index = veth_namespaces::kIndexA;
    r.put(&i, sizeof i);
    r.attr(IFLA_IFNAME, std::string(veth_namespaces::kIfA));
    rtattr* info = r.begin(IFLA_LINKINFO);
    r.attr(IFLA_INFO_KIND, std::string("veth"));
    rtattr* data = r.begin(IFLA_INFO_DATA);
    rtattr* peer = r.begin(VETH_INFO_PEER);
    ifinfomsg p{};
    p.ifi_family = AF_UNSPEC;
    p.ifi_index = veth_namespaces::kIndexB;
    r.put(&p, sizeof p);
    r.attr(IFLA_IFNAME, std::string(veth_namespaces::kIfB));
    const std::uint32_t fd = static_cast<std::uint32_t>(ns.b.get());
    r.attr(IFLA_NET_NS_FD, &fd, sizeof fd);
    r.end(peer);
    r.end(data);
    r.end(info);
    talk(s.get(), r, "add the veth pair");
  }
  configure(veth_namespaces::kIfA, veth_namespaces::kAddrA);
  enter_netns(ns.b.get());
  configure(veth_namespaces::kIfB, veth_namespaces::kAddrB);
  await_running(veth_namespaces::kIfB);
  enter_netns(ns.a.get());
  await_running(veth_namespaces::kIfA);
  return ns;
}

}  // namespace

void enter_netns(int ns_fd) {
  check(::setns(ns_fd, CLONE_NEWNET), "setns(CLONE_NEWNET)");
}

veth_namespaces make_veth_namespaces() {
  // A thread of its own: unshare and setns move only the calling thread, which then ends.
  veth_namespaces ns;
  std::exception_ptr failed;
  std::thread t([&] {
    try {
      ns = make_in_this_thread();
    } catch (...) {
      failed = std::current_exception();
    }
  });
  t.join();
  if (failed) std::rethrow_exception(failed);
  return ns;
}

}  // namespace ipcbench
