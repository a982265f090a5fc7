#include "decent/topology/spectral.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <stdexcept>

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

}  // namespace decent
