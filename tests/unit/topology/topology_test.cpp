#include "decent/topology/topology.hpp"

#include <catch2/catch.hpp>

#include "decent/topology/spectral.hpp"

using namespace decent;

TEST_CASE("every catalogue name builds a topology with rows summing to 1", "[topology]") {
  for (const char* spec : {"ring", "torus", "torus:4x4", "exponential", "one-peer-exponential", "hypercube",
                           "complete", "star", "erdos-renyi", "erdos-renyi:0.5", "random", "random:0.2", "base",
                           "base:3"}) {
    INFO(spec);
    const auto t = make_topology(spec, 16);
    REQUIRE(t->nodes() == 16);
    REQUIRE(t->name() == spec);
    for (std::int64_t round = 0; round < 6; ++round) {
      const Eigen::MatrixXd w = t->mixing_matrix(round).dense();
      CHECK((w.rowwise().sum().array() - 1).abs().maxCoeff() < 1e-12);
    }
  }
}

TEST_CASE("periods: static 1, one-peer ceil(log2 n), base its round count, random none", "[topology]") {
  CHECK(make_topology("ring", 8)->period() == 1);
  CHECK_FALSE(make_topology("ring", 8)->time_varying());
  CHECK(make_topology("one-peer-exponential", 8)->period() == 3);
  CHECK(make_topology("one-peer-exponential", 9)->period() == 4);
  const auto random = make_topology("random:0.5", 8);
  CHECK(random->period() == 0);
  CHECK(random->time_varying());
  CHECK_THROWS_AS(random->period_product(), std::logic_error);
  // Cyclic topologies repeat; the product over any window of one period of one-peer (n = 2^k) is J.
  const auto one_peer = make_topology("one-peer-exponential", 16);
  CHECK(one_peer->mixing_matrix(1).dense() == one_peer->mixing_matrix(5).dense());
  CHECK(spectral_gap(one_peer->period_product(0)) == Approx(1.0));
  CHECK(spectral_gap(make_topology("base:2", 23)->period_product()) == Approx(1.0));
}

TEST_CASE("weight schemes apply to static graphs only", "[topology]") {
  TopologyOptions metropolis;
  metropolis.weights = WeightScheme::metropolis;
  CHECK(make_topology("star", 6)->mixing_matrix(0).is_doubly_stochastic());
  CHECK_FALSE(make_topology("star", 6, TopologyOptions{WeightScheme::uniform, 1})->mixing_matrix(0).is_doubly_stochastic());
  CHECK(make_topology("ring", 6, metropolis)->mixing_matrix(0).weight(0, 1) == Approx(1.0 / 3));
  CHECK_THROWS_WITH(make_topology("random:0.5", 6, metropolis), Catch::Contains("a weight scheme does not apply"));
  CHECK_THROWS_WITH(make_topology("exponential", 6, metropolis), Catch::Contains("undirected"));
}

TEST_CASE("seeds change random graphs and nothing else", "[topology]") {
  const auto a = make_topology("random:1", 10, {std::nullopt, 1});
  const auto b = make_topology("random:1", 10, {std::nullopt, 2});
  CHECK(a->mixing_matrix(3).dense() != b->mixing_matrix(3).dense());
  CHECK(make_topology("ring", 10, {std::nullopt, 1})->mixing_matrix(0).dense() ==
        make_topology("ring", 10, {std::nullopt, 2})->mixing_matrix(0).dense());
}

TEST_CASE("bad specs name the problem", "[topology]") {
  CHECK_THROWS_WITH(make_topology("rng", 8), Catch::Contains("unknown topology name 'rng'") &&
                                                 Catch::Contains("allowed: ring, torus"));
  CHECK_THROWS_WITH(make_topology("torus:3x5", 16), Catch::Contains("a 3x5 torus has 15 nodes, not 16"));
  CHECK_THROWS_WITH(make_topology("torus:4by4", 16), Catch::Contains("ROWSxCOLS"));
  CHECK_THROWS_WITH(make_topology("torus:ax4", 16), Catch::Contains("'a' is not a valid row count"));
  CHECK_THROWS_WITH(make_topology("hypercube", 12), Catch::Contains("power-of-two"));
  CHECK_THROWS_WITH(make_topology("ring:3", 8), Catch::Contains("ring takes no parameter"));
  CHECK_THROWS_WITH(make_topology("ring", 0), Catch::Contains("at least 1 node"));
  CHECK_THROWS_WITH(make_topology("random:9", 8), Catch::Contains("[0, n-1]"));
  CHECK_THROWS_WITH(make_topology("random:x", 8), Catch::Contains("not a valid budget r"));
  CHECK_THROWS_WITH(make_topology("erdos-renyi:1.5", 8), Catch::Contains("(0, 1]"));
  CHECK_THROWS_WITH(make_topology("base:0", 8), Catch::Contains("k >= 1"));
  CHECK_THROWS_WITH(make_topology("file:", 8), Catch::Contains("needs a path"));
  CHECK_THROWS_WITH(make_topology("file:/nonexistent/graph.txt", 8), Catch::Contains("/nonexistent/graph.txt"));
  CHECK_THROWS_AS(make_topology("ring", 8)->mixing_matrix(-1), std::invalid_argument);
}

TEST_CASE("file topologies take their node count and weights from the file", "[topology]") {
  const std::string dir = DECENT_SOURCE_DIR "/topologies/";
  const auto petersen = make_topology("file:" + dir + "petersen.txt", 0);
  CHECK(petersen->nodes() == 10);
  // Petersen is 3-regular with adjacency eigenvalues 3, 1, -2, so Metropolis W = (I + A)/4 has gap 1/2.
  CHECK(spectral_gap(petersen->mixing_matrix(0)) == Approx(0.5).epsilon(1e-9));
  CHECK_THROWS_WITH(make_topology("file:" + dir + "petersen.txt", 12), Catch::Contains("has 10 nodes"));
  const auto lazy = make_topology("file:" + dir + "ring-8-lazy.txt", 8);
  CHECK(lazy->mixing_matrix(0).weight(0, 0) == 0.5);
  TopologyOptions uniform;
  uniform.weights = WeightScheme::uniform;
  CHECK_THROWS_WITH(make_topology("file:" + dir + "ring-8-lazy.txt", 8, uniform), Catch::Contains("own weights"));
}
