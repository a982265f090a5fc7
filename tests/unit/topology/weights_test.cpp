#include "decent/topology/weights.hpp"

#include <catch2/catch.hpp>

#include "decent/topology/builders.hpp"

using namespace decent;

namespace {
Graph path3() {
  Graph g(3);
  g.add_edge(0, 1);
  g.add_edge(1, 2);
  return g;
}
}  // namespace

TEST_CASE("weights of a 3-node path match the hand computation", "[weights]") {
  const Eigen::MatrixXd metropolis = mixing_matrix(path3(), WeightScheme::metropolis).dense();
  Eigen::MatrixXd expected(3, 3);
  expected << 2. / 3, 1. / 3, 0, 1. / 3, 1. / 3, 1. / 3, 0, 1. / 3, 2. / 3;
  CHECK((metropolis - expected).cwiseAbs().maxCoeff() < 1e-15);

  const Eigen::MatrixXd uniform = mixing_matrix(path3(), WeightScheme::uniform).dense();
  expected << 1. / 2, 1. / 2, 0, 1. / 3, 1. / 3, 1. / 3, 0, 1. / 2, 1. / 2;
  CHECK((uniform - expected).cwiseAbs().maxCoeff() < 1e-15);

  const Eigen::MatrixXd max_degree = mixing_matrix(path3(), WeightScheme::max_degree).dense();
  expected << 2. / 3, 1. / 3, 0, 1. / 3, 1. / 3, 1. / 3, 0, 1. / 3, 2. / 3;
  CHECK((max_degree - expected).cwiseAbs().maxCoeff() < 1e-15);
}

TEST_CASE("metropolis and max-degree weights are symmetric and doubly stochastic on irregular graphs", "[weights]") {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const Graph g = erdos_renyi_graph(20, 0.25, seed);
    for (auto scheme : {WeightScheme::metropolis, WeightScheme::max_degree}) {
      const MixingMatrix w = mixing_matrix(g, scheme);
      CHECK(w.is_symmetric());
      CHECK(w.is_doubly_stochastic());
      CHECK((w.dense().array() >= 0).all());
    }
  }
}

TEST_CASE("uniform weights are row-stochastic, and doubly stochastic only on regular graphs", "[weights]") {
  const MixingMatrix star = mixing_matrix(star_graph(6), WeightScheme::uniform);
  CHECK((star.dense().rowwise().sum().array() - 1).abs().maxCoeff() < 1e-15);
  CHECK_FALSE(star.is_doubly_stochastic());
  CHECK(mixing_matrix(ring_graph(9), WeightScheme::uniform).is_doubly_stochastic());
}

TEST_CASE("scheme names round-trip and bad ones are rejected", "[weights]") {
  for (auto s : {WeightScheme::metropolis, WeightScheme::uniform, WeightScheme::max_degree})
    CHECK(parse_weight_scheme(to_string(s)) == s);
  CHECK_THROWS_WITH(parse_weight_scheme("metropolis-hastings"), Catch::Contains("allowed: metropolis"));
  CHECK_THROWS_WITH(mixing_matrix(exponential_graph(8), WeightScheme::metropolis),
                    Catch::Contains("undirected"));
}
