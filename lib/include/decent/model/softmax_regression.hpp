#pragma once
/// @file Multinomial logistic regression.
#include <Eigen/Dense>

#include "decent/model/mlp.hpp"

namespace decent {

/// Multinomial logistic regression: p(y | x) = softmax(W x + b), trained with cross-entropy, optionally against
/// label-smoothed targets (1 - eps) one_hot(y) + eps / classes. No L2 term: weight decay lives in the optimizer.
///
/// It is the Mlp without hidden layers (the `softmax` preset: `dense(classes)`). Flat layout: W (classes x input_dim,
/// column-major: entry (c, j) at offset j * classes + c), then b (classes entries, at offset
/// classes * input_dim). Initialization: Xavier/Glorot normal, variance 2 / (input_dim + classes); zero b.
class SoftmaxRegression final : public Mlp {
public:
  /// Throws std::invalid_argument for input_dim < 1, classes < 2 or label_smoothing outside [0, 1).
  SoftmaxRegression(Eigen::Index input_dim, int classes, float label_smoothing = 0);

protected:
  std::string describe_impl() const override;
};

}  // namespace decent
