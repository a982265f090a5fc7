#include "decent/data/dirichlet_split.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace {

using Catch::Matchers::Contains;
using decent::Partition;

/// N labels, class k % classes (balanced).
std::vector<int> balanced_labels(int n, int classes) {
  std::vector<int> labels(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) labels[static_cast<std::size_t>(k)] = k % classes;
  return labels;
}

/// counts[c] samples of class c, interleaved (class c at positions with k % classes == c while it lasts).
std::vector<int> labels_with_counts(std::vector<int> counts) {
  std::vector<int> labels;
  for (bool more = true; more;) {
    more = false;
    for (std::size_t c = 0; c < counts.size(); ++c)
      if (counts[c] > 0) {
        labels.push_back(static_cast<int>(c));
        --counts[c];
        more = true;
      }
  }
  return labels;
}

/// True if every index 0..n-1 is in exactly one part and each part is strictly ascending.
bool disjoint_covering_sorted(const Partition& parts, std::size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& part : parts) {
    if (std::adjacent_find(part.begin(), part.end(), [](auto a, auto b) { return a >= b; }) != part.end()) return false;
    for (const Eigen::Index k : part) {
      if (k < 0 || static_cast<std::size_t>(k) >= n) return false;
      ++seen[static_cast<std::size_t>(k)];
    }
  }
  return std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; });
}

std::size_t smallest(const Partition& parts) {
  std::size_t s = parts[0].size();
  for (const auto& part : parts) s = std::min(s, part.size());
  return s;
}

}  // namespace

TEST_CASE("partition_dirichlet_split is disjoint, covering and sorted", "[data][dirichlet_split]") {
  // min_size = 0: with alpha = 0.05 most of the 25 nodes get nothing (each class goes to about one node).
  const std::vector<int> labels = balanced_labels(3000, 6);
  for (const double alpha : {0.05, 0.5, 5.0}) {
    for (const int nodes : {1, 4, 25}) {
      const Partition parts = decent::partition_dirichlet_split(labels, 6, nodes, alpha, 0, 3);
      REQUIRE(parts.size() == static_cast<std::size_t>(nodes));
      CHECK(disjoint_covering_sorted(parts, labels.size()));
    }
  }
  // An empty class is fine: its samples are simply none.
  const std::vector<int> gap = labels_with_counts({50, 0, 70});
  CHECK(disjoint_covering_sorted(decent::partition_dirichlet_split(gap, 3, 3, 1.0, 5, 1), gap.size()));
}

TEST_CASE("partition_dirichlet_split is deterministic by seed", "[data][dirichlet_split]") {
  const std::vector<int> labels = balanced_labels(2000, 10);
  const Partition parts = decent::partition_dirichlet_split(labels, 10, 8, 0.5, 10, 42);
  CHECK(parts == decent::partition_dirichlet_split(labels, 10, 8, 0.5, 10, 42));
  CHECK(parts != decent::partition_dirichlet_split(labels, 10, 8, 0.5, 10, 43));
}

TEST_CASE("partition_dirichlet_split redraws until every node has min_size samples", "[data][dirichlet_split]") {
  // 10 nodes over 1000 samples (100 per node on average), alpha 0.5: the first draw leaves some node
  // below 60, so min_size = 60 needs redraws; min_size = 0 accepts the first draw.
  const std::vector<int> labels = balanced_labels(1000, 10);
  const Partition first = decent::partition_dirichlet_split(labels, 10, 10, 0.5, 0, 8);
  REQUIRE(smallest(first) < 60);
  const Partition redrawn = decent::partition_dirichlet_split(labels, 10, 10, 0.5, 60, 8);
  CHECK(smallest(redrawn) >= 60);
  CHECK(disjoint_covering_sorted(redrawn, labels.size()));
  // min_size = N / nodes is allowed: with a large alpha some attempt gives each of the 4 nodes exactly 25.
  const std::vector<int> tiny = balanced_labels(100, 2);
  const Partition exact = decent::partition_dirichlet_split(tiny, 2, 4, 1000.0, 25, 1);
  for (const auto& part : exact) CHECK(part.size() == 25);
}

TEST_CASE("partition_dirichlet_split balancing stops feeding full nodes", "[data][dirichlet_split]") {
  // A node stops receiving classes once it holds N / nodes = 200 samples, so it never exceeds
  // 200 + (the largest class, 100) samples, whatever the draw. Without the rule, alpha = 0.05 often gives
  // one node three or more whole classes.
  const std::vector<int> labels = balanced_labels(1000, 10);
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const Partition parts = decent::partition_dirichlet_split(labels, 10, 5, 0.05, 0, seed);
    for (const auto& part : parts) CHECK(part.size() < 300);
  }
}

