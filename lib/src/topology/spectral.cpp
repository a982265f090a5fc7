#include "decent/topology/spectral.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <cmath>
#include <stdexcept>

#include "decent/core/random.hpp"
#include "decent/topology/topology.hpp"

namespace decent {

double mixing_rate(const Eigen::MatrixXd& w) {
  if (w.rows() != w.cols() || w.rows() == 0)
    throw std::invalid_argument("mixing_rate: W must be a non-empty square matrix");
  const auto n = static_cast<double>(w.rows());
  const Eigen::MatrixXd deviation = w.array() - 1.0 / n;
  // Symmetric W (the common case) has ||.||_2 = largest |eigenvalue|, cheaper than an SVD.
  if (deviation.isApprox(deviation.transpose(), 1e-12) || deviation.norm() == 0.0) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(deviation, Eigen::EigenvaluesOnly);
    return eig.eigenvalues().cwiseAbs().maxCoeff();
  }
  Eigen::BDCSVD<Eigen::MatrixXd> svd(deviation);
  return svd.singularValues()(0);
}

double spectral_gap(const Eigen::MatrixXd& w) { return 1.0 - mixing_rate(w); }

double spectral_gap(const MixingMatrix& w) { return spectral_gap(w.dense()); }

double consensus_rate(const Topology& topology, std::int64_t rounds, std::uint64_t seed) {
  if (rounds < 1) throw std::invalid_argument("consensus_rate: rounds must be >= 1");
  const int n = topology.nodes();
  if (n == 1) return 0.0;
  constexpr int starts = 8;
  Rng rng(derive_seed(seed, {0x43525445ull /* "CRTE" */}));
  Eigen::MatrixXd x(n, starts);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform() - 0.5;
  x.rowwise() -= x.colwise().mean();
  x /= x.norm();
  // Renormalizing every round keeps the iterate representable; the log of each round's shrink factor is
  // accumulated instead. A round that averages exactly (factor ~0) is counted as 1e-16 and restarted.
  double log_sum = 0;
  for (std::int64_t t = 0; t < rounds; ++t) {
    x = topology.mixing_matrix(t).sparse() * x;
    x.rowwise() -= x.colwise().mean();
    const double shrink = x.norm();
    if (shrink < 1e-14) {
      log_sum += std::log(1e-16);
      for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform() - 0.5;
      x.rowwise() -= x.colwise().mean();
      x /= x.norm();
      continue;
    }
    log_sum += std::log(shrink);
    x /= shrink;
  }
  const double rate = std::exp(log_sum / static_cast<double>(rounds));
  return rate < 1e-12 ? 0.0 : rate;
}

}  // namespace decent
