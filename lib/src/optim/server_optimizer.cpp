#include "decent/optim/server_optimizer.hpp"
#include "core/number_text.hpp"

#include <cmath>
#include <sstream>

#include "decent/core/error.hpp"

namespace decent {

using detail::number_text;

namespace {


void in_unit_interval(const char* key, double value) {
  if (!(value >= 0 && value < 1))
    throw input_error(std::string(key) + ": " + number_text(value) + " is outside [0, 1)");
}

}  // namespace

ServerOptimizerKind parse_server_optimizer(std::string_view name) {
  if (name == "sgd") return ServerOptimizerKind::sgd;
  if (name == "momentum") return ServerOptimizerKind::momentum;
  if (name == "adam") return ServerOptimizerKind::adam;
  if (name == "adamw") return ServerOptimizerKind::adamw;
  throw input_error("server-optimizer: '" + std::string(name) +
                    "' is not allowed (allowed: sgd, momentum, adam, adamw)");
}

std::string to_string(ServerOptimizerKind kind) {
  switch (kind) {
    case ServerOptimizerKind::sgd: return "sgd";
    case ServerOptimizerKind::momentum: return "momentum";
    case ServerOptimizerKind::adam: return "adam";
    case ServerOptimizerKind::adamw: return "adamw";
  }
  return "?";
}

ServerLrSchedule parse_server_lr_schedule(std::string_view name) {
  if (name == "constant") return ServerLrSchedule::constant;
  if (name == "linear") return ServerLrSchedule::linear;
  throw input_error("server-lr-schedule: '" + std::string(name) + "' is not allowed (allowed: constant, linear)");
}

std::string to_string(ServerLrSchedule schedule) {
  return schedule == ServerLrSchedule::linear ? "linear" : "constant";
}

void check_server_optimizer(const ServerOptimizerOptions& o, double lr) {
  if (!(lr > 0 && std::isfinite(lr)))
    throw input_error("server-lr: must be a finite number > 0, got " + number_text(lr));
  in_unit_interval("server-momentum", o.momentum);
  in_unit_interval("server-dampening", o.dampening);
  in_unit_interval("server-betas", o.beta1);
  in_unit_interval("server-betas", o.beta2);
  if (!(o.eps > 0 && std::isfinite(o.eps)))
    throw input_error("server-eps: must be a finite number > 0, got " + number_text(o.eps));
  if (!(o.weight_decay >= 0 && std::isfinite(o.weight_decay)))
    throw input_error("server-weight-decay: must be a finite number >= 0, got " + number_text(o.weight_decay));
}

ServerOptimizer::ServerOptimizer(const ServerOptimizerOptions& options, double lr, std::int64_t updates,
                                 Eigen::Index dim)
    : options_(options), lr_(lr), updates_(updates) {
  check_server_optimizer(options, lr);
  if (updates < 1)
    throw std::invalid_argument("ServerOptimizer: needs at least one update, got " + std::to_string(updates));
  if (options.kind != ServerOptimizerKind::sgd) m_ = Eigen::VectorXd::Zero(dim);
  if (options.kind == ServerOptimizerKind::adam || options.kind == ServerOptimizerKind::adamw)
    v_ = Eigen::VectorXd::Zero(dim);
}

double ServerOptimizer::lr_at(std::int64_t u) const noexcept {
  if (options_.schedule == ServerLrSchedule::constant) return lr_;
  return lr_ * (1.0 - static_cast<double>(u) / static_cast<double>(updates_));
}

void ServerOptimizer::apply(Eigen::VectorXf& theta, const Eigen::VectorXd& delta, std::int64_t u) {
  const double lr = lr_at(u);
  const double wd = options_.weight_decay;
  ++steps_;
  switch (options_.kind) {
    case ServerOptimizerKind::sgd:
      // The FedAvg server step as it always was: theta + lr Delta, summed in double.
      if (wd == 0) theta = (theta.cast<double>() + lr * delta).cast<float>();
      else theta = (theta.cast<double>() + lr * (delta - wd * theta.cast<double>())).cast<float>();
      return;
    case ServerOptimizerKind::momentum: {
      g_ = wd == 0 ? delta : Eigen::VectorXd(delta - wd * theta.cast<double>());  // the descent direction
      if (steps_ == 1) m_ = g_;
      else m_ = options_.momentum * m_ + (1 - options_.dampening) * g_;
      theta = (theta.cast<double>() + lr * m_).cast<float>();
      return;
    }
    case ServerOptimizerKind::adam:
    case ServerOptimizerKind::adamw: {
      const bool decoupled = options_.kind == ServerOptimizerKind::adamw;
      Eigen::VectorXd x = theta.cast<double>();
      g_ = -delta;  // the pseudo-gradient
      if (!decoupled && wd != 0) g_ += wd * x;
      if (decoupled && wd != 0) x *= 1 - lr * wd;
      const double b1 = options_.beta1, b2 = options_.beta2;
      m_ = b1 * m_ + (1 - b1) * g_;
      v_ = b2 * v_ + (1 - b2) * g_.cwiseProduct(g_);
      const auto t = static_cast<double>(steps_);
      const double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);  // bias corrections
      x.array() -= lr * (m_.array() / c1) / ((v_.array() / c2).sqrt() + options_.eps);
      theta = x.cast<float>();
      return;
    }
  }
}

void ServerOptimizer::restore(const Eigen::VectorXd& first, const Eigen::VectorXd& second, std::int64_t steps) {
  if (first.size() != m_.size() || second.size() != v_.size() || steps < 0)
    throw std::invalid_argument("server optimizer: a saved state with moments of " + std::to_string(first.size()) +
                                " and " + std::to_string(second.size()) + " entries and " + std::to_string(steps) +
                                " steps does not fit this " + to_string(options_.kind) + " optimizer (" +
                                std::to_string(m_.size()) + " and " + std::to_string(v_.size()) + ")");
  m_ = first;
  v_ = second;
  steps_ = steps;
}

}  // namespace decent
