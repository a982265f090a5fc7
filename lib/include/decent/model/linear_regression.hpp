#pragma once
/// @file Least-squares linear regression.
#include <Eigen/Dense>
#include <span>
#include <string>

#include "decent/model/model.hpp"

namespace decent {

/// Linear regression y ~ w^T x + b with the loss mean over the batch of 0.5 (w^T x + b - y)^2. A regression
/// model: outputs() is 1, batches carry targets, accuracy is NaN and predict() throws.
///
/// Flat layout: w (input_dim entries), then b (one entry, at offset input_dim).
/// Initialization: Xavier/Glorot normal, variance 2 / (input_dim + 1); zero b.
class LinearRegression final : public Model {
public:
  /// Throws std::invalid_argument for input_dim < 1.
  explicit LinearRegression(Eigen::Index input_dim);

protected:
  void initialize_impl(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const override;
  float loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                               const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                               const Eigen::Ref<const Eigen::VectorXf>& targets,
                               Eigen::Ref<Eigen::VectorXf> grad) const override;
  float loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                  std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const override;
  std::string describe_impl() const override;

private:
  // Residuals w^T x + b - y for the B samples, in residuals_.
  Eigen::Map<Eigen::VectorXf> residuals(const Eigen::Ref<const Eigen::VectorXf>& params,
                                        const Eigen::Ref<const Eigen::MatrixXf>& x,
                                        const Eigen::Ref<const Eigen::VectorXf>& targets) const;

  mutable Eigen::VectorXf residuals_;  // grow-only scratch, B entries
};

}  // namespace decent
