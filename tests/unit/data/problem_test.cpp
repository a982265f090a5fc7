#include "decent/data/problem.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <set>

#include "decent/core/error.hpp"

namespace {

using Catch::Matchers::Contains;
using namespace decent;

DataOptions synthetic(bool regression = false) {
  DataOptions o;
  o.dataset = "synthetic";
  o.regression = regression;
  o.synthetic_samples = 400;
  o.synthetic_dim = 6;
  o.synthetic_classes = 3;
  o.eval_samples = 50;
  o.nodes = 4;
  return o;
}

}  // namespace

TEST_CASE("seeded_permutation: a permutation, the same for a seed, another for another seed") {
  const auto a = seeded_permutation(100, 7), b = seeded_permutation(100, 7), c = seeded_permutation(100, 8);
  std::vector<Eigen::Index> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<Eigen::Index> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(seeded_permutation(0, 1).empty());
}

TEST_CASE("seeded_subset keeps a seeded choice in the original order, or everything when it is small") {
  Dataset d;
  d.features = Eigen::MatrixXf(1, 10);
  for (int k = 0; k < 10; ++k) d.features(0, k) = static_cast<float>(k);
  d.labels = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  d.classes = 2;
  d.name = "ten";
  const Dataset s = seeded_subset(d, 4, 3, "four");
  REQUIRE(s.size() == 4);
  CHECK(s.name == "ten (four)");
  for (Eigen::Index k = 1; k < 4; ++k) CHECK(s.features(0, k) > s.features(0, k - 1));
  for (Eigen::Index k = 0; k < 4; ++k) CHECK(s.labels[static_cast<std::size_t>(k)] == static_cast<int>(s.features(0, k)) % 2);
  CHECK(seeded_subset(d, 10, 3, "all").size() == 10);
}

TEST_CASE("load_data: synthetic classification is split 80/20 and the eval set cut to eval_samples") {
  const LoadedData data = load_data(synthetic());
  CHECK(data.train.size() == 400);  // 500 samples, 20% held out
  CHECK(data.test.size() == 50);
  CHECK(data.train.classes == 3);
  CHECK(data.train.dim() == 6);
  CHECK(data.by_node.empty());
  CHECK_THAT(data.source, Contains("Gaussian mixture (3 classes)"));
  // Deterministic in the seed.
  const LoadedData again = load_data(synthetic());
  CHECK(again.train.features == data.train.features);
  CHECK(again.test.labels == data.test.labels);
}

TEST_CASE("load_data: heterogeneous regression gives every node its own samples, which fix the partition") {
  DataOptions o = synthetic(true);
  o.synthetic_heterogeneity = 1.0;
  const LoadedData data = load_data(o);
  REQUIRE(data.by_node.size() == 4);
  CHECK_FALSE(data.train.classification());
  PartitionOptions p;
  p.nodes = 4;
  p.partition = "iid";
  CHECK(partition_data(data, p) == data.by_node);
}

TEST_CASE("partition_data: iid covers every training sample once, label splits refuse regression data") {
  const LoadedData data = load_data(synthetic());
  PartitionOptions p;
  p.nodes = 4;
  p.partition = "iid";
  std::multiset<Eigen::Index> seen;
  for (const auto& node : partition_data(data, p)) seen.insert(node.begin(), node.end());
  CHECK(seen.size() == 400);
  CHECK(std::set<Eigen::Index>(seen.begin(), seen.end()).size() == 400);
  p.partition = "dirichlet";
  CHECK(partition_data(data, p).size() == 4);
  const LoadedData regression = load_data(synthetic(true));
  CHECK_THROWS_AS(partition_data(regression, p), input_error);
  CHECK_THROWS_WITH(partition_data(regression, p), Contains("partition: dirichlet needs class labels"));
  p.partition = "rows";
  CHECK_THROWS_WITH(partition_data(data, p), Contains("partition: 'rows' is not allowed"));
}

TEST_CASE("load_data refuses an unknown data set by name") {
  DataOptions o = synthetic();
  o.dataset = "cifar";
  CHECK_THROWS_AS(load_data(o), input_error);
  CHECK_THROWS_WITH(load_data(o), Contains("dataset: 'cifar' is not allowed"));
}

TEST_CASE("partition_data: the Dirichlet splits by class are the library's functions on the training labels") {
  const LoadedData data = load_data(synthetic());
  PartitionOptions p;
  p.nodes = 4;
  p.alpha = 0.5;
  p.split_min_size = 5;
  for (const char* name : {"dirichlet-split", "dirichlet-mix"}) {
    INFO(name);
    p.partition = name;
    const auto parts = partition_data(data, p);
    std::multiset<Eigen::Index> seen;
    for (const auto& node : parts) {
      CHECK(node.size() >= 5);
      seen.insert(node.begin(), node.end());
    }
    CHECK(seen.size() == 400);  // disjoint and covering, unlike partition = dirichlet
    CHECK(std::set<Eigen::Index>(seen.begin(), seen.end()).size() == 400);
  }
  p.split_min_size = 101;
  CHECK_THROWS_WITH(partition_data(data, p), Contains("split-min-size: 101 samples per node is more than"));
}

TEST_CASE("load_data carries a sensitive attribute through the train/test split and the eval subset") {
  DataOptions o = synthetic();
  o.sensitive.sensitive = "classes:0,1";
  o.sensitive.correlation = 1.0;
  const LoadedData data = load_data(o);
  REQUIRE(data.train.groups.size() == data.train.labels.size());
  REQUIRE(data.test.groups.size() == data.test.labels.size());
  for (std::size_t i = 0; i < data.train.groups.size(); ++i)
    CHECK(data.train.groups[i] == (data.train.labels[i] <= 1 ? 1 : 0));
  for (std::size_t i = 0; i < data.test.groups.size(); ++i)
    CHECK(data.test.groups[i] == (data.test.labels[i] <= 1 ? 1 : 0));
  o.dataset = "synthetic-fair";
  CHECK_THROWS_WITH(load_data(o), Contains("synthetic-fair draws its own sensitive attribute"));
  o.sensitive.sensitive.clear();
  const LoadedData fair = load_data(o);
  CHECK(fair.train.classes == 2);
  CHECK(fair.train.groups.size() == fair.train.labels.size());
}
