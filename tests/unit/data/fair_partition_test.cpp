#include "decent/data/fair_partition.hpp"

#include "support/error_of.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace {

using Catch::Matchers::Contains;
using decent::Dataset;
using decent::Partition;
using decent::partition_fair;

constexpr int positive = 2;  // not 1, so Y = 1[label == positive] differs from the label

/// n samples of 3 classes: label k % 3, Z = 1 for two in five consecutive triples, so
/// P(Z = 1) = 0.4, P(Y = 1) = 1/3 and the four cells (Z, Y) have different sizes.
Dataset fair_set(Eigen::Index n) {
  Dataset d;
  d.name = "fair";
  d.classes = 3;
  d.features = Eigen::MatrixXf::Zero(1, n);
  for (Eigen::Index k = 0; k < n; ++k) {
    d.labels.push_back(static_cast<int>(k % 3));
    d.groups.push_back((k / 3) % 5 < 2 ? 1 : 0);
  }
  return d;
}

/// 2 Z + Y of sample k.
int cell_of(const Dataset& d, Eigen::Index k) {
  const auto j = static_cast<std::size_t>(k);
  return 2 * d.groups[j] + (d.labels[j] == positive ? 1 : 0);
}

std::array<int, 4> cell_counts(const Dataset& d, const std::vector<Eigen::Index>& part) {
  std::array<int, 4> counts{};
  for (Eigen::Index k : part) ++counts[static_cast<std::size_t>(cell_of(d, k))];
  return counts;
}

/// Every node non-empty and sorted without repeats, every sample in exactly one node.
void check_disjoint_cover(const Partition& parts, Eigen::Index n) {
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  for (const auto& part : parts) {
    CHECK_FALSE(part.empty());
    CHECK(std::adjacent_find(part.begin(), part.end(), [](auto a, auto b) { return a >= b; }) == part.end());
    for (Eigen::Index k : part) ++seen[static_cast<std::size_t>(k)];
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
}

/// team[k] = 0 if sample k is on an even node (team A), 1 if on an odd node.
std::vector<int> teams(const Partition& parts, Eigen::Index n) {
  std::vector<int> team(static_cast<std::size_t>(n), -1);
  for (std::size_t i = 0; i < parts.size(); ++i)
    for (Eigen::Index k : parts[i]) team[static_cast<std::size_t>(k)] = static_cast<int>(i % 2);
  return team;
}

/// For the nodes i = first, first + step, ...: the largest minus the smallest count of each cell, and of the size.
int largest_spread(const Dataset& d, const Partition& parts, std::size_t first, std::size_t step) {
  int spread = 0;
  for (int c = 0; c < 5; ++c) {  // cells 0..3, then c = 4: the node sizes
    int lo = 1 << 30, hi = -1;
    for (std::size_t i = first; i < parts.size(); i += step) {
      const int count = c < 4 ? cell_counts(d, parts[i])[static_cast<std::size_t>(c)]
                              : static_cast<int>(parts[i].size());
      lo = std::min(lo, count);
      hi = std::max(hi, count);
    }
    spread = std::max(spread, hi - lo);
  }
  return spread;
}

std::string error_of(const std::function<void()>& f) { return decent::test::error_of<decent::input_error>(f); }

}  // namespace

TEST_CASE("fair partitions are disjoint and cover every sample", "[data][fair_partition]") {
  const Dataset d = fair_set(3001);
  for (const char* spec : {"fair-iid", "fair-heterogeneity:92", "fair-heterogeneity:37.5", "fair-synergy"})
    for (const int nodes : {2, 3, 6, 11}) {
      INFO(spec << " over " << nodes << " nodes");
      const Partition parts = partition_fair(d, spec, nodes, positive, 7);
      REQUIRE(parts.size() == static_cast<std::size_t>(nodes));
      check_disjoint_cover(parts, d.size());
    }
  const Partition one = partition_fair(d, "fair-iid", 1, positive, 7);
  REQUIRE(one.size() == 1);
  CHECK(one[0].size() == 3001);
}

