#pragma once
/// @file A classifier built from layers: a bound Sequence, its feature layer and a softmax cross-entropy loss.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "decent/core/layout.hpp"
#include "decent/model/blocks.hpp"
#include "decent/model/objective.hpp"
#include "decent/model/sequence.hpp"

namespace decent {

/// A classifier x -> logits = layers(x) with the mean softmax cross-entropy loss (optionally label-smoothed:
/// targets (1 - eps) one_hot(y) + eps / C), over one flat parameter vector: the layers' slices in order.
///
/// The feature layer splits the layers into a base (layers before it) and a head (the rest): features are the
/// input of layer feature_index(), by default the last dense layer (so the features are the penultimate
/// activations). Blocks of base layers have role base, the others head; the last dense layer is named `head`.
///
/// Scratch is kept between calls (the layers' and the loss's), so one object serves one call at a time.
template <class T>
class Network {
public:
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using ConstMap = Eigen::Map<const Matrix>;
  using MutableMap = Eigen::Map<Matrix>;

  /// Binds `layers` to one sample of shape `input`. feature_index: the layer whose input is the features (0 ..
  /// size(); size() makes the logits the features); by default the last dense layer, or size() without one.
  /// Throws shape_error if a layer cannot take its input or the output is not `classes` values per sample, and
  /// std::invalid_argument for classes < 2, label_smoothing outside [0, 1) or feature_index > size().
  Network(Sequence<T> layers, TensorShape input, int classes, std::optional<std::size_t> feature_index = std::nullopt,
          T label_smoothing = 0);

  const Sequence<T>& layers() const noexcept { return layers_; }
  const TensorShape& input_shape() const noexcept { return layers_.input_shape(); }
  int classes() const noexcept { return classes_; }
  T label_smoothing() const noexcept { return smoothing_; }
  Eigen::Index parameter_count() const noexcept { return layers_.parameter_count(); }
  /// The layer whose input is the features.
  std::size_t feature_index() const noexcept { return feature_index_; }
  /// Shape and size of one sample's features.
  TensorShape feature_shape() const;
  Eigen::Index feature_dim() const { return feature_shape().size(); }
  /// True if some layer draws from the random stream while training (dropout).
  bool stochastic() const { return layers_.stochastic(); }

  /// Every parameter block in flat order, with its role.
  std::vector<ParameterBlock> blocks() const;
  /// The weight matrices (dense and convolution weights) for low-rank compression.
  std::vector<MatrixBlock> matrix_blocks() const;

  /// Initial parameters (every layer's rule, in order) from rng.
  void initialize(T* params, Rng& rng) const { layers_.initialize(params, rng); }

  /// Inference: the logits (C x B) of the samples (columns) of x, valid until the next call.
  ConstMap logits(const T* params, ConstMap x) const;
  /// Inference: the features (feature_dim() x B), valid until the next call.
  ConstMap features(const T* params, ConstMap x) const;
  /// Inference: mean loss over the samples (plain objective).
  T loss(const T* params, ConstMap x, std::span<const int> labels) const;
  /// Inference: mean loss and the number of correctly predicted labels, from one forward pass.
  std::pair<T, std::int64_t> evaluate(const T* params, ConstMap x, std::span<const int> labels) const;
  /// Inference: each sample's plain loss into loss[0 .. B) and, if `correct` is not empty, 1 where the
  /// predicted class (smallest on ties) is the label, else 0.
  void per_sample_loss(const T* params, ConstMap x, std::span<const int> labels, std::span<T> loss,
                       std::span<std::uint8_t> correct) const;
  /// Inference: the predicted class per sample (smallest on ties).
  void predict(const T* params, ConstMap x, std::span<int> out) const;

  /// Training pass (stochastic layers active when objective.rng is set): the objective's loss, and its gradient
  /// into grad (parameter_count() entries). Sizes are the caller's to check (Model does); throws
  /// std::invalid_argument for stochastic layers without objective.rng.
  T loss_and_gradient(const T* params, ConstMap x, const BasicObjective<T>& objective, T* grad) const;

private:
  // Shifted-logit cross-entropy over the logits in z, in place; with want_gradient z becomes d(mean loss)/dz.
  T plain_cross_entropy(MutableMap z, std::span<const int> labels, bool want_gradient) const;
  // The general objective (soft targets, weights), d(loss)/dz into z.
  T objective_cross_entropy(MutableMap z, const BasicObjective<T>& objective) const;
  MutableMap copy_logits(ConstMap logits) const;

  Sequence<T> layers_;
  int classes_;
  std::size_t feature_index_ = 0;
  T smoothing_;
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  mutable Vector z_;        // logits, then their gradient
  mutable Vector columns_;  // per-sample values
};

}  // namespace decent
