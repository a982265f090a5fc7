#include "decent/model/linear_regression.hpp"

#include <cmath>
#include <stdexcept>

namespace decent {

namespace {
Eigen::Index checked_parameter_count(Eigen::Index input_dim) {
  if (input_dim < 1) throw std::invalid_argument("linear: input_dim must be >= 1, got " + std::to_string(input_dim));
  return input_dim + 1;
}
}  // namespace

LinearRegression::LinearRegression(Eigen::Index input_dim)
    : Model(input_dim, 1, false, checked_parameter_count(input_dim)) {}

std::string LinearRegression::describe_impl() const { return "linear " + std::to_string(input_dim()) + "-1"; }

void LinearRegression::initialize_impl(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const {
  const double stddev = std::sqrt(2 / (static_cast<double>(input_dim()) + 1));
  for (Eigen::Index k = 0; k < input_dim(); ++k) params[k] = static_cast<float>(stddev * rng.normal());
  params[input_dim()] = 0;
}

Eigen::Map<Eigen::VectorXf> LinearRegression::residuals(const Eigen::Ref<const Eigen::VectorXf>& params,
                                                        const Eigen::Ref<const Eigen::MatrixXf>& x,
                                                        const Eigen::Ref<const Eigen::VectorXf>& targets) const {
  const Eigen::Index batch = x.cols();
  if (residuals_.size() < batch) residuals_.resize(batch);
  Eigen::Map<Eigen::VectorXf> r(residuals_.data(), batch);
  r.noalias() = x.transpose() * params.head(input_dim());
  r.array() += params[input_dim()] - targets.array();
  return r;
}

float LinearRegression::loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                  const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int>,
                                  const Eigen::Ref<const Eigen::VectorXf>& targets) const {
  return 0.5f * residuals(params, x, targets).squaredNorm() / static_cast<float>(x.cols());
}

float LinearRegression::loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                               const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int>,
                                               const Eigen::Ref<const Eigen::VectorXf>& targets,
                                               Eigen::Ref<Eigen::VectorXf> grad) const {
  const auto r = residuals(params, x, targets);
  const float inv_batch = 1.0f / static_cast<float>(x.cols());
  grad.head(input_dim()).noalias() = inv_batch * (x * r);
  grad[input_dim()] = r.sum() * inv_batch;
  return 0.5f * r.squaredNorm() * inv_batch;
}

}  // namespace decent