TEST_CASE("fair-iid gives every node the same cell counts up to one", "[data][fair_partition]") {
  const Dataset d = fair_set(10007);
  for (const int nodes : {2, 7, 16}) {
    INFO(nodes << " nodes");
    const Partition parts = partition_fair(d, "fair-iid", nodes, positive, 3);
    CHECK(largest_spread(d, parts, 0, 1) <= 1);
    // So each node's share of a cell is the data's share up to (nodes + 1) / size.
    const std::array<int, 4> all = cell_counts(d, [&] {
      std::vector<Eigen::Index> every(static_cast<std::size_t>(d.size()));
      for (Eigen::Index k = 0; k < d.size(); ++k) every[static_cast<std::size_t>(k)] = k;
      return every;
    }());
    for (const auto& part : parts) {
      const std::array<int, 4> counts = cell_counts(d, part);
      for (std::size_t c = 0; c < 4; ++c)
        CHECK(std::abs(counts[c] - static_cast<double>(all[c]) / nodes) < 1);
    }
  }
}

TEST_CASE("fair-heterogeneity gives team A P percent of Z = 1 and 100 - P percent of Z = 0", "[data][fair_partition]") {
  const Dataset d = fair_set(40000);
  for (const double percent : {92.0, 30.0})
    for (const int nodes : {2, 5}) {
      INFO(percent << "% over " << nodes << " nodes");
      const Partition parts =
          partition_fair(d, "fair-heterogeneity:" + std::to_string(static_cast<int>(percent)), nodes, positive, 5);
      const std::vector<int> team = teams(parts, d.size());
      double z1 = 0, z1_in_a = 0, z0 = 0, z0_in_a = 0;
      for (std::size_t k = 0; k < team.size(); ++k) {
        const bool in_a = team[k] == 0;
        if (d.groups[k] == 1) {
          z1 += 1;
          z1_in_a += in_a;
        } else {
          z0 += 1;
          z0_in_a += in_a;
        }
      }
      // Each sample's team is a Bernoulli draw: a share over m samples has sd sqrt(p (1 - p) / m).
      const double p = percent / 100;
      CHECK(std::abs(z1_in_a / z1 - p) < 5 * std::sqrt(p * (1 - p) / z1));
      CHECK(std::abs(z0_in_a / z0 - (1 - p)) < 5 * std::sqrt(p * (1 - p) / z0));
      // Inside each team the nodes are dealt evenly.
      CHECK(largest_spread(d, parts, 0, 2) <= 1);
      CHECK(largest_spread(d, parts, 1, 2) <= 1);
    }
}

TEST_CASE("fair-synergy gives team A its two cells up to the 1 percent swap", "[data][fair_partition]") {
  const Dataset d = fair_set(40000);
  for (const int nodes : {2, 4, 7}) {
    INFO(nodes << " nodes");
    const Partition parts = partition_fair(d, "fair-synergy", nodes, positive, 9);
    const std::vector<int> team = teams(parts, d.size());
    // Team A's cells are (Z, Y) = (0, 0) and (1, 1): cell 0 and cell 3.
    double own = 0, own_in_a = 0, other = 0, other_in_a = 0;
    for (Eigen::Index k = 0; k < d.size(); ++k) {
      const int c = cell_of(d, k);
      const bool in_a = team[static_cast<std::size_t>(k)] == 0;
      if (c == 0 || c == 3) {
        own += 1;
        own_in_a += in_a;
      } else {
        other += 1;
        other_in_a += in_a;
      }
    }
    // The cells' sizes: (0, 0) about 0.6 * 2/3 and (1, 1) 0.4 / 3 of the samples: 15999 + 5334 = 21333 are A's.
    CHECK(own == 21333);
    // Each sample moves with probability 0.01: sd sqrt(0.01 * 0.99 / m).
    const double sd_own = std::sqrt(0.0099 / own), sd_other = std::sqrt(0.0099 / other);
    CHECK(std::abs(own_in_a / own - 0.99) < 5 * sd_own);
    CHECK(std::abs(other_in_a / other - 0.01) < 5 * sd_other);
    // So about 99% of team A's samples come from its two cells: 0.99 * 21333 / (0.99 * 21333 + 0.01 * 18667).
    const double from_own = own_in_a / (own_in_a + other_in_a);
    const double expected = 0.99 * own / (0.99 * own + 0.01 * other);
    CHECK(expected == Approx(0.99124).epsilon(1e-4));
    CHECK(std::abs(from_own - expected) < 0.003);  // 5 sd of the share (~ 0.0006 each)
    CHECK(largest_spread(d, parts, 0, 2) <= 1);
    CHECK(largest_spread(d, parts, 1, 2) <= 1);
  }
}

