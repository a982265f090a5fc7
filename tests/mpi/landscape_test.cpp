// Landscape probes on real ranks, checked against direct serial computations.
#include "decent/probe/landscape.hpp"

#include <Eigen/SVD>
#include <catch2/catch.hpp>

#include "decent/core/random.hpp"
#include "decent/data/synthetic.hpp"
#include "decent/model/factory.hpp"

using namespace decent;

namespace {

struct Setup {
  int n = 6;
  Dataset data = gaussian_mixture(3, 5, 120, 2.0, 9);
  std::unique_ptr<Model> model = make_model("softmax", 5, 3, {}, 0.0f);
  Eigen::MatrixXf all;  // every node's parameters, the same on every rank
  Eigen::VectorXf mean;
  Setup() {
    all.resize(model->parameter_count(), n);
    Rng rng(4);
    for (Eigen::Index i = 0; i < all.size(); ++i) all.data()[i] = static_cast<float>(rng.normal());
    mean = (all.cast<double>().rowwise().mean()).cast<float>();
  }
};

}  // namespace

TEST_CASE("interpolation curves and the principal plane match direct computations", "[landscape]") {
  const Comm world = Comm::world();
  const Setup s;
  const Placement placement(s.n, world.size());
  LandscapeOptions options;
  options.probe_nodes = {0, 2, 5};
  options.interp_points = 5;
  options.grid = 5;
  const LandscapeProbe probe = probe_landscape(world, placement, *s.model,
                                               s.all.middleCols(placement.first(world.rank()), placement.count(world.rank())),
                                               s.mean, s.data, options);
  // Interpolation: every local probed node's curve, point by point.
  const Eigen::VectorXd alphas = interpolation_alphas(5);
  for (std::size_t r = 0; r < probe.local_nodes.size(); ++r) {
    const int node = probe.local_nodes[r];
    for (int k = 0; k < 5; ++k) {
      const auto a = static_cast<float>(alphas[k]);
      const Eigen::VectorXf theta = (1 - a) * s.all.col(node) + a * s.mean;
      CHECK(probe.interp_loss(static_cast<Eigen::Index>(r), k) ==
            Approx(s.model->loss(theta, s.data.features, s.data.labels, s.data.targets)).epsilon(1e-6));
    }
  }
  // Principal plane: the node coordinates are the deviations' projections on the top two left singular
  // vectors (signs are arbitrary), and the grid's centre is x_bar itself.
  const Eigen::MatrixXd deviations = s.all.cast<double>().colwise() - s.mean.cast<double>();
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(deviations, Eigen::ComputeThinU);
  for (int k = 0; k < 2; ++k) {
    const Eigen::VectorXd expected = deviations.transpose() * svd.matrixU().col(k);
    const Eigen::VectorXd got = probe.node_coords.col(k) * probe.scale[static_cast<std::size_t>(k)];
    CHECK(std::min((got - expected).cwiseAbs().maxCoeff(), (got + expected).cwiseAbs().maxCoeff()) < 1e-3);
    CHECK(probe.node_coords.col(k).cwiseAbs().maxCoeff() == Approx(1.0));
  }
  CHECK(probe.plane == "pca");
  CHECK(probe.axis[2] == 0.0);
  CHECK(probe.plane_loss(2, 2) == Approx(s.model->loss(s.mean, s.data.features, s.data.labels, s.data.targets)).epsilon(1e-5));
  // The plane is the same on every rank.
  const double corner = probe.plane_loss(0, 4);
  CHECK(world.allreduce(corner, ReduceOp::max) == world.allreduce(corner, ReduceOp::min));
}

TEST_CASE("the plane through three models contains them", "[landscape]") {
  const Comm world = Comm::world();
  const Setup s;
  const Placement placement(s.n, world.size());
  LandscapeOptions options;
  options.interp_points = 0;
  options.grid = 3;
  options.plane_through = std::array<int, 3>{1, 3, 4};
  const LandscapeProbe probe = probe_landscape(world, placement, *s.model,
                                               s.all.middleCols(placement.first(world.rank()), placement.count(world.rank())),
                                               s.mean, s.data, options);
  CHECK(probe.plane == "nodes:1,3,4");
  // Origin at model 1; model 3 on the first axis; model 4 in the plane (its distance is fully explained).
  CHECK(probe.node_coords(1, 0) == 0.0);
  CHECK(probe.node_coords(1, 1) == 0.0);
  CHECK(std::abs(probe.node_coords(3, 1)) < 1e-5);
  const double in_plane = std::hypot(probe.node_coords(4, 0) * probe.scale[0], probe.node_coords(4, 1) * probe.scale[1]);
  CHECK(in_plane == Approx((s.all.col(4) - s.all.col(1)).norm()).epsilon(1e-4));
  CHECK(probe.interp_loss.size() == 0);
}
