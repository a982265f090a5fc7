#include "decent/probe/consensus.hpp"

#include <catch2/catch.hpp>

#include "decent/core/random.hpp"
#include "decent/placement/placement.hpp"

using namespace decent;

TEST_CASE("consensus distance equals the serial computation over all nodes", "[probe]") {
  const Comm world = Comm::world();
  const int n = 11, dim = 300;
  const Placement placement(n, world.size());
  // Large common offset: the shortcut mean||x||^2 - ||mean||^2 would cancel catastrophically here.
  // (This test also caught a miscompiled float->double cast in AVX-512 builds: see DECENT_NATIVE.)
  Eigen::MatrixXd all(dim, n);
  Rng rng(3);
  for (Eigen::Index i = 0; i < all.size(); ++i) all.data()[i] = 1000.0 + 1e-2 * (rng.uniform() - 0.5);
  const Eigen::MatrixXf floats = all.cast<float>();
  const Eigen::MatrixXd exact = floats.cast<double>();
  const Eigen::VectorXd mean = exact.rowwise().mean();
  double expected = 0;
  for (int i = 0; i < n; ++i) expected += (exact.col(i) - mean).squaredNorm();
  expected /= n;

  const int first = placement.first(world.rank()), count = placement.count(world.rank());
  const Consensus c = consensus(world, n, floats.middleCols(first, count));
  CHECK(c.distance == Approx(expected).epsilon(1e-9));
  CHECK((c.mean - mean).cwiseAbs().maxCoeff() < 1e-9);
  REQUIRE(static_cast<int>(c.distance_to_mean.size()) == count);
  for (int k = 0; k < count; ++k)
    CHECK(c.distance_to_mean[static_cast<std::size_t>(k)] ==
          Approx((exact.col(first + k) - mean).squaredNorm()).epsilon(1e-9));
}

TEST_CASE("identical nodes are at consensus distance 0", "[probe]") {
  const Comm world = Comm::world();
  const Placement placement(world.size() * 2, world.size());
  Eigen::MatrixXf x = Eigen::MatrixXf::Constant(50, 2, 3.25f);
  CHECK(consensus(world, placement.nodes(), x).distance == 0.0);
  CHECK_THROWS_AS(consensus(world, 0, x), std::invalid_argument);
}
