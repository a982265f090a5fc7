#include "decent/probe/landscape.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>

namespace decent {

Eigen::VectorXd interpolation_alphas(int points) {
  if (points < 0) throw std::invalid_argument("interp-points must be >= 0");
  if (points == 1) return Eigen::VectorXd::Constant(1, 1.0);
  return Eigen::VectorXd::LinSpaced(points, 0.0, 1.0);
}

std::vector<int> spread_nodes(int nodes, int count) {
  std::vector<int> out;
  if (count >= nodes) {
    for (int i = 0; i < nodes; ++i) out.push_back(i);
    return out;
  }
  for (int k = 0; k < count; ++k) out.push_back(static_cast<int>(static_cast<long>(k) * nodes / count));
  return out;
}

namespace {

Evaluation evaluate(const Model& model, const Eigen::Ref<const Eigen::VectorXf>& params, const Dataset& data) {
  return model.evaluate(params, data.features, data.labels, data.targets);
}

/// Two orthonormal directions and the plane's origin, from all nodes' parameters (dim x n).
struct Plane {
  Eigen::VectorXf origin, e1, e2;
  std::string name;
};

// The probes work through the n nodes' parameters in blocks of this many rows, so that no dim x n temporary
// is allocated: on this project's VM fresh pages cost a fault each, and the dim x n double and float
// temporaries made the 2-D slice cost about 0.1 s of the default run's 0.13 s of probes (docs/config.md).
constexpr Eigen::Index rows_per_block = 4096;

Plane principal_plane(const Eigen::Ref<const Eigen::MatrixXf>& all, const Eigen::VectorXf& mean) {
  const Eigen::Index dim = all.rows(), n = all.cols();
  // The deviations x_i - x_bar of one block of rows, in double.
  Eigen::MatrixXd block(std::min(rows_per_block, dim), n);
  const auto deviations = [&](Eigen::Index first, Eigen::Index rows) {
    block.topRows(rows) =
        all.middleRows(first, rows).cast<double>().colwise() - mean.segment(first, rows).cast<double>();
    return block.topRows(rows);
  };
  // The top principal directions of the n deviations come from their n x n Gram matrix.
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index first = 0; first < dim; first += rows_per_block) {
    const Eigen::Index rows = std::min(rows_per_block, dim - first);
    const auto d = deviations(first, rows);
    gram.noalias() += d.transpose() * d;
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram);
  Plane plane{mean, Eigen::VectorXf::Zero(dim), Eigen::VectorXf::Zero(dim), "pca"};
  const double top = n > 0 ? eig.eigenvalues()(n - 1) : 0.0;
  Eigen::VectorXd direction(dim);
  for (int k = 0; k < 2 && k < n; ++k) {
    const double lambda = eig.eigenvalues()(n - 1 - k);
    if (!(lambda > 1e-12 * std::max(top, 1e-300))) continue;  // all nodes equal (or rank-1): no such direction
    const auto v = eig.eigenvectors().col(n - 1 - k);
    for (Eigen::Index first = 0; first < dim; first += rows_per_block) {
      const Eigen::Index rows = std::min(rows_per_block, dim - first);
      direction.segment(first, rows).noalias() = deviations(first, rows) * v;
    }
    (k == 0 ? plane.e1 : plane.e2) = (direction / direction.norm()).cast<float>();
  }
  return plane;
}

Plane plane_through(const Eigen::Ref<const Eigen::MatrixXf>& all, const std::array<int, 3>& nodes) {
  for (int i : nodes)
    if (i < 0 || i >= all.cols())
      throw std::invalid_argument("plane: node " + std::to_string(i) + " outside 0.." + std::to_string(all.cols() - 1));
  const Eigen::VectorXd a = all.col(nodes[0]).cast<double>();
  Eigen::VectorXd u = all.col(nodes[1]).cast<double>() - a;
  Eigen::VectorXd v = all.col(nodes[2]).cast<double>() - a;
  // Gram-Schmidt: v loses its component along u.
  if (u.norm() > 0) u.normalize();
  v -= u.dot(v) * u;
  if (v.norm() > 0) v.normalize();
  return {all.col(nodes[0]), u.cast<float>(), v.cast<float>(),
          "nodes:" + std::to_string(nodes[0]) + "," + std::to_string(nodes[1]) + "," + std::to_string(nodes[2])};
}

}  // namespace

