#pragma once
/// @file What a training step minimizes beyond plain labels: soft targets, per-sample weights, an injected
/// feature gradient, and the random stream of stochastic layers.
#include <span>

#include "decent/core/random.hpp"
#include "decent/model/batch.hpp"

namespace decent {

/// The objective of Model::loss_and_gradient for B samples and C classes. With only `labels` set it is the model's
/// plain loss (cross-entropy, with the model's label smoothing). Otherwise, per sample j with logits z_j:
///
///   l_j = (1 - s) CE(y_j, softmax(z_j)) + s tau^2 CE(q_j, softmax(z_j / tau))   (s = soft_weight, tau = temperature)
///   loss = (1 / B) sum_j w_j l_j                                                 (w_j = sample_weights, default 1)
///
/// where the soft part is present only when soft_targets are given (soft_weight 1 then needs no labels), and
/// CE(q, p) = -sum_c q_c log p_c. The gradient also receives `feature_gradient` at the feature layer (added to
/// d loss / d features as given; its own loss term is the caller's to add). Spans are column-major.
template <class T>
struct BasicObjective {
  std::span<const int> labels;            ///< B class ids (may be empty when soft targets carry all the weight)
  std::span<const T> targets;             ///< B regression targets (regression models; plain objective only)
  std::span<const T> soft_targets;        ///< C x B target distributions (distillation), or empty
  T soft_weight = 1;                      ///< s in [0, 1]: the soft targets' share of each sample's loss
  T temperature = 1;                      ///< tau > 0 of the soft part
  std::span<const T> sample_weights;      ///< B weights >= 0, or empty (all 1)
  std::span<const T> feature_gradient;    ///< feature_dim x B, added at the feature layer, or empty
  Rng* rng = nullptr;                     ///< the node's stream for stochastic layers (dropout); null: none drawn
};

/// The objective of float models.
using Objective = BasicObjective<float>;

/// The plain objective of a mini-batch (its labels or targets), drawing stochastic layers from `rng`.
inline Objective objective_of(const Batch& batch, Rng* rng) {
  Objective objective;
  objective.labels = batch.labels;
  objective.targets = std::span<const float>(batch.targets.data(), static_cast<std::size_t>(batch.targets.size()));
  objective.rng = rng;
  return objective;
}

}  // namespace decent
