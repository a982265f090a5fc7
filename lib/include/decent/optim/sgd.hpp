#pragma once
/// @file Stochastic gradient descent with momentum, Nesterov, weight decay and gradient clipping,
/// on one node's flat parameter vector (torch.optim.SGD semantics, dampening 0).
#include <cstdint>

#include <Eigen/Dense>

namespace decent {

/// SGD hyper-parameters (the learning rate is passed per step, see LrSchedule).
struct SgdOptions {
  /// Heavy-ball momentum, in [0, 1); 0 = plain SGD.
  float momentum = 0;
  /// Nesterov momentum (update = g + momentum * buf); needs momentum > 0.
  bool nesterov = false;
  /// L2 weight decay, added to the gradient as g += weight_decay * x (coupled, as torch.optim.SGD); >= 0.
  float weight_decay = 0;
  /// Element-wise clamp of the gradient to [-clip_value, clip_value] before the step (the paper clamps to
  /// [-1, 1]); 0 = off; >= 0.
  float clip_value = 0;
  /// If the gradient's L2 norm exceeds clip_norm, rescale it to exactly clip_norm; 0 = off; >= 0.
  float clip_norm = 0;
};

/// Per-node optimizer state (never mixed between nodes, never averaged by a merge).
struct SgdState {
  /// Momentum buffer, sized at the first step when momentum > 0, empty otherwise.
  Eigen::VectorXf momentum;
  /// Number of steps taken with this state.
  std::int64_t steps = 0;
};

/// Stateless SGD rule: one object serves every node, each node owns its SgdState.
class Sgd {
public:
  /// Throws std::invalid_argument naming the option if a value is out of range.
  explicit Sgd(SgdOptions options);

  /// x <- x - lr * update(g), torch.optim.SGD semantics, in this order:
  ///   1. g <- clamp(g, -clip_value, clip_value)            (if clip_value > 0)
  ///   2. g <- g * clip_norm / ||g||  when ||g|| > clip_norm  (if clip_norm > 0)
  ///   3. g <- g + weight_decay * x
  ///   4. buf <- g at the first step, else buf <- momentum * buf + g   (if momentum > 0)
  ///   5. update = nesterov ? g + momentum * buf : (momentum > 0 ? buf : g)
  /// `grad` is modified in place (steps 1-3). `params` and `grad` must have the same size, and the same
  /// size at every step for a given state (std::invalid_argument otherwise). Allocates only at the first step
  /// of a state with momentum > 0.
  void step(Eigen::Ref<Eigen::VectorXf> params, Eigen::Ref<Eigen::VectorXf> grad, SgdState& state,
            float lr) const;

  /// The validated options.
  const SgdOptions& options() const noexcept { return options_; }

private:
  SgdOptions options_;
};

}  // namespace decent
