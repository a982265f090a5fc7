// Builders are checked against closed-form spectral gaps (docs/topologies.md) and known structure.
#include "decent/topology/builders.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "decent/topology/spectral.hpp"
#include "decent/topology/weights.hpp"

using namespace decent;
using std::numbers::pi;

namespace {
int ceil_log2(int n) {
  int t = 0;
  while ((1 << t) < n) ++t;
  return t;
}
double gap(const Graph& g, WeightScheme s = WeightScheme::uniform) { return spectral_gap(mixing_matrix(g, s)); }
}  // namespace

TEST_CASE("ring with weights 1/3 has gap (2/3)(1 - cos(2 pi/n))", "[builders][spectral]") {
  for (int n = 3; n <= 64; ++n) {
    INFO("n = " << n);
    const Graph g = ring_graph(n);
    REQUIRE(g.edge_count() == static_cast<std::size_t>(n));
    REQUIRE(g.diameter() == n / 2);
    CHECK(gap(g) == Approx((2.0 / 3) * (1 - std::cos(2 * pi / n))).epsilon(1e-9));
  }
  CHECK(gap(ring_graph(1)) == Approx(1.0));
  CHECK(ring_graph(2).edge_count() == 1);
}

TEST_CASE("m x m torus with weights 1/5 has gap (2/5)(1 - cos(2 pi/m)) for odd m", "[builders][spectral]") {
  for (int m : {3, 5, 7, 9, 11, 15}) {
    INFO("m = " << m);
    const Graph g = torus_graph(m, m);
    REQUIRE(g.min_degree() == 4);
    REQUIRE(g.max_degree() == 4);
    REQUIRE(g.diameter() == 2 * (m / 2));
    CHECK(gap(g) == Approx(0.4 * (1 - std::cos(2 * pi / m))).epsilon(1e-9));
  }
}

TEST_CASE("rectangular torus: an even side caps the gap at 2/5", "[builders][spectral]") {
  // gap = min(0.4 if a side is even, (2/5)(1 - cos(2 pi / longest side))) for sides >= 3.
  CHECK(gap(torus_graph(4, 8)) == Approx(0.4 * (1 - std::cos(2 * pi / 8))).epsilon(1e-9));  // 0.11716
  CHECK(gap(torus_graph(4, 4)) == Approx(0.4).epsilon(1e-9));
  CHECK(gap(torus_graph(5, 6)) == Approx(0.4 * (1 - std::cos(2 * pi / 6))).epsilon(1e-9));
  CHECK(torus_shape(32) == std::pair{4, 8});
  CHECK(torus_shape(25) == std::pair{5, 5});
  CHECK(torus_shape(7) == std::pair{1, 7});
}

TEST_CASE("static exponential graph has gap 2/(1 + ceil(log2 n)) for even n", "[builders][spectral]") {
  for (int n : {2, 4, 6, 8, 10, 12, 16, 20, 32, 64, 100, 128}) {
    INFO("n = " << n);
    const Graph g = exponential_graph(n);
    REQUIRE(g.directed());
    REQUIRE(g.min_degree() == ceil_log2(n));
    const MixingMatrix w = mixing_matrix(g, WeightScheme::uniform);
    REQUIRE(w.weight(0, 0) == Approx(1.0 / (ceil_log2(n) + 1)));
    REQUIRE(w.is_doubly_stochastic());
    CHECK(spectral_gap(w) == Approx(2.0 / (1 + ceil_log2(n))).epsilon(1e-9));
  }
}

TEST_CASE("hypercube with uniform weights has gap 2/(log2 n + 1) and diameter log2 n", "[builders][spectral]") {
  for (int d = 1; d <= 7; ++d) {
    const Graph g = hypercube_graph(1 << d);
    CHECK(g.diameter() == d);
    CHECK(gap(g) == Approx(2.0 / (d + 1)).epsilon(1e-9));
  }
  CHECK_THROWS_WITH(hypercube_graph(12), Catch::Contains("power-of-two"));
}

TEST_CASE("complete graph averages exactly, and star with Metropolis weights has gap 1/n", "[builders][spectral]") {
  for (int n : {3, 5, 16}) {
    CHECK(gap(complete_graph(n)) == Approx(1.0).epsilon(1e-12));
    CHECK(complete_graph(n).diameter() == 1);
    // Metropolis star: W = I - L/n with L the star Laplacian (eigenvalues 0, 1 (n-2 times), n),
    // so W has eigenvalues 1, 1 - 1/n, 0.
    CHECK(gap(star_graph(n), WeightScheme::metropolis) == Approx(1.0 / n).epsilon(1e-9));
    CHECK(star_graph(n).diameter() == 2);
  }
  CHECK(gap(star_graph(2), WeightScheme::metropolis) == Approx(1.0));  // a single edge weighted 1/2 is J
}

