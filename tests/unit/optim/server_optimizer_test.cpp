#include "decent/optim/server_optimizer.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "decent/core/error.hpp"

namespace {

using Catch::Matchers::Contains;
using namespace decent;

/// Three server updates' aggregated deltas on a 3-parameter model.
const std::vector<std::vector<double>> deltas = {{0.5, -0.25, 0.0}, {0.1, 0.3, -0.2}, {-0.4, 0.05, 0.6}};
const std::vector<double> start = {1.0, -2.0, 0.5};

/// Runs the optimizer over `deltas` from `start`.
std::vector<double> run(const ServerOptimizerOptions& o, double lr) {
  ServerOptimizer opt(o, lr, 3, 3);
  Eigen::VectorXf theta(3);
  for (int i = 0; i < 3; ++i) theta(i) = static_cast<float>(start[static_cast<std::size_t>(i)]);
  for (std::size_t u = 0; u < deltas.size(); ++u)
    opt.apply(theta, Eigen::Map<const Eigen::VectorXd>(deltas[u].data(), 3), static_cast<std::int64_t>(u));
  return {theta(0), theta(1), theta(2)};
}

/// The same updates coordinate by coordinate, written from the formulas (theta kept in float between updates).
std::vector<double> by_hand(const ServerOptimizerOptions& o, double lr) {
  std::vector<double> out;
  for (int i = 0; i < 3; ++i) {
    double x = static_cast<float>(start[static_cast<std::size_t>(i)]), m = 0, v = 0;
    for (std::size_t u = 0; u < deltas.size(); ++u) {
      const double d = deltas[u][static_cast<std::size_t>(i)], wd = o.weight_decay;
      const double rate = o.schedule == ServerLrSchedule::linear ? lr * (1.0 - static_cast<double>(u) / 3.0) : lr;
      const int t = static_cast<int>(u) + 1;
      switch (o.kind) {
        case ServerOptimizerKind::sgd: x = x + rate * (d - wd * x); break;
        case ServerOptimizerKind::momentum: {
          const double g = d - wd * x;
          m = t == 1 ? g : o.momentum * m + (1 - o.dampening) * g;
          x = x + rate * m;
          break;
        }
        case ServerOptimizerKind::adam:
        case ServerOptimizerKind::adamw: {
          double g = -d;
          if (o.kind == ServerOptimizerKind::adam) g += wd * x;
          else x = x * (1 - rate * wd);
          m = o.beta1 * m + (1 - o.beta1) * g;
          v = o.beta2 * v + (1 - o.beta2) * g * g;
          const double mh = m / (1 - std::pow(o.beta1, t)), vh = v / (1 - std::pow(o.beta2, t));
          x = x - rate * mh / (std::sqrt(vh) + o.eps);
          break;
        }
      }
      x = static_cast<float>(x);
    }
    out.push_back(x);
  }
  return out;
}

void check_against_hand(const ServerOptimizerOptions& o, double lr) {
  const auto got = run(o, lr), want = by_hand(o, lr);
  for (int i = 0; i < 3; ++i) CHECK(got[static_cast<std::size_t>(i)] == Approx(want[static_cast<std::size_t>(i)]).epsilon(1e-6));
}

}  // namespace

TEST_CASE("server optimizer sgd is the FedAvg step theta + lr Delta, bit for bit") {
  ServerOptimizer opt({}, 0.7, 5, 3);
  Eigen::VectorXf theta(3);
  theta << 1.0f, -2.0f, 0.5f;
  const Eigen::VectorXf before = theta;
  const Eigen::Map<const Eigen::VectorXd> delta(deltas[0].data(), 3);
  opt.apply(theta, delta, 0);
  const Eigen::VectorXf expected = (before.cast<double>() + 0.7 * delta).cast<float>();
  CHECK(theta == expected);
  CHECK(opt.steps() == 1);
}

TEST_CASE("server optimizers against the formulas computed by hand") {
  ServerOptimizerOptions o;
  SECTION("sgd with weight decay and the linear schedule") {
    o.weight_decay = 0.1;
    o.schedule = ServerLrSchedule::linear;
    check_against_hand(o, 0.5);
  }
  SECTION("momentum with dampening (the first update takes Delta itself)") {
    o.kind = ServerOptimizerKind::momentum;
    o.momentum = 0.8;
    o.dampening = 0.25;
    check_against_hand(o, 1.0);
  }
  SECTION("adam with bias correction and an L2 term") {
    o.kind = ServerOptimizerKind::adam;
    o.beta1 = 0.9;
    o.beta2 = 0.99;
    o.eps = 1e-3;
    o.weight_decay = 0.01;
    check_against_hand(o, 0.05);
  }
  SECTION("adamw decays theta decoupled from the moments") {
    o.kind = ServerOptimizerKind::adamw;
    o.weight_decay = 0.1;
    check_against_hand(o, 0.01);
  }
}

TEST_CASE("the linear server schedule decays from lr towards 0 over the run") {
  ServerOptimizerOptions o;
  o.schedule = ServerLrSchedule::linear;
  const ServerOptimizer opt(o, 2.0, 4, 1);
  CHECK(opt.lr_at(0) == 2.0);
  CHECK(opt.lr_at(1) == 1.5);
  CHECK(opt.lr_at(3) == 0.5);
  const ServerOptimizer constant({}, 2.0, 4, 1);
  CHECK(constant.lr_at(3) == 2.0);
}

TEST_CASE("unusable server optimizer settings are input errors naming the key") {
  CHECK_THROWS_WITH(parse_server_optimizer("lamb"), Contains("server-optimizer: 'lamb' is not allowed"));
  CHECK_THROWS_WITH(parse_server_lr_schedule("cosine"), Contains("server-lr-schedule: 'cosine' is not allowed"));
  ServerOptimizerOptions o;
  CHECK_THROWS_WITH(check_server_optimizer(o, 0), Contains("server-lr: must be a finite number > 0"));
  o.beta2 = 1;
  CHECK_THROWS_AS(check_server_optimizer(o, 1), input_error);
  CHECK_THROWS_WITH(check_server_optimizer(o, 1), Contains("server-betas: 1 is outside [0, 1)"));
  o = {};
  o.eps = 0;
  CHECK_THROWS_WITH(check_server_optimizer(o, 1), Contains("server-eps"));
  o = {};
  o.weight_decay = -1;
  CHECK_THROWS_WITH(check_server_optimizer(o, 1), Contains("server-weight-decay"));
  CHECK(to_string(parse_server_optimizer("adamw")) == "adamw");
}
