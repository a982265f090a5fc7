#include "topology/base_graph.hpp"

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

using decent::detail::base_graph_rounds;
using decent::detail::Triplets;

namespace {

/// Checks every round's shape and weights, and that the rounds' product is exactly J = 11^T/n.
void check_base_graph(int n, int k) {
  CAPTURE(n, k);
  const std::vector<Triplets> rounds = base_graph_rounds(n, k);
  REQUIRE_FALSE(rounds.empty());

  // Buffers are reused across rounds: reallocating n = 1000 matrices every round dominates the run time.
  Eigen::MatrixXd product = Eigen::MatrixXd::Identity(n, n);
  Eigen::MatrixXd next(n, n);
  Eigen::MatrixXd w(n, n);
  Eigen::MatrixXi entries(n, n);
  for (std::size_t r = 0; r < rounds.size(); ++r) {
    CAPTURE(r);
    w.setZero();
    entries.setZero();
    bool in_range = true;
    bool positive = true;
    for (const auto& t : rounds[r]) {
      if (t.row() < 0 || t.row() >= n || t.col() < 0 || t.col() >= n) {
        in_range = false;
        continue;
      }
      positive = positive && t.value() > 0.0;
      w(t.row(), t.col()) += t.value();
      entries(t.row(), t.col()) += 1;
    }
    REQUIRE(in_range);
    REQUIRE(positive);
    CHECK(entries.maxCoeff() == 1);  // each non-zero listed exactly once
    CHECK(entries.diagonal().minCoeff() == 1);
    CHECK((w - w.transpose()).cwiseAbs().maxCoeff() <= 1e-12);
    CHECK((w.rowwise().sum().array() - 1.0).abs().maxCoeff() <= 1e-12);
    CHECK((w.colwise().sum().array() - 1.0).abs().maxCoeff() <= 1e-12);
    const Eigen::VectorXi peers = entries.rowwise().sum() - entries.diagonal();
    CHECK(peers.maxCoeff() <= k);

    Eigen::SparseMatrix<double> sparse(n, n);
    sparse.setFromTriplets(rounds[r].begin(), rounds[r].end());
    next.noalias() = sparse * product;  // sparse keeps n = 1000 fast
    product.swap(next);
  }
  const Eigen::MatrixXd average = Eigen::MatrixXd::Constant(n, n, 1.0 / n);
  CHECK((product - average).cwiseAbs().maxCoeff() <= 1e-10);
}

int round_count(int n, int k) { return static_cast<int>(base_graph_rounds(n, k).size()); }

}  // namespace

TEST_CASE("base graph rounds are valid mixing matrices that average exactly", "[topology][base_graph]") {
  for (int k = 1; k <= 4; ++k)
    for (int n = 1; n <= 64; ++n) check_base_graph(n, k);
}

TEST_CASE("base graph averages exactly on larger node counts", "[topology][base_graph]") {
  for (int k : {1, 2})
    for (int n : {100, 127, 1000}) check_base_graph(n, k);
}

TEST_CASE("base graph on (k+1)^p nodes is the p-round HyperHyperCube", "[topology][base_graph]") {
  CHECK(round_count(8, 1) == 3);
  CHECK(round_count(9, 2) == 2);
  CHECK(round_count(16, 3) == 2);
  for (int k = 1; k <= 4; ++k) {
    int p = 1;
    for (int n = k + 1; n <= 1000; n *= k + 1, ++p) {
      CAPTURE(n, k);
      CHECK(round_count(n, k) == p);
    }
  }
  // Any n without prime factors above k+1 is a HyperHyperCube too, with as few radices as possible.
  CHECK(round_count(12, 3) == 2);
  CHECK(round_count(6, 2) == 2);
}

TEST_CASE("base graph round counts", "[topology][base_graph]") {
  // k = 1. The paper's reference code (yukiTakezawa/BaseGraph, base_graph.py) gives the same counts:
  // 5 -> 5, 6 -> 4 (2 x 3), 7 -> 5, 10 -> 6 (2 x 5), 12 -> 5 (4 x 3), 25 -> 9, 100 -> 11 (4 x 25).
  CHECK(round_count(5, 1) == 5);
  CHECK(round_count(6, 1) == 4);
  CHECK(round_count(7, 1) == 5);
  CHECK(round_count(10, 1) == 6);
  CHECK(round_count(12, 1) == 5);
  CHECK(round_count(25, 1) == 9);
  CHECK(round_count(100, 1) == 11);
  // Splitting off any divisor, not only the part with small primes, beats the reference here (9 rounds):
  // 21 = 3 x 7 takes 3 + 5 rounds.
  CHECK(round_count(21, 1) == 8);

  // The paper's bound on the length.
  for (int k = 1; k <= 4; ++k)
    for (int n = 2; n <= 200; ++n) {
      CAPTURE(n, k);
      CHECK(round_count(n, k) <= 2.0 * std::log(n) / std::log(k + 1.0) + 2.0 + 1e-9);
    }
}

TEST_CASE("base graph degenerate sizes", "[topology][base_graph]") {
  const std::vector<Triplets> single = base_graph_rounds(1, 1);
  REQUIRE(single.size() == 1);
  REQUIRE(single[0].size() == 1);
  CHECK(single[0][0].value() == 1.0);

  // With k >= n-1 one round of all-to-all averaging suffices.
  CHECK(round_count(5, 4) == 1);
  CHECK(round_count(5, 100) == 1);
  check_base_graph(5, 100);
}

TEST_CASE("base graph rejects invalid arguments", "[topology][base_graph]") {
  CHECK_THROWS_AS(base_graph_rounds(0, 1), std::invalid_argument);
  CHECK_THROWS_AS(base_graph_rounds(-3, 1), std::invalid_argument);
  CHECK_THROWS_AS(base_graph_rounds(4, 0), std::invalid_argument);
  CHECK_THROWS_AS(base_graph_rounds(4, -1), std::invalid_argument);
}