TEST_CASE("fair partitions are deterministic by seed", "[data][fair_partition]") {
  const Dataset d = fair_set(2000);
  for (const char* spec : {"fair-iid", "fair-heterogeneity:92", "fair-synergy"}) {
    INFO(spec);
    CHECK(partition_fair(d, spec, 4, positive, 1) == partition_fair(d, spec, 4, positive, 1));
    CHECK(partition_fair(d, spec, 4, positive, 1) != partition_fair(d, spec, 4, positive, 2));
  }
  // The positive class defines Y: the synergy teams change with it.
  CHECK(partition_fair(d, "fair-synergy", 2, 2, 1) != partition_fair(d, "fair-synergy", 2, 0, 1));
}

TEST_CASE("partition_fair rejects bad specs and data and too few or too many nodes", "[data][fair_partition]") {
  const Dataset d = fair_set(300);
  struct Bad {
    const char* spec;
    int nodes;
    const char* says;
  };
  for (const Bad& bad : {
           Bad{"iid", 2, "partition: 'iid' is not a fairness split (allowed: fair-iid, fair-heterogeneity:P, "
                         "fair-synergy)"},
           Bad{"fair-heterogeneity", 2, "P must be a percentage in (0, 100), got ''"},
           Bad{"fair-heterogeneity:", 2, "P must be a percentage in (0, 100), got ''"},
           Bad{"fair-heterogeneity:0", 2, "got '0'"},
           Bad{"fair-heterogeneity:100", 2, "got '100'"},
           Bad{"fair-heterogeneity:-5", 2, "got '-5'"},
           Bad{"fair-heterogeneity:92%", 2, "got '92%'"},
           Bad{"fair-heterogeneity:nan", 2, "got 'nan'"},
           Bad{"fair-heterogeneity:abc", 2, "partition: 'fair-heterogeneity:abc': P must be"},
           Bad{"fair-iid", 0, "partition: fair-iid: needs nodes >= 1, got nodes = 0"},
           Bad{"fair-synergy", 1, "partition: fair-synergy: needs nodes >= 2 (two teams"},
           Bad{"fair-heterogeneity:92", 1, "needs nodes >= 2"},
       }) {
    INFO(bad.spec << " over " << bad.nodes << " nodes");
    CHECK_THAT(error_of([&] { partition_fair(d, bad.spec, bad.nodes, positive, 1); }), Contains(bad.says));
  }

  Dataset no_groups = d;
  no_groups.groups.clear();
  CHECK_THAT(error_of([&] { partition_fair(no_groups, "fair-iid", 2, positive, 1); }),
             Contains("partition: fair-iid: needs a sensitive attribute: give group-file or sensitive, or dataset = "
                      "synthetic-fair"));
  Dataset regression = d;
  regression.classes = 0;
  regression.labels.clear();
  regression.targets = Eigen::VectorXf::Zero(d.size());
  CHECK_THAT(error_of([&] { partition_fair(regression, "fair-synergy", 2, 0, 1); }),
             Contains("needs class labels") && Contains("'fair'"));
  for (const int bad_positive : {3, -1})
    CHECK_THAT(error_of([&] { partition_fair(d, "fair-synergy", 2, bad_positive, 1); }),
               Contains("positive class " + std::to_string(bad_positive) + " is outside [0, classes = 3)"));

  // Too many nodes: the round-robin deal leaves the last nodes empty.
  const Dataset tiny = fair_set(3);
  CHECK_THAT(error_of([&] { partition_fair(tiny, "fair-iid", 4, positive, 1); }),
             Contains("node 3 gets no samples (3 samples over 4 nodes): use fewer nodes"));
  const std::string what = error_of([&] { partition_fair(tiny, "fair-synergy", 8, positive, 1); });
  CHECK_THAT(what, Contains("gets no samples") && Contains("team A (even ids)") && Contains("use fewer nodes"));
}

TEST_CASE("fair_partition_names lists the three splits", "[data][fair_partition]") {
  CHECK(decent::fair_partition_names() == std::vector<std::string>{"fair-iid", "fair-heterogeneity:P", "fair-synergy"});
}