TEST_CASE("one-peer exponential: the product of one period is exactly J for n a power of two", "[builders]") {
  for (int n : {2, 4, 8, 16, 32, 64}) {
    INFO("n = " << n);
    const auto rounds = one_peer_exponential_rounds(n);
    REQUIRE(static_cast<int>(rounds.size()) == ceil_log2(n));
    Eigen::MatrixXd product = Eigen::MatrixXd::Identity(n, n);
    for (const auto& w : rounds) {
      REQUIRE(w.is_doubly_stochastic());
      REQUIRE(w.non_zeros() == 2 * n);
      product = w.dense() * product;
    }
    // Weights are powers of two, so the product is exact, not merely close.
    CHECK(product == Eigen::MatrixXd::Constant(n, n, 1.0 / n));
  }
  // For other n one period only contracts (rate ~0.2 per the literature), it does not average exactly.
  const auto rounds = one_peer_exponential_rounds(6);
  Eigen::MatrixXd product = Eigen::MatrixXd::Identity(6, 6);
  for (const auto& w : rounds) product = w.dense() * product;
  CHECK(mixing_rate(product) == Approx(0.217).margin(0.001));
}

TEST_CASE("Base-(k+1) rounds multiply to J for every n", "[builders]") {
  for (int k : {1, 2, 3})
    for (int n = 1; n <= 40; ++n) {
      INFO("n = " << n << ", k = " << k);
      Eigen::MatrixXd product = Eigen::MatrixXd::Identity(n, n);
      for (const auto& w : base_rounds(n, k)) product = w.dense() * product;
      CHECK((product.array() - 1.0 / n).abs().maxCoeff() < 1e-12);
    }
  CHECK_THROWS_AS(base_rounds(8, 0), std::invalid_argument);
}

TEST_CASE("random-r rounds: floor(r) peers plus one with probability frac(r), reproducible", "[builders]") {
  const int n = 50;
  const double r = 1.3;
  int extra = 0, total_rows = 0;
  std::vector<int> chosen(n, 0);
  for (int round = 0; round < 200; ++round) {
    const MixingMatrix w = random_round(n, r, 5, round);
    REQUIRE((w.dense().rowwise().sum().array() - 1).abs().maxCoeff() < 1e-12);
    for (int i = 0; i < n; ++i) {
      const int peers = static_cast<int>(w.sparse().row(i).nonZeros()) - 1;
      REQUIRE((peers == 1 || peers == 2));
      REQUIRE(w.weight(i, i) == Approx(1.0 / (peers + 1)));
      extra += peers - 1;
      ++total_rows;
      for (Eigen::SparseMatrix<double, Eigen::RowMajor>::InnerIterator it(w.sparse(), i); it; ++it)
        if (it.col() != i) ++chosen[static_cast<std::size_t>(it.col())];
    }
  }
  // 10000 Bernoulli(0.3) coins: standard deviation 0.0046; allow 5 of them.
  CHECK(static_cast<double>(extra) / total_rows == Approx(0.3).margin(0.023));
  // Every node is picked about equally often: chi-square over 50 nodes (49 dof, 99.9% quantile 85.4).
  double total = 0;
  for (int c : chosen) total += c;
  double chi2 = 0;
  for (int c : chosen) chi2 += (c - total / n) * (c - total / n) / (total / n);
  CHECK(chi2 < 85.4);

  CHECK(random_round(n, r, 5, 7).dense() == random_round(n, r, 5, 7).dense());
  CHECK(random_round(n, r, 5, 7).dense() != random_round(n, r, 5, 8).dense());
  CHECK(random_round(n, r, 5, 7).dense() != random_round(n, r, 6, 7).dense());
  CHECK(random_round(4, 3.0, 1, 0).dense() == Eigen::MatrixXd::Constant(4, 4, 0.25));  // r = n-1 is a merge
  CHECK(random_round(4, 0.0, 1, 0).dense() == Eigen::MatrixXd::Identity(4, 4));
  CHECK_THROWS_WITH(random_round(4, 3.5, 1, 0), Catch::Contains("[0, n-1]"));
}

TEST_CASE("Erdős–Rényi graphs are connected, seeded and honour p", "[builders]") {
  const Graph a = erdos_renyi_graph(30, 0.2, 3), b = erdos_renyi_graph(30, 0.2, 3);
  CHECK(a.connected());
  CHECK(a.edges() == b.edges());
  CHECK(a.edges() != erdos_renyi_graph(30, 0.2, 4).edges());
  CHECK(erdos_renyi_graph(12, 1.0, 1).edge_count() == 66);
  // Mean edge count over seeds is p * n(n-1)/2 (slightly above: connectivity conditioning).
  double edges = 0;
  for (std::uint64_t s = 0; s < 50; ++s) edges += static_cast<double>(erdos_renyi_graph(40, 0.3, s).edge_count());
  CHECK(edges / 50 == Approx(0.3 * 40 * 39 / 2).epsilon(0.05));
  CHECK_THROWS_WITH(erdos_renyi_graph(100, 0.001, 1), Catch::Contains("raise p"));
  CHECK_THROWS_AS(erdos_renyi_graph(10, 0.0, 1), std::invalid_argument);
}
