#pragma once
/// @file The server's optimizer of federated training (FedOpt, Reddi et al. 2021): the aggregated client
/// update Delta = sum_i d_i (x_i - theta^{rho_i}) is a pseudo-gradient, -Delta, that SGD, momentum, Adam or
/// AdamW applies to theta, with a constant or linearly decaying server learning rate (Reptile's annealing).
/// Formulas in docs/federated.md. Computed in double; theta is stored in float.
#include <cstdint>
#include <string>
#include <string_view>

#include <Eigen/Core>

namespace decent {

/// The server's update rule.
enum class ServerOptimizerKind {
  sgd,       ///< "sgd": theta += lr Delta (FedAvg with a server step)
  momentum,  ///< "momentum": m = mu m + (1 - dampening) Delta (m = Delta at the first update); theta += lr m
  adam,      ///< "adam": Adam on g = -Delta + wd theta, with bias correction (FedAdam)
  adamw      ///< "adamw": theta -= lr wd theta, then Adam on g = -Delta
};
/// Parses "sgd", "momentum", "adam" or "adamw"; input_error names the key server-optimizer and the values.
ServerOptimizerKind parse_server_optimizer(std::string_view name);
std::string to_string(ServerOptimizerKind kind);

/// The server learning rate over the run.
enum class ServerLrSchedule {
  constant,  ///< "constant": lr at every update
  linear     ///< "linear": lr (1 - u / U) at update u of U, decaying to 0 (Reptile's eps_t)
};
/// Parses "constant" or "linear"; input_error names the key server-lr-schedule.
ServerLrSchedule parse_server_lr_schedule(std::string_view name);
std::string to_string(ServerLrSchedule schedule);

/// The server optimizer's settings besides its learning rate (decent-train's server-* keys).
struct ServerOptimizerOptions {
  ServerOptimizerKind kind = ServerOptimizerKind::sgd;
  ServerLrSchedule schedule = ServerLrSchedule::constant;
  double momentum = 0.9;      ///< momentum: mu in [0, 1)
  double dampening = 0;       ///< momentum: in [0, 1)
  double beta1 = 0.9, beta2 = 0.999;  ///< adam, adamw: in [0, 1)
  double eps = 1e-8;          ///< adam, adamw: > 0 (FedOpt's tau)
  double weight_decay = 0;    ///< >= 0: adam's L2 term, adamw's decoupled decay, sgd and momentum's L2 term
};

/// input_error naming the key if `options` or `lr` (> 0, finite) are unusable.
void check_server_optimizer(const ServerOptimizerOptions& options, double lr);

/// The server's optimizer and its state (momentum, Adam's moments and step count).
class ServerOptimizer {
public:
  /// For a run of `updates` server updates (the linear schedule reaches 0 after the last).
  ServerOptimizer(const ServerOptimizerOptions& options, double lr, std::int64_t updates, Eigen::Index dim);
  /// The learning rate of update u (0-based).
  double lr_at(std::int64_t u) const noexcept;
  /// Update u: theta <- theta + the rule's step for the pseudo-gradient -delta.
  void apply(Eigen::VectorXf& theta, const Eigen::VectorXd& delta, std::int64_t u);
  /// The state, for checkpoints: the first moment (momentum buffer), the second moment, the steps taken.
  const Eigen::VectorXd& first_moment() const noexcept { return m_; }
  const Eigen::VectorXd& second_moment() const noexcept { return v_; }
  std::int64_t steps() const noexcept { return steps_; }
  /// Continues from a saved state (first_moment(), second_moment(), steps()); std::invalid_argument if a
  /// moment's size is neither 0 nor this optimizer's.
  void restore(const Eigen::VectorXd& first, const Eigen::VectorXd& second, std::int64_t steps);
  const ServerOptimizerOptions& options() const noexcept { return options_; }

private:
  ServerOptimizerOptions options_;
  double lr_;
  std::int64_t updates_;
  Eigen::VectorXd m_, v_, g_;
  std::int64_t steps_ = 0;
};

}  // namespace decent
