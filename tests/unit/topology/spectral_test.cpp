#include "decent/topology/spectral.hpp"

#include <catch2/catch.hpp>
#include <Eigen/Eigenvalues>

#include "decent/topology/builders.hpp"
#include "decent/topology/topology.hpp"

using namespace decent;

TEST_CASE("mixing rate of a non-symmetric W equals sqrt of the top eigenvalue of (W-J)^T (W-J)", "[spectral]") {
  for (std::int64_t round = 0; round < 5; ++round) {
    const Eigen::MatrixXd w = random_round(17, 0.7, 9, round).dense();
    const Eigen::MatrixXd d = w.array() - 1.0 / 17;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(d.transpose() * d);
    CHECK(mixing_rate(w) == Approx(std::sqrt(eig.eigenvalues().maxCoeff())).epsilon(1e-9));
  }
}

TEST_CASE("identity does not mix, J mixes at once", "[spectral]") {
  CHECK(spectral_gap(Eigen::MatrixXd::Identity(5, 5)) == Approx(0.0).margin(1e-12));
  CHECK(spectral_gap(Eigen::MatrixXd::Constant(5, 5, 0.2)) == Approx(1.0));
  CHECK(spectral_gap(Eigen::MatrixXd::Ones(1, 1)) == Approx(1.0));
  CHECK_THROWS_AS(mixing_rate(Eigen::MatrixXd(2, 3)), std::invalid_argument);
}

TEST_CASE("one gossip round contracts the distance to the mean by at most ||W - J||_2", "[spectral]") {
  const MixingMatrix w = random_round(12, 1.5, 2, 0);
  const Eigen::MatrixXd dense = w.dense();
  const Eigen::MatrixXd j = Eigen::MatrixXd::Constant(12, 12, 1.0 / 12);
  const double rate = mixing_rate(dense);
  for (int trial = 0; trial < 20; ++trial) {
    const Eigen::VectorXd x = Eigen::VectorXd::Random(12);
    // (W - J)(x - Jx) measured against the bound ||W - J|| ||x - Jx|| (J x is the mean vector).
    const Eigen::VectorXd deviation = x - j * x;
    CHECK(((dense - j) * deviation).norm() <= rate * deviation.norm() * (1 + 1e-12));
  }
}

TEST_CASE("measured consensus rate matches the spectral gap on static graphs", "[spectral]") {
  // A symmetric W shrinks a generic start by its second-largest |eigenvalue| = 1 - gap per round.
  for (const char* spec : {"ring", "torus", "star"}) {
    INFO(spec);
    const auto t = make_topology(spec, 16);
    CHECK(consensus_rate(*t, 400) == Approx(1 - spectral_gap(t->mixing_matrix(0))).epsilon(0.02));
  }
  CHECK(consensus_rate(*make_topology("complete", 9)) == 0.0);
  CHECK(consensus_rate(*make_topology("ring", 1)) == 0.0);
}

TEST_CASE("random graphs mix faster with a larger budget, and never diverge", "[spectral]") {
  const double slow = consensus_rate(*make_topology("random:0.2", 32));
  const double medium = consensus_rate(*make_topology("random:1", 32));
  const double fast = consensus_rate(*make_topology("random:4", 32));
  CHECK(slow < 1.0);
  CHECK(medium < slow);
  CHECK(fast < medium);
  CHECK(consensus_rate(*make_topology("random:0", 8)) == Approx(1.0));  // r = 0 never mixes
  CHECK(consensus_rate(*make_topology("random:1", 32), 50, 1) == consensus_rate(*make_topology("random:1", 32), 50, 1));
}