TEST_CASE("partition_dirichlet_split has the requested label skew", "[data][dirichlet_split]") {
  SECTION("alpha = 0.1: most nodes are dominated by one or two classes") {
    // Over 300 seeds, the share of nodes whose two largest classes hold >= 70% of their samples had
    // mean 0.94 and minimum 0.82, and the mean largest-class share a minimum of 0.65.
    const std::vector<int> labels = balanced_labels(20000, 10);
    const Partition parts = decent::partition_dirichlet_split(labels, 10, 50, 0.1, 10, 17);
    int dominated = 0;
    double top_share = 0;
    for (const auto& part : parts) {
      std::vector<int> counts = decent::class_counts(labels, part, 10);
      std::sort(counts.begin(), counts.end(), std::greater<>());
      const auto size = static_cast<double>(part.size());
      if ((counts[0] + counts[1]) / size >= 0.7) ++dominated;
      top_share += counts[0] / size / 50;
    }
    CHECK(dominated >= 38);  // 75% of 50
    CHECK(top_share > 0.55);
  }
  SECTION("alpha = 1000: every node's class mix is close to the class prior") {
    // q_k ~ Dir(1000 1_10): entries 0.1 with relative sd 3%, so shares are within about 1% of the prior
    // (the worst of 300 seeds x 40 node-class pairs was 0.033).
    const std::vector<int> counts = {4000, 3000, 2000, 1000};
    const std::vector<int> labels = labels_with_counts(counts);
    const Partition parts = decent::partition_dirichlet_split(labels, 4, 10, 1000.0, 10, 17);
    for (const auto& part : parts) {
      CHECK(std::abs(static_cast<double>(part.size()) - 1000) < 100);
      const std::vector<int> held = decent::class_counts(labels, part, 4);
      for (std::size_t c = 0; c < 4; ++c)
        CHECK(std::abs(static_cast<double>(held[c]) / static_cast<double>(part.size()) - counts[c] / 10000.0) < 0.05);
    }
  }
}

TEST_CASE("partition_dirichlet_split rejects impossible requests", "[data][dirichlet_split]") {
  const std::vector<int> labels = balanced_labels(200, 2);
  // More than N / nodes per node cannot exist at all.
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 2, 10, 0.5, 21, 0),
                    Contains("min_size = 21") && Contains("200 / 10"));
  // Exactly N / nodes each is possible in principle, but alpha = 0.001 gives each class to about one node.
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 2, 10, 0.001, 20, 0),
                    Contains("1000 attempts") && Contains("min_size = 20") && Contains("10 nodes"));
  CHECK_THROWS_AS(decent::partition_dirichlet_split(labels, 2, 10, 0.001, 20, 0), std::invalid_argument);
}

TEST_CASE("partition_dirichlet_split validates its arguments", "[data][dirichlet_split]") {
  const std::vector<int> labels = balanced_labels(50, 5);
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 5, 2, 0.0, 10, 0), Contains("alpha"));
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 5, 2, -1.0, 10, 0), Contains("alpha"));
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 5, 2, std::nan(""), 10, 0), Contains("alpha"));
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 5, 2, HUGE_VAL, 10, 0), Contains("alpha"));
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 5, 0, 0.5, 10, 0), Contains("nodes = 0"));
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 0, 2, 0.5, 10, 0), Contains("classes = 0"));
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 4, 2, 0.5, 10, 0), Contains("labels[4] = 4"));
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 5, 2, 0.5, -1, 0), Contains("min_size = -1"));
}

TEST_CASE("partition_dirichlet_mix gives every node its own class mix, even where the per-class split cannot",
          "[data][dirichlet_split]") {
  // Fashion-MNIST's shape: 60000 balanced samples, 10 classes, 100 nodes, alpha 0.05 (the curricula paper's
  // smallest beta). The per-class split finds no draw with 10 samples on every node; the mix variant does.
  const std::vector<int> labels = balanced_labels(60000, 10);
  CHECK_THROWS_WITH(decent::partition_dirichlet_split(labels, 10, 100, 0.05, 10, 1), Contains("no split in 1000"));
  const Partition parts = decent::partition_dirichlet_mix(labels, 10, 100, 0.05, 10, 1);
  REQUIRE(parts.size() == 100);
  CHECK(disjoint_covering_sorted(parts, labels.size()));
  CHECK(smallest(parts) >= 10);
  // Skew: at alpha 0.05 a node's largest class holds most of its samples; at alpha 1000 the mixes are near
  // uniform, every class splits evenly and each node holds about a tenth of each.
  int dominated = 0;
  for (const auto& part : parts) {
    std::vector<int> count(10, 0);
    for (const Eigen::Index k : part) ++count[static_cast<std::size_t>(labels[static_cast<std::size_t>(k)])];
    dominated += *std::max_element(count.begin(), count.end()) * 2 > static_cast<int>(part.size());
  }
  CHECK(dominated > 80);
  const Partition even = decent::partition_dirichlet_mix(labels, 10, 100, 1000.0, 10, 1);
  CHECK(disjoint_covering_sorted(even, labels.size()));
  for (const auto& part : even) CHECK(std::abs(static_cast<double>(part.size()) - 600.0) < 100.0);
  CHECK(decent::partition_dirichlet_mix(labels, 10, 100, 0.05, 10, 1) == parts);  // deterministic by seed
  CHECK(decent::partition_dirichlet_mix(labels, 10, 100, 0.05, 10, 2) != parts);
  CHECK_THROWS_WITH(decent::partition_dirichlet_mix(labels, 10, 100, 0.0, 10, 1),
                    Contains("partition_dirichlet_mix: alpha"));
}