LandscapeProbe probe_landscape(const Comm& comm, const Placement& placement, const Model& model,
                               const Eigen::Ref<const Eigen::MatrixXf>& local, const Eigen::VectorXf& mean,
                               const Dataset& data, const LandscapeOptions& options) {
  const double start = MPI_Wtime();
  if (options.grid < 0) throw std::invalid_argument("landscape-grid must be >= 0");
  if (!(options.extent > 0)) throw std::invalid_argument("landscape extent must be > 0");
  LandscapeProbe probe;
  const int first = placement.first(comm.rank()), count = placement.count(comm.rank());

  // Interpolation from each probed local node towards the mean.
  const Eigen::VectorXd alphas = interpolation_alphas(options.interp_points);
  for (int node : options.probe_nodes)
    if (node >= first && node < first + count) probe.local_nodes.push_back(node);
  const auto rows = static_cast<Eigen::Index>(probe.local_nodes.size());
  probe.interp_loss.resize(rows, alphas.size());
  probe.interp_acc.resize(rows, alphas.size());
  Eigen::VectorXf theta(mean.size());
  for (Eigen::Index r = 0; r < rows; ++r) {
    const auto x = local.col(probe.local_nodes[static_cast<std::size_t>(r)] - first);
    for (Eigen::Index k = 0; k < alphas.size(); ++k) {
      const auto a = static_cast<float>(alphas[k]);
      theta = (1 - a) * x + a * mean;
      const Evaluation e = evaluate(model, theta, data);
      probe.interp_loss(r, k) = e.loss;
      probe.interp_acc(r, k) = e.accuracy;
    }
    double barrier = 0;
    for (Eigen::Index k = 0; k < alphas.size(); ++k) {
      const double line = (1 - alphas[k]) * probe.interp_loss(r, 0) + alphas[k] * probe.interp_loss(r, alphas.size() - 1);
      barrier = std::max(barrier, probe.interp_loss(r, k) - line);
    }
    probe.barrier.push_back(alphas.size() ? barrier : 0.0);
  }

  if (options.grid > 0) {
    // Every rank needs every node's parameters for the plane (n x dim floats, gathered once per probe).
    const bool packed = local.outerStride() == local.rows();  // else one contiguous copy to send
    const Eigen::MatrixXf copy = packed ? Eigen::MatrixXf() : Eigen::MatrixXf(local);
    const std::vector<float> gathered = comm.allgatherv(
        std::span<const float>(packed ? local.data() : copy.data(), static_cast<std::size_t>(local.size())));
    const Eigen::Map<const Eigen::MatrixXf> all(gathered.data(), local.rows(), placement.nodes());
    const Plane plane = options.plane_through ? plane_through(all, *options.plane_through)
                                              : principal_plane(all, mean);
    probe.plane = plane.name;
    Eigen::MatrixXd coords(placement.nodes(), 2);
    for (Eigen::Index i = 0; i < all.cols(); ++i) {  // node i's offset from the origin, along each axis
      coords(i, 0) = static_cast<double>((all.col(i) - plane.origin).dot(plane.e1));
      coords(i, 1) = static_cast<double>((all.col(i) - plane.origin).dot(plane.e2));
    }
    for (int k = 0; k < 2; ++k) {
      const double largest = coords.col(k).cwiseAbs().maxCoeff();
      probe.scale[static_cast<std::size_t>(k)] = largest > 0 ? largest : 1.0;
      coords.col(k) /= probe.scale[static_cast<std::size_t>(k)];
    }
    probe.node_coords = coords;
    probe.axis = Eigen::VectorXd::LinSpaced(options.grid, -options.extent, options.extent);
    if (options.grid == 1) probe.axis.setZero();
    // Grid points are dealt round-robin to the ranks and the results summed.
    const int points = options.grid * options.grid;
    Eigen::MatrixXd loss = Eigen::MatrixXd::Zero(options.grid, options.grid), acc = loss;
    for (int index = comm.rank(); index < points; index += comm.size()) {
      const int gu = index / options.grid, gv = index % options.grid;
      theta = plane.origin + static_cast<float>(probe.axis[gu] * probe.scale[0]) * plane.e1 +
              static_cast<float>(probe.axis[gv] * probe.scale[1]) * plane.e2;
      const Evaluation e = evaluate(model, theta, data);
      loss(gu, gv) = e.loss;
      acc(gu, gv) = std::isnan(e.accuracy) ? 0.0 : e.accuracy;
    }
    comm.allreduce(std::span<double>(loss.data(), static_cast<std::size_t>(loss.size())), ReduceOp::sum);
    comm.allreduce(std::span<double>(acc.data(), static_cast<std::size_t>(acc.size())), ReduceOp::sum);
    if (!model.classification()) acc.setConstant(std::numeric_limits<double>::quiet_NaN());
    probe.plane_loss = loss;
    probe.plane_acc = acc;
  }
  probe.seconds = MPI_Wtime() - start;
  return probe;
}

}  // namespace decent
