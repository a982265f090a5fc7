#pragma once
/// @file Multi-layer perceptron: ReLU hidden layers and a softmax cross-entropy output, built from layers.
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "decent/model/layer_model.hpp"

namespace decent {

/// A classifier x -> softmax(W_L relu(... relu(W_1 x + b_1) ...) + b_L) trained with cross-entropy, optionally
/// against label-smoothed targets (1 - eps) one_hot(y) + eps / classes. With no hidden layers it is multinomial
/// logistic regression. It is the layer spec `dense(h_1) relu ... dense(h_k) relu dense(classes)` on a flat input
/// (the `mlp` preset of docs/models.md): blocks `dense1.weight`, `dense1.bias`, ..., `head.weight`, `head.bias`;
/// the features are the last hidden layer's output (the input for no hidden layers).
///
/// Flat layout: the layers in order from input to output; for layer l with fan-in n_{l-1} and width n_l,
/// first W_l (n_l x n_{l-1}, column-major: entry (i, j) at offset weight_offset(l) + j * n_l + i), then
/// b_l (n_l entries, at bias_offset(l)). Widths are n_0 = input_dim, the hidden widths, n_L = classes.
///
/// Initialization: He normal (variance 2 / fan_in) for the hidden layers, which feed a ReLU; Xavier/Glorot
/// normal (variance 2 / (fan_in + fan_out)) for the output layer; zero biases.
///
/// The whole mini-batch goes through each layer as one matrix product (decent::gemm: OpenBLAS or Eigen,
/// decent/model/gemm.hpp), with scratch buffers kept between calls: not safe to use one object from two
/// threads at once.
class Mlp : public LayerModel {
public:
  /// Throws std::invalid_argument for input_dim < 1, a hidden width < 1, classes < 2, or label_smoothing
  /// outside [0, 1).
  Mlp(Eigen::Index input_dim, std::vector<int> hidden, int classes, float label_smoothing = 0);

  /// Widths of the hidden layers (may be empty).
  const std::vector<int>& hidden() const noexcept { return hidden_; }
  /// The label smoothing eps in [0, 1).
  float label_smoothing() const noexcept { return network().label_smoothing(); }
  /// Number of affine layers L (hidden layers + output layer).
  int layers() const noexcept { return static_cast<int>(hidden_.size()) + 1; }
  /// Offset of W_l in the flat vector, for l in 0..layers()-1 (0 is the first layer).
  Eigen::Index weight_offset(int layer) const;
  /// Offset of b_l in the flat vector.
  Eigen::Index bias_offset(int layer) const;
  /// Fan-in and width of layer l.
  Eigen::Index fan_in(int layer) const;
  Eigen::Index fan_out(int layer) const;

protected:
  /// "mlp 784-256-10" (with " label_smoothing=EPS" when set).
  std::string describe_impl() const override;

private:
  std::vector<int> hidden_;
  std::vector<Eigen::Index> widths_;  // n_0 .. n_L
};

}  // namespace decent
