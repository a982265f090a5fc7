#pragma once
/// @file Multi-layer perceptron: ReLU hidden layers and a softmax cross-entropy output.
#include <Eigen/Dense>
#include <span>
#include <string>
#include <vector>

#include "decent/model/model.hpp"

namespace decent {

/// A classifier x -> softmax(W_L relu(... relu(W_1 x + b_1) ...) + b_L) trained with cross-entropy, optionally
/// against label-smoothed targets (1 - eps) one_hot(y) + eps / classes. With no hidden layers it is
/// multinomial logistic regression.
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
class Mlp : public Model {
public:
  /// Throws std::invalid_argument for input_dim < 1, a hidden width < 1, classes < 2, or label_smoothing
  /// outside [0, 1).
  Mlp(Eigen::Index input_dim, std::vector<int> hidden, int classes, float label_smoothing = 0);

  /// Widths of the hidden layers (may be empty).
  const std::vector<int>& hidden() const noexcept { return hidden_; }
  /// The label smoothing eps in [0, 1).
  float label_smoothing() const noexcept { return label_smoothing_; }
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
  void initialize_impl(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const override;
  float loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                               const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                               const Eigen::Ref<const Eigen::VectorXf>& targets,
                               Eigen::Ref<Eigen::VectorXf> grad) const override;
  float loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                  std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const override;
  void predict_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                    std::span<int> out) const override;
  Evaluation evaluate_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                           std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const override;
  std::string describe_impl() const override;
  /// W_1 .. W_L, each {weight_offset(l), fan_out(l), fan_in(l)}; the biases are in no block.
  std::vector<MatrixBlock> matrix_blocks_impl() const override;

private:
  // Runs the forward pass for the B columns of x; returns the logits (classes x B) inside activations_.
  Eigen::Map<Eigen::MatrixXf> forward(const Eigen::Ref<const Eigen::VectorXf>& params,
                                      const Eigen::Ref<const Eigen::MatrixXf>& x) const;
  // Output (after ReLU for hidden layers, logits for the last) of layer l for the current batch size.
  Eigen::Map<Eigen::MatrixXf> activation(int layer, Eigen::Index batch) const;
  // Turns logits into the mean (smoothed) cross-entropy; with want_gradient, leaves dLoss/dlogits in place.
  float cross_entropy(Eigen::Map<Eigen::MatrixXf> logits, std::span<const int> labels, bool want_gradient) const;

  std::vector<int> hidden_;
  float label_smoothing_;
  std::vector<Eigen::Index> widths_;          // n_0 .. n_L
  std::vector<Eigen::Index> offsets_;         // offset of W_l; b_l follows at offsets_[l] + n_l * n_{l-1}
  std::vector<Eigen::Index> activation_rows_; // prefix sums of n_1 .. n_L (row offset of layer l's output)
  // Grow-only scratch, mapped per call to the current batch size.
  mutable Eigen::VectorXf activations_;  // every layer's output, (n_1 + ... + n_L) x B
  mutable Eigen::VectorXf delta_;        // back-propagated gradient before the ReLU mask, max hidden width x B
  mutable Eigen::VectorXf columns_;      // per-sample values (column max, sums), 3 x B
};

}  // namespace decent
