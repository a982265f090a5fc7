#include "decent/data/partition.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
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

/// The largest class share of each node.
std::vector<double> largest_shares(const std::vector<int>& labels, const Partition& parts, int classes) {
  std::vector<double> shares;
  for (const auto& part : parts) {
    const std::vector<int> counts = decent::class_counts(labels, part, classes);
    shares.push_back(static_cast<double>(*std::max_element(counts.begin(), counts.end())) /
                     static_cast<double>(part.size()));
  }
  return shares;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

bool sorted_unique(const std::vector<Eigen::Index>& v) { return std::adjacent_find(v.begin(), v.end(), [](auto a, auto b) { return a >= b; }) == v.end(); }

}  // namespace

TEST_CASE("partition_iid covers every index exactly once in near-equal parts", "[data][partition]") {
  for (const int nodes : {1, 3, 7, 100}) {
    const Eigen::Index n = 1003;
    const Partition parts = decent::partition_iid(n, nodes, 5);
    REQUIRE(parts.size() == static_cast<std::size_t>(nodes));
    std::vector<int> seen(static_cast<std::size_t>(n), 0);
    std::size_t smallest = parts[0].size(), largest = parts[0].size();
    for (std::size_t i = 0; i < parts.size(); ++i) {
      CHECK(sorted_unique(parts[i]));
      CHECK(parts[i].size() == static_cast<std::size_t>(n / nodes + (static_cast<Eigen::Index>(i) < n % nodes)));
      smallest = std::min(smallest, parts[i].size());
      largest = std::max(largest, parts[i].size());
      for (Eigen::Index k : parts[i]) ++seen[static_cast<std::size_t>(k)];
    }
    CHECK(largest - smallest <= 1);
    CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
  }
}

TEST_CASE("partition_iid is deterministic by seed and shuffles", "[data][partition]") {
  CHECK(decent::partition_iid(500, 4, 1) == decent::partition_iid(500, 4, 1));
  CHECK(decent::partition_iid(500, 4, 1) != decent::partition_iid(500, 4, 2));
  // Not the contiguous split 0..124: a shuffled node holds indices from the whole range.
  const Partition parts = decent::partition_iid(500, 4, 1);
  CHECK(parts[0].back() > 400);
  CHECK_THROWS_WITH(decent::partition_iid(500, 0, 1), Contains("nodes = 0"));
  CHECK_THROWS_WITH(decent::partition_iid(3, 4, 1), Contains("samples = 3") && Contains("nodes = 4"));
}

TEST_CASE("dirichlet_proportions has the Dirichlet mean and variance", "[data][partition]") {
  // p_c ~ Beta(alpha, (C-1) alpha): mean 1/C, variance (1/C)(1 - 1/C) / (C alpha + 1). With 20000 nodes the
  // sample variance has a relative sd of about sqrt(2 / 20000) * (kurtosis factor <= 3) < 3%: 12% is safe.
  const int classes = 4;
  for (const double alpha : {0.3, 1.0, 5.0}) {
    const Eigen::MatrixXd p = decent::dirichlet_proportions(classes, 20000, alpha, 9);
    CHECK((p.colwise().sum().array() - 1).abs().maxCoeff() < 1e-12);
    CHECK(p.minCoeff() >= 0);
    const double m = 1.0 / classes;
    const double var = m * (1 - m) / (classes * alpha + 1);
    for (int c = 0; c < classes; ++c) {
      const Eigen::ArrayXd row = p.row(c).array();
      CHECK(row.mean() == Approx(m).margin(5 * std::sqrt(var / 20000)));
      CHECK((row - row.mean()).square().mean() == Approx(var).epsilon(0.12));
    }
  }
  // Tiny alpha does not underflow into an all-zero (NaN after normalizing) column.
  const Eigen::MatrixXd tiny = decent::dirichlet_proportions(10, 1000, 0.001, 3);
  CHECK(tiny.allFinite());
  CHECK((tiny.colwise().sum().array() - 1).abs().maxCoeff() < 1e-12);
  // A node's proportions do not depend on the node count.
  CHECK(decent::dirichlet_proportions(5, 3, 0.5, 4) == decent::dirichlet_proportions(5, 8, 0.5, 4).leftCols(3));
}

