// Test support: decent's Mlp as it was before models were built from layers (commit d145793), kept verbatim as
// the oracle of the equivalence tests (tests/unit/model/mlp_test.cpp): the mlp and softmax presets must compute
// what it computes.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "decent/model/gemm.hpp"
#include "decent/model/model.hpp"

namespace decent::test {

class ReferenceMlp final : public Model {
public:
  /// Throws std::invalid_argument for input_dim < 1, a hidden width < 1, classes < 2, or label_smoothing
  /// outside [0, 1).
  ReferenceMlp(Eigen::Index input_dim, std::vector<int> hidden, int classes, float label_smoothing = 0);

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



namespace reference_mlp_detail {

// Validates the architecture before the base class is built, so that errors name the real cause.
inline Eigen::Index checked_parameter_count(Eigen::Index input_dim, const std::vector<int>& hidden, int classes,
                                     float label_smoothing) {
  if (input_dim < 1) throw std::invalid_argument("mlp: input_dim must be >= 1, got " + std::to_string(input_dim));
  if (classes < 2) throw std::invalid_argument("mlp: classes must be >= 2, got " + std::to_string(classes));
  for (std::size_t l = 0; l < hidden.size(); ++l)
    if (hidden[l] < 1)
      throw std::invalid_argument("mlp: hidden layer " + std::to_string(l) + " has width " +
                                  std::to_string(hidden[l]) + ", must be >= 1");
  if (!(label_smoothing >= 0 && label_smoothing < 1))
    throw std::invalid_argument("mlp: label_smoothing must be in [0, 1), got " + std::to_string(label_smoothing));
  Eigen::Index count = 0, fan_in = input_dim;
  for (int width : hidden) {
    count += (fan_in + 1) * width;
    fan_in = width;
  }
  return count + (fan_in + 1) * classes;
}

}  // namespace reference_mlp_detail

inline ReferenceMlp::ReferenceMlp(Eigen::Index input_dim, std::vector<int> hidden, int classes, float label_smoothing)
    : Model(input_dim, classes, true, reference_mlp_detail::checked_parameter_count(input_dim, hidden, classes, label_smoothing)),
      hidden_(std::move(hidden)),
      label_smoothing_(label_smoothing) {
  widths_.push_back(input_dim);
  for (int width : hidden_) widths_.push_back(width);
  widths_.push_back(classes);
  Eigen::Index offset = 0, rows = 0;
  activation_rows_.push_back(0);
  for (int l = 0; l < layers(); ++l) {
    offsets_.push_back(offset);
    offset += (widths_[l] + 1) * widths_[l + 1];
    rows += widths_[l + 1];
    activation_rows_.push_back(rows);
  }
}

inline Eigen::Index ReferenceMlp::weight_offset(int layer) const { return offsets_.at(static_cast<std::size_t>(layer)); }
inline Eigen::Index ReferenceMlp::bias_offset(int layer) const { return weight_offset(layer) + fan_in(layer) * fan_out(layer); }
inline Eigen::Index ReferenceMlp::fan_in(int layer) const { return widths_.at(static_cast<std::size_t>(layer)); }
inline Eigen::Index ReferenceMlp::fan_out(int layer) const { return widths_.at(static_cast<std::size_t>(layer) + 1); }

inline std::string ReferenceMlp::describe_impl() const {
  std::string text = "mlp";
  for (std::size_t l = 0; l < widths_.size(); ++l) {
    text += l == 0 ? ' ' : '-';
    text += std::to_string(widths_[l]);
  }
  if (label_smoothing_ > 0) {
    std::ostringstream eps;
    eps << label_smoothing_;
    text += " label_smoothing=" + eps.str();
  }
  return text;
}

inline std::vector<MatrixBlock> ReferenceMlp::matrix_blocks_impl() const {
  std::vector<MatrixBlock> blocks;
  for (int l = 0; l < layers(); ++l) blocks.push_back({offsets_[l], widths_[l + 1], widths_[l]});
  return blocks;
}

inline void ReferenceMlp::initialize_impl(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const {
  for (int l = 0; l < layers(); ++l) {
    const auto in = static_cast<double>(widths_[l]), out = static_cast<double>(widths_[l + 1]);
    const bool relu_follows = l + 1 < layers();
    const double stddev = relu_follows ? std::sqrt(2 / in) : std::sqrt(2 / (in + out));
    const Eigen::Index weights = widths_[l] * widths_[l + 1];
    for (Eigen::Index k = 0; k < weights; ++k) params[offsets_[l] + k] = static_cast<float>(stddev * rng.normal());
    params.segment(offsets_[l] + weights, widths_[l + 1]).setZero();
  }
}

inline Eigen::Map<Eigen::MatrixXf> ReferenceMlp::activation(int layer, Eigen::Index batch) const {
  return {activations_.data() + activation_rows_[layer] * batch, widths_[layer + 1], batch};
}

inline Eigen::Map<Eigen::MatrixXf> ReferenceMlp::forward(const Eigen::Ref<const Eigen::VectorXf>& params,
                                         const Eigen::Ref<const Eigen::MatrixXf>& x) const {
  const Eigen::Index batch = x.cols();
  if (activations_.size() < activation_rows_.back() * batch) activations_.resize(activation_rows_.back() * batch);
  for (int l = 0; l < layers(); ++l) {
    const Eigen::Map<const Eigen::MatrixXf> w(params.data() + offsets_[l], widths_[l + 1], widths_[l]);
    const Eigen::Map<const Eigen::VectorXf> b(params.data() + offsets_[l] + w.size(), widths_[l + 1]);
    auto z = activation(l, batch);
    if (l == 0)
      gemm(false, false, w, x, z);
    else
      gemm(false, false, w, activation(l - 1, batch), z);
    if (l + 1 < layers())
      z = (z.colwise() + b).cwiseMax(0.0f);
    else
      z.colwise() += b;
  }
  return activation(layers() - 1, batch);
}

inline float ReferenceMlp::cross_entropy(Eigen::Map<Eigen::MatrixXf> logits, std::span<const int> labels, bool want_gradient) const {
  const Eigen::Index classes = logits.rows(), batch = logits.cols();
  if (columns_.size() < 2 * batch) columns_.resize(2 * batch);
  Eigen::Map<Eigen::RowVectorXf> column_max(columns_.data(), batch), exp_sum(columns_.data() + batch, batch);

  // Shift every column by its max: exp() then lies in (0, 1] and each exp_sum is >= 1, so the log-softmax
  // log p_c = z_c - log(sum exp z) is computed without overflow or log(0).
  column_max = logits.colwise().maxCoeff();
  logits.rowwise() -= column_max;
  float picked = 0;  // sum over samples of the shifted logit of the true class
  for (Eigen::Index j = 0; j < batch; ++j) picked += logits(labels[static_cast<std::size_t>(j)], j);
  const float eps = label_smoothing_;
  const float all = eps > 0 ? logits.sum() : 0.0f;  // smoothing puts eps / classes on every logit
  logits = logits.array().exp();
  exp_sum = logits.colwise().sum();
  const float log_sum = exp_sum.array().log().sum();
  const auto b = static_cast<float>(batch), c = static_cast<float>(classes);
  const float loss = (log_sum - (1 - eps) * picked - eps / c * all) / b;
  if (!want_gradient) return loss;

  // d(mean loss)/dz = (softmax(z) - target) / B, written over the logits.
  exp_sum = (exp_sum.array() * b).inverse();
  logits.array().rowwise() *= exp_sum.array();
  const float hit = (1 - eps) / b;
  for (Eigen::Index j = 0; j < batch; ++j) logits(labels[static_cast<std::size_t>(j)], j) -= hit;
  if (eps > 0) logits.array() -= eps / (c * b);
  return loss;
}

inline float ReferenceMlp::loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                     std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>&) const {
  return cross_entropy(forward(params, x), labels, false);
}

inline float ReferenceMlp::loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                  const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                                  const Eigen::Ref<const Eigen::VectorXf>&, Eigen::Ref<Eigen::VectorXf> grad) const {
  const float loss = cross_entropy(forward(params, x), labels, true);
  const Eigen::Index batch = x.cols();
  if (layers() > 1) {
    const Eigen::Index widest = *std::max_element(widths_.begin() + 1, widths_.end() - 1);
    if (delta_.size() < widest * batch) delta_.resize(widest * batch);
  }
  // Layer l's output buffer holds dLoss/dz_l (pre-activation) when we reach it, going down.
  for (int l = layers() - 1; l >= 0; --l) {
    const auto dz = activation(l, batch);
    Eigen::Map<Eigen::MatrixXf> dw(grad.data() + offsets_[l], widths_[l + 1], widths_[l]);
    Eigen::Map<Eigen::VectorXf> db(grad.data() + offsets_[l] + dw.size(), widths_[l + 1]);
    if (l == 0)
      gemm(false, true, dz, x, dw);
    else
      gemm(false, true, dz, activation(l - 1, batch), dw);
    db = dz.rowwise().sum();
    if (l == 0) break;  // no gradient with respect to the input
    const Eigen::Map<const Eigen::MatrixXf> w(params.data() + offsets_[l], widths_[l + 1], widths_[l]);
    Eigen::Map<Eigen::MatrixXf> da(delta_.data(), widths_[l], batch);
    gemm(true, false, w, dz, da);
    // Through the ReLU: pass where the layer's output was positive. Overwrites that output, which is no longer
    // needed once dw above has used it.
    auto a = activation(l - 1, batch);
    float* out = a.data();
    const float* in = da.data();
    for (Eigen::Index i = 0, n = a.size(); i < n; ++i) out[i] = out[i] > 0 ? in[i] : 0.0f;
  }
  return loss;
}

inline void ReferenceMlp::predict_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                       std::span<int> out) const {
  const auto logits = forward(params, x);
  for (Eigen::Index j = 0; j < logits.cols(); ++j) {
    Eigen::Index best = 0;
    logits.col(j).maxCoeff(&best);
    out[static_cast<std::size_t>(j)] = static_cast<int>(best);
  }
}

inline Evaluation ReferenceMlp::evaluate_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                              const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                              const Eigen::Ref<const Eigen::VectorXf>&) const {
  const auto logits = forward(params, x);
  long correct = 0;
  for (Eigen::Index j = 0; j < logits.cols(); ++j) {
    Eigen::Index best = 0;
    logits.col(j).maxCoeff(&best);
    correct += best == labels[static_cast<std::size_t>(j)];
  }
  Evaluation result;
  result.loss = cross_entropy(logits, labels, false);
  result.accuracy = static_cast<double>(correct) / static_cast<double>(x.cols());
  return result;
}


}  // namespace decent::test
