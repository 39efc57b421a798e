// Topology from recorded sysfs trees (written here into a temporary directory), the CPU choice
// made from them, and --cpus parsing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench/options.hpp"
#include "harness/placement.hpp"
#include "sys/topology.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

namespace fs = std::filesystem;

// A recorded /sys/devices/system/cpu, removed when the test ends.
class sysfs_tree {
 public:
  sysfs_tree() : root_(test::scratch_dir() / "sysfs-cpu") { fs::create_directories(root_); }
  ~sysfs_tree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const fs::path& root() const { return root_; }

  void write(const std::string& rel, const std::string& text) const {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text << "\n";
  }
  // cpu<N>/topology with the given ids and sibling list.
  void cpu(int n, int core, int package, const std::string& siblings) const {
    const std::string t = "cpu" + std::to_string(n) + "/topology/";
    write(t + "core_id", std::to_string(core));
    write(t + "physical_package_id", std::to_string(package));
    write(t + "die_id", "0");
    write(t + "thread_siblings_list", siblings);
    write(t + "core_cpus_list", siblings);
  }
  void cache(int n, int index, int level, const std::string& type, int id,
             const std::string& shared) const {
    const std::string c = "cpu" + std::to_string(n) + "/cache/index" + std::to_string(index) + "/";
    write(c + "level", std::to_string(level));
    write(c + "type", type);
    write(c + "id", std::to_string(id));
    write(c + "shared_cpu_list", shared);
  }

 private:
  fs::path root_;
};

std::vector<cpu_info> read_all(const sysfs_tree& t, const std::vector<int>& cpus) {
  std::vector<cpu_info> v;
  for (int c : cpus) v.push_back(read_cpu_info(c, t.root()));
  return v;
}

// Four CPUs, two cores with two threads each, numbered as Linux often does: CPUs 0 and 2 are
// core 0, CPUs 1 and 3 core 1. Each core has its own L2; one L3 for all.
void four_cpus_with_smt(const sysfs_tree& t) {
  for (int n = 0; n < 4; ++n) {
    const int core = n % 2;
    const std::string sib = core == 0 ? "0,2" : "1,3";
    t.cpu(n, core, 0, sib);
    t.cache(n, 0, 1, "Data", core, sib);
    t.cache(n, 1, 1, "Instruction", core, sib);
    t.cache(n, 2, 2, "Unified", core, sib);
    t.cache(n, 3, 3, "Unified", 0, "0-3");
  }
}

TEST(Topology, ParsesCpuLists) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("2,0"), (std::vector<int>{0, 2}));
  EXPECT_EQ(parse_cpu_list("5"), (std::vector<int>{5}));
  EXPECT_EQ(parse_cpu_list(""), std::vector<int>{});
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("a"));
  EXPECT_FALSE(parse_cpu_list("1,,2"));
}