TEST_CASE("partition_dirichlet has the requested label skew", "[data][partition]") {
  const int classes = 10;
  const std::vector<int> labels = balanced_labels(10000, classes);
  SECTION("alpha = 0.1: nodes are dominated by one or two classes") {
    // E[max p_i] = 0.66 for Dir(0.1 * 1_10), sd 0.19; over 200 nodes the mean has sd ~0.014, so 0.6 is
    // over 4 sd below it.
    const Partition parts = decent::partition_dirichlet(labels, classes, 200, 0.1, 100, 17);
    CHECK(mean(largest_shares(labels, parts, classes)) > 0.6);
  }
  SECTION("alpha = 100: shares are close to 1/C") {
    // p_ic ~ Beta(100, 900): sd 0.0095; 500 draws add sd 0.013: a share of 0.2 is over 6 sd above 0.1.
    const Partition parts = decent::partition_dirichlet(labels, classes, 50, 100.0, 500, 17);
    const std::vector<double> shares = largest_shares(labels, parts, classes);
    CHECK(*std::max_element(shares.begin(), shares.end()) < 0.2);
    CHECK(mean(shares) < 0.16);
  }
}

TEST_CASE("partition_dirichlet draws classes in proportion to p_i", "[data][partition]") {
  // Large classes (5000 each), few draws per node: depletion changes the weights by < 2%.
  const int classes = 5;
  const int nodes = 100;
  const Eigen::Index per_node = 100;
  const std::vector<int> labels = balanced_labels(25000, classes);
  const Partition parts = decent::partition_dirichlet(labels, classes, nodes, 1.0, per_node, 23);
  const Eigen::MatrixXd p = decent::dirichlet_proportions(classes, nodes, 1.0, 23);
  // Per class, the total count over nodes is a sum of independent (nearly) binomials: compare with its
  // expectation in units of its standard deviation.
  for (int c = 0; c < classes; ++c) {
    double count = 0, expected = 0, variance = 0;
    for (int i = 0; i < nodes; ++i) {
      count += decent::class_counts(labels, parts[static_cast<std::size_t>(i)], classes)[static_cast<std::size_t>(c)];
      const double q = p(c, i);
      expected += static_cast<double>(per_node) * q;
      variance += static_cast<double>(per_node) * q * (1 - q);
    }
    CHECK(std::abs(count - expected) < 5 * std::sqrt(variance) + 0.02 * expected);
  }
}

TEST_CASE("partition_dirichlet sizes, uniqueness, overlap and determinism", "[data][partition]") {
  const std::vector<int> labels = balanced_labels(3000, 6);
  const Partition parts = decent::partition_dirichlet(labels, 6, 12, 0.5, 400, 99);
  REQUIRE(parts.size() == 12);
  for (const auto& part : parts) {
    CHECK(part.size() == 400);
    CHECK(sorted_unique(part));  // sorted with no duplicates within a node
    CHECK(part.front() >= 0);
    CHECK(part.back() < 3000);
  }
  CHECK(parts == decent::partition_dirichlet(labels, 6, 12, 0.5, 400, 99));
  CHECK(parts != decent::partition_dirichlet(labels, 6, 12, 0.5, 400, 100));
  // Node i's draw does not depend on the node count.
  const Partition fewer = decent::partition_dirichlet(labels, 6, 5, 0.5, 400, 99);
  CHECK(std::equal(fewer.begin(), fewer.end(), parts.begin()));
  // Nodes draw independently, so with 12 x 400 draws from 3000 samples some samples are shared.
  std::set<Eigen::Index> all;
  for (const auto& part : parts) all.insert(part.begin(), part.end());
  CHECK(all.size() < 12 * 400);
}

TEST_CASE("partition_dirichlet moves on when a class is exhausted", "[data][partition]") {
  // 90 samples of class 0 and 10 of class 1; asking for all 100 must return every sample once,
  // whatever the proportions (a node that prefers class 1 continues with class 0 after 10 draws).
  std::vector<int> labels(100, 0);
  for (int k = 0; k < 10; ++k) labels[static_cast<std::size_t>(7 * k + 3)] = 1;
  const Partition parts = decent::partition_dirichlet(labels, 2, 20, 0.05, 100, 1);
  for (const auto& part : parts) {
    REQUIRE(part.size() == 100);
    for (Eigen::Index k = 0; k < 100; ++k) CHECK(part[static_cast<std::size_t>(k)] == k);
  }
  // A node whose proportions favour class 1 takes all 10 of its samples among its first draws.
  const Eigen::MatrixXd p = decent::dirichlet_proportions(2, 20, 0.05, 1);
  const Partition small = decent::partition_dirichlet(labels, 2, 20, 0.05, 15, 1);
  int favouring = 0;
  for (int i = 0; i < 20; ++i)
    if (p(1, i) > 0.999999) {
      ++favouring;
      CHECK(decent::class_counts(labels, small[static_cast<std::size_t>(i)], 2) == std::vector<int>{5, 10});
    }
  CHECK(favouring > 0);  // Dir(0.05, 0.05) puts about a quarter of the nodes there
}