TEST(Topology, ReadsFourCpusWithSmtSiblings) {
  sysfs_tree t;
  four_cpus_with_smt(t);
  const auto cpus = read_all(t, {0, 1, 2, 3});
  EXPECT_EQ(cpus[2].core_id, 0);
  EXPECT_EQ(cpus[3].core_id, 1);
  EXPECT_EQ(cpus[1].package_id, 0);
  EXPECT_EQ(cpus[1].die_id, 0);
  EXPECT_EQ(cpus[2].siblings, (std::vector<int>{0, 2}));
  ASSERT_EQ(cpus[1].caches.size(), 4u);
  ASSERT_NE(cpus[1].cache(2), nullptr);
  EXPECT_EQ(cpus[1].cache(2)->id, 1);
  EXPECT_EQ(cpus[1].cache(1)->type, "Data");  // the instruction cache is not the L1 data cache
  EXPECT_EQ(cpus[3].cache(3)->shared_cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(smt_siblings(cpus[0], cpus[2]), true);
  EXPECT_EQ(smt_siblings(cpus[1], cpus[3]), true);
  EXPECT_EQ(smt_siblings(cpus[1], cpus[2]), false);
  EXPECT_EQ(share_cache(cpus[1], cpus[2], 2), false);
  EXPECT_EQ(share_cache(cpus[1], cpus[3], 2), true);
  EXPECT_EQ(share_cache(cpus[0], cpus[3], 3), true);
  EXPECT_EQ(same_package(cpus[0], cpus[3]), true);
}

TEST(Topology, MissingFilesStayUnknown) {
  sysfs_tree t;
  // A VM that shows only core ids, a package id of -1 and an L3 without an id.
  t.write("cpu0/topology/core_id", "0");
  t.write("cpu0/topology/physical_package_id", "-1");
  t.write("cpu0/cache/index0/level", "3");
  t.write("cpu0/cache/index0/type", "Unified");
  t.write("cpu0/cache/index0/shared_cpu_list", "0-1");
  t.write("cpu1/topology/core_id", "1");
  const auto cpus = read_all(t, {0, 1, 7});  // CPU 7 has no directory at all
  EXPECT_EQ(cpus[0].core_id, 0);
  EXPECT_FALSE(cpus[0].package_id);
  EXPECT_FALSE(cpus[0].die_id);
  EXPECT_TRUE(cpus[0].siblings.empty());
  ASSERT_NE(cpus[0].cache(3), nullptr);
  EXPECT_FALSE(cpus[0].cache(3)->id);
  EXPECT_EQ(cpus[0].cache(2), nullptr);
  EXPECT_TRUE(cpus[1].caches.empty());
  EXPECT_EQ(cpus[2].cpu, 7);
  EXPECT_FALSE(cpus[2].core_id);
  // Nothing says whether 0 and 1 are siblings; the L3 list says they share it.
  EXPECT_FALSE(smt_siblings(cpus[0], cpus[1]));
  EXPECT_EQ(share_cache(cpus[0], cpus[1], 3), true);
  EXPECT_FALSE(share_cache(cpus[1], cpus[2], 3));
  EXPECT_FALSE(same_package(cpus[0], cpus[1]));
  // The choice still works, and says what it does not know.
  const auto c = choose_cpus(placement::cross, cpus);
  EXPECT_TRUE(c.impossible.empty());
  EXPECT_EQ(c.producer, 1);
  EXPECT_EQ(c.consumer, 7);
  EXPECT_FALSE(c.smt_siblings);
  EXPECT_NE(c.reason.find("does not say"), std::string::npos) << c.reason;
}

TEST(PlacementChoice, CrossAvoidsSiblingsAndCpu0) {
  sysfs_tree t;
  four_cpus_with_smt(t);
  const auto cpus = read_all(t, {0, 1, 2, 3});
  const auto c = choose_cpus(placement::cross, cpus);
  ASSERT_TRUE(c.impossible.empty()) << c.impossible;
  // 1 and 2 are the one pair on different cores without CPU 0.
  EXPECT_EQ(c.producer, 1);
  EXPECT_EQ(c.consumer, 2);
  EXPECT_EQ(c.smt_siblings, false);
  EXPECT_FALSE(c.given);
  ASSERT_EQ(c.chosen.size(), 2u);
  EXPECT_EQ(c.chosen[0].cpu, 1);
  EXPECT_NE(c.reason.find("not SMT siblings"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("share L3"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("CPU 0 left out"), std::string::npos) << c.reason;

  const auto s = choose_cpus(placement::same, cpus);
  EXPECT_EQ(s.producer, 1);
  EXPECT_EQ(s.consumer, 1);
  EXPECT_FALSE(s.smt_siblings);

  const auto n = choose_cpus(placement::none, cpus);
  EXPECT_EQ(n.producer, -1);
  EXPECT_TRUE(n.impossible.empty());
  EXPECT_TRUE(n.chosen.empty());
}

TEST(PlacementChoice, PrefersASharedL3) {
  sysfs_tree t;
  // Two packages of two cores, no SMT: CPUs 0,1 in package 0 (L3 0), 2,3 in package 1 (L3 1).
  for (int n = 0; n < 4; ++n) {
    t.cpu(n, n, n / 2, std::to_string(n));
    t.cache(n, 0, 3, "Unified", n / 2, n < 2 ? "0-1" : "2-3");
  }
  const auto c = choose_cpus(placement::cross, read_all(t, {0, 1, 2, 3}));
  EXPECT_EQ(c.producer, 2);
  EXPECT_EQ(c.consumer, 3);
  // Only CPUs 1 and 2 allowed: different packages, but that is all there is.
  const auto d = choose_cpus(placement::cross, read_all(t, {1, 2}));
  EXPECT_EQ(d.producer, 1);
  EXPECT_EQ(d.consumer, 2);
  EXPECT_NE(d.reason.find("different L3"), std::string::npos) << d.reason;
}

TEST(PlacementChoice, OnlySiblingsAreUsedAndSaidSo) {
  sysfs_tree t;
  four_cpus_with_smt(t);
  const auto c = choose_cpus(placement::cross, read_all(t, {1, 3}));
  ASSERT_TRUE(c.impossible.empty());
  EXPECT_EQ(c.producer, 1);
  EXPECT_EQ(c.consumer, 3);
  EXPECT_EQ(c.smt_siblings, true);
  EXPECT_NE(c.reason.find("only SMT siblings"), std::string::npos) << c.reason;
  // With two CPUs allowed CPU 0 is used: there is no other pair.
  const auto z = choose_cpus(placement::cross, read_all(t, {0, 1}));
  EXPECT_EQ(z.producer, 0);
  EXPECT_EQ(z.consumer, 1);
  EXPECT_EQ(z.smt_siblings, false);
}

TEST(PlacementChoice, SingleCpu) {
  sysfs_tree t;
  t.cpu(0, 0, 0, "0");
  t.cache(0, 0, 2, "Unified", 0, "0");
  const auto cpus = read_all(t, {0});
  const auto c = choose_cpus(placement::cross, cpus);
  EXPECT_NE(c.impossible.find("needs 2 CPUs"), std::string::npos) << c.impossible;
  EXPECT_EQ(c.producer, -1);
  const auto s = choose_cpus(placement::same, cpus);
  EXPECT_TRUE(s.impossible.empty());
  EXPECT_EQ(s.producer, 0);
  EXPECT_NE(s.reason.find("only allowed CPU"), std::string::npos) << s.reason;
}

TEST(PlacementChoice, OnlyCpu0AllowedOfFour) {
  sysfs_tree t;
  four_cpus_with_smt(t);
  const auto cpus = read_all(t, {0});
  EXPECT_FALSE(choose_cpus(placement::cross, cpus).impossible.empty());
  EXPECT_EQ(choose_cpus(placement::same, cpus).producer, 0);
  // Explicit CPUs outside the allowed set cannot be honoured.
  const auto g = choose_cpus(placement::cross, cpus, cpu_pair{0, 2});
  EXPECT_NE(g.impossible.find("CPU 2 is not in"), std::string::npos) << g.impossible;
}

TEST(PlacementChoice, GivenCpusAreTakenAsTheyAre) {
  sysfs_tree t;
  four_cpus_with_smt(t);
  const auto cpus = read_all(t, {0, 1, 2, 3});
  const auto c = choose_cpus(placement::cross, cpus, cpu_pair{2, 0});
  ASSERT_TRUE(c.impossible.empty()) << c.impossible;
  EXPECT_TRUE(c.given);
  EXPECT_EQ(c.producer, 2);
  EXPECT_EQ(c.consumer, 0);
  EXPECT_EQ(c.smt_siblings, true);
  EXPECT_NE(c.reason.find("--cpus"), std::string::npos) << c.reason;
  const auto s = choose_cpus(placement::same, cpus, cpu_pair{3, 3});
  EXPECT_EQ(s.producer, 3);
  EXPECT_EQ(s.consumer, 3);
  EXPECT_NE(choose_cpus(placement::same, cpus, cpu_pair{1, 3}).impossible, "");
}

TEST(PlacementChoice, ThisMachineAgreesWithItsAffinity) {
  const auto c = choose_cpus(placement::cross);
  if (c.impossible.empty()) {
    EXPECT_NE(c.producer, c.consumer);
    EXPECT_FALSE(c.reason.empty());
  }
}

struct cpus_case {
  std::string text;
  std::string expect;
};

TEST(CpusOption, ParsesTwoAllowedCpus) {
  const auto p = parse_cpus("3,1", {0, 1, 2, 3});
  EXPECT_EQ(p.producer, 3);
  EXPECT_EQ(p.consumer, 1);
  const auto s = parse_cpus("2,2", {2});
  EXPECT_EQ(s.producer, 2);
  EXPECT_EQ(s.consumer, 2);
  for (const cpus_case& c : std::vector<cpus_case>{{"1", "exactly two CPU numbers"},
                                                   {"1,2,3", "exactly two CPU numbers"},
                                                   {"", "exactly two CPU numbers"},
                                                   {"a,1", "'a' in 'a,1' is not a CPU number"},
                                                   {"1,", "'' in '1,' is not a CPU number"},
                                                   {"-1,2", "is not a CPU number"},
                                                   {"1,9", "CPU 9 is not one this process"},
                                                   {"99999999999,1", "is not a number"}}) {
    try {
      parse_cpus(c.text, {0, 1, 2, 3});
      ADD_FAILURE() << "'" << c.text << "' was accepted";
    } catch (const usage_error& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos)
          << c.text << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace ipcbench