TEST_CASE("partition_dirichlet validates its arguments", "[data][partition]") {
  const std::vector<int> labels = balanced_labels(50, 5);
  CHECK_THROWS_WITH(decent::partition_dirichlet(labels, 5, 2, 0.5, 51, 0), Contains("per_node = 51") && Contains("50"));
  CHECK_THROWS_WITH(decent::partition_dirichlet(labels, 5, 2, 0.5, 0, 0), Contains("per_node = 0"));
  CHECK_THROWS_WITH(decent::partition_dirichlet(labels, 5, 2, 0.0, 10, 0), Contains("alpha"));
  CHECK_THROWS_WITH(decent::partition_dirichlet(labels, 5, 2, -1.0, 10, 0), Contains("alpha"));
  CHECK_THROWS_WITH(decent::partition_dirichlet(labels, 5, 2, std::nan(""), 10, 0), Contains("alpha"));
  CHECK_THROWS_WITH(decent::partition_dirichlet(labels, 5, 0, 0.5, 10, 0), Contains("nodes = 0"));
  CHECK_THROWS_WITH(decent::partition_dirichlet(labels, 0, 2, 0.5, 10, 0), Contains("classes = 0"));
  CHECK_THROWS_WITH(decent::partition_dirichlet(labels, 4, 2, 0.5, 10, 0), Contains("labels[4] = 4"));
  CHECK_THROWS_AS(decent::partition_dirichlet(labels, 4, 2, 0.5, 10, 0), std::invalid_argument);
}

TEST_CASE("partition_shards gives each node shards_per_node shards of few classes", "[data][partition]") {
  SECTION("classes that are multiples of the shard size: one class per shard") {
    std::vector<int> labels = balanced_labels(1000, 10);
    const Partition parts = decent::partition_shards(labels, 10, 2, 3);
    std::vector<int> seen(1000, 0);
    for (const auto& part : parts) {
      REQUIRE(part.size() == 100);  // 2 shards of 1000 / 20
      CHECK(sorted_unique(part));
      const std::vector<int> counts = decent::class_counts(labels, part, 10);
      const auto distinct = std::count_if(counts.begin(), counts.end(), [](int c) { return c > 0; });
      CHECK(distinct <= 2);
      for (int c : counts) CHECK((c == 0 || c == 50 || c == 100));
      for (Eigen::Index k : part) ++seen[static_cast<std::size_t>(k)];
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
  }
  SECTION("uneven classes and a remainder") {
    // 1003 samples, class sizes 80..120, 7 nodes x 3 shards of 47: 16 samples are left out.
    std::vector<int> labels;
    for (int c = 0; c < 9; ++c) labels.insert(labels.end(), static_cast<std::size_t>(80 + 5 * c), c);
    labels.insert(labels.end(), 1003 - labels.size(), 9);
    const Partition parts = decent::partition_shards(labels, 7, 3, 8);
    std::set<Eigen::Index> all;
    for (const auto& part : parts) {
      REQUIRE(part.size() == 141);
      const std::vector<int> counts = decent::class_counts(labels, part, 10);
      CHECK(std::count_if(counts.begin(), counts.end(), [](int c) { return c > 0; }) <= 6);
      all.insert(part.begin(), part.end());
    }
    CHECK(all.size() == 7 * 141);  // disjoint
  }
  std::vector<int> labels = balanced_labels(200, 4);
  CHECK(decent::partition_shards(labels, 5, 2, 1) == decent::partition_shards(labels, 5, 2, 1));
  CHECK(decent::partition_shards(labels, 5, 2, 1) != decent::partition_shards(labels, 5, 2, 2));
  CHECK_THROWS_WITH(decent::partition_shards(labels, 0, 2, 1), Contains("nodes = 0"));
  CHECK_THROWS_WITH(decent::partition_shards(labels, 5, 0, 1), Contains("shards_per_node = 0"));
  CHECK_THROWS_WITH(decent::partition_shards(labels, 101, 2, 1), Contains("nodes * shards_per_node = 202"));
  labels[3] = -1;
  CHECK_THROWS_WITH(decent::partition_shards(labels, 5, 2, 1), Contains("labels[3] = -1"));
}

TEST_CASE("class_counts counts labels of a subset", "[data][partition]") {
  const std::vector<int> labels{0, 2, 2, 1, 0, 2};
  const std::vector<Eigen::Index> some{1, 2, 4, 5};
  CHECK(decent::class_counts(labels, some, 3) == std::vector<int>{1, 0, 3});
  CHECK(decent::class_counts(labels, some, 4) == std::vector<int>{1, 0, 3, 0});
  CHECK(decent::class_counts(labels, {}, 2) == std::vector<int>{0, 0});
  const std::vector<Eigen::Index> outside{6};
  CHECK_THROWS_AS(decent::class_counts(labels, outside, 3), std::out_of_range);
  CHECK_THROWS_AS(decent::class_counts(labels, some, 2), std::out_of_range);
  CHECK_THROWS_AS(decent::class_counts(labels, some, 0), std::invalid_argument);
}
