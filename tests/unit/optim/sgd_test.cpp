#include "decent/optim/sgd.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "decent/core/random.hpp"

using namespace decent;

namespace {

// An independent, element-by-element re-implementation of torch.optim.SGD (dampening 0, maximize false), preceded
// by the gradient clipping the paper applies before optimizer.step().
struct ScalarSgd {
  SgdOptions o;
  std::vector<float> buf;
  bool has_buf = false;

  void step(std::vector<float>& x, std::vector<float> g, float lr) {
    const std::size_t d = x.size();
    if (o.clip_value > 0)
      for (auto& v : g) v = std::min(std::max(v, -o.clip_value), o.clip_value);
    if (o.clip_norm > 0) {
      double sq = 0;
      for (float v : g) sq += static_cast<double>(v) * v;
      const double norm = std::sqrt(sq);
      if (norm > o.clip_norm)
        for (auto& v : g) v = static_cast<float>(v * (o.clip_norm / norm));
    }
    for (std::size_t i = 0; i < d; ++i) g[i] += o.weight_decay * x[i];
    if (o.momentum != 0) {
      if (!has_buf) {
        buf = g;
        has_buf = true;
      } else {
        for (std::size_t i = 0; i < d; ++i) buf[i] = o.momentum * buf[i] + g[i];
      }
      for (std::size_t i = 0; i < d; ++i) {
        const float update = o.nesterov ? g[i] + o.momentum * buf[i] : buf[i];
        x[i] -= lr * update;
      }
    } else {
      for (std::size_t i = 0; i < d; ++i) x[i] -= lr * g[i];
    }
  }
};

std::vector<float> to_std(const Eigen::VectorXf& v) { return {v.data(), v.data() + v.size()}; }

}  // namespace

TEST_CASE("sgd: one and two steps by hand", "[optim][sgd]") {
  Eigen::VectorXf x(1), g(1);
  SgdState state;

  SECTION("plain") {
    x << 1.0f;
    g << 2.0f;
    Sgd(SgdOptions{}).step(x, g, state, 0.1f);
    CHECK(x(0) == Approx(0.8f));
    CHECK(state.momentum.size() == 0);
    CHECK(state.steps == 1);
  }
  SECTION("momentum 0.9 with weight decay 0.5: buf = g at the first step") {
    const Sgd sgd(SgdOptions{.momentum = 0.9f, .weight_decay = 0.5f});
    x << 1.0f;
    g << 2.0f;
    sgd.step(x, g, state, 0.1f);  // g = 2 + 0.5 = 2.5, buf = 2.5, x = 1 - 0.25
    CHECK(g(0) == Approx(2.5f));  // the gradient is modified in place
    CHECK(x(0) == Approx(0.75f));
    g << 2.0f;
    sgd.step(x, g, state, 0.1f);  // g = 2 + 0.375 = 2.375, buf = 2.25 + 2.375 = 4.625, x = 0.75 - 0.4625
    CHECK(state.momentum(0) == Approx(4.625f));
    CHECK(x(0) == Approx(0.2875f));
    CHECK(state.steps == 2);
  }
  SECTION("nesterov") {
    const Sgd sgd(SgdOptions{.momentum = 0.9f, .nesterov = true});
    x << 1.0f;
    g << 2.0f;
    sgd.step(x, g, state, 0.1f);  // buf = 2, update = 2 + 1.8 = 3.8
    CHECK(x(0) == Approx(0.62f));
  }
  SECTION("clipping: value, then norm") {
    Eigen::VectorXf x2 = Eigen::VectorXf::Zero(2), g2(2);
    g2 << 3.0f, -0.5f;
    Sgd(SgdOptions{.clip_value = 1.0f}).step(x2, g2, state, 1.0f);
    CHECK(g2(0) == 1.0f);
    CHECK(g2(1) == -0.5f);
    CHECK(x2(0) == -1.0f);
    g2 << 3.0f, 4.0f;  // norm 5 -> 2
    Sgd(SgdOptions{.clip_norm = 2.0f}).step(x2, g2, state, 1.0f);
    CHECK(g2.norm() == Approx(2.0f));
    CHECK(g2(0) == Approx(1.2f));
    g2 << 0.3f, 0.4f;  // below the threshold: untouched
    Sgd(SgdOptions{.clip_norm = 2.0f}).step(x2, g2, state, 1.0f);
    CHECK(g2(0) == 0.3f);
  }
}

TEST_CASE("sgd matches a scalar torch.optim.SGD over several steps", "[optim][sgd]") {
  const int d = 37;  // not a multiple of the SIMD width
  for (float momentum : {0.0f, 0.5f, 0.9f})
    for (bool nesterov : {false, true})
      for (float wd : {0.0f, 5e-4f, 0.1f})
        for (float clip_value : {0.0f, 1.0f})
          for (float clip_norm : {0.0f, 3.0f}) {
            if (nesterov && momentum == 0) continue;
            const SgdOptions o{momentum, nesterov, wd, clip_value, clip_norm};
            INFO("momentum " << momentum << " nesterov " << nesterov << " wd " << wd << " clip_value " << clip_value
                             << " clip_norm " << clip_norm);
            const Sgd sgd(o);
            ScalarSgd ref{o, {}, false};
            Rng rng(derive_seed(7, {static_cast<std::uint64_t>(momentum * 10), nesterov, static_cast<std::uint64_t>(wd * 1e4)}));
            Eigen::VectorXf x(d);
            for (int i = 0; i < d; ++i) x(i) = static_cast<float>(4 * rng.uniform() - 2);
            std::vector<float> x_ref = to_std(x);
            SgdState state;
            for (int step = 0; step < 8; ++step) {
              const float lr = 0.05f + 0.01f * static_cast<float>(step);  // a changing learning rate
              Eigen::VectorXf g(d);
              for (int i = 0; i < d; ++i) g(i) = static_cast<float>(6 * rng.uniform() - 3);  // some beyond the clamp
              ref.step(x_ref, to_std(g), lr);
              sgd.step(x, g, state, lr);
              for (int i = 0; i < d; ++i) REQUIRE(x(i) == Approx(x_ref[static_cast<std::size_t>(i)]).margin(1e-5).epsilon(1e-5));
            }
            CHECK(state.steps == 8);
          }
}

TEST_CASE("sgd converges on a quadratic", "[optim][sgd]") {
  // f(x) = 1/2 x^T A x - b^T x with A = diag(1 .. 10): the minimizer is b / diag(A).
  const int d = 20;
  Eigen::VectorXf a = Eigen::VectorXf::LinSpaced(d, 1.0f, 10.0f);
  Eigen::VectorXf b = Eigen::VectorXf::LinSpaced(d, -1.0f, 1.0f);
  const Eigen::VectorXf x_star = b.cwiseQuotient(a);
  for (const SgdOptions& o : {SgdOptions{}, SgdOptions{.momentum = 0.9f}, SgdOptions{.momentum = 0.9f, .nesterov = true},
                              SgdOptions{.momentum = 0.5f, .clip_value = 1.0f}}) {
    const Sgd sgd(o);
    SgdState state;
    Eigen::VectorXf x = Eigen::VectorXf::Constant(d, 3.0f);
    Eigen::VectorXf g(d);
    for (int step = 0; step < 600; ++step) {
      g = a.cwiseProduct(x) - b;
      sgd.step(x, g, state, 0.05f);
    }
    CHECK((x - x_star).norm() < 1e-4f);
  }
  // With weight decay the minimizer of f + wd/2 |x|^2 is b / (diag(A) + wd).
  const float wd = 0.5f;
  const Sgd sgd(SgdOptions{.momentum = 0.9f, .weight_decay = wd});
  SgdState state;
  Eigen::VectorXf x = Eigen::VectorXf::Zero(d);
  Eigen::VectorXf g(d);
  for (int step = 0; step < 600; ++step) {
    g = a.cwiseProduct(x) - b;
    sgd.step(x, g, state, 0.05f);
  }
  CHECK((x - b.cwiseQuotient(a.array().matrix() + Eigen::VectorXf::Constant(d, wd))).norm() < 1e-4f);
}

TEST_CASE("sgd works on columns of a matrix and keeps its buffer", "[optim][sgd]") {
  Eigen::MatrixXf params = Eigen::MatrixXf::Ones(16, 3);  // three nodes, one column each
  Eigen::MatrixXf grads = Eigen::MatrixXf::Constant(16, 3, 0.5f);
  const Sgd sgd(SgdOptions{.momentum = 0.9f});
  std::vector<SgdState> states(3);
  for (int node = 0; node < 3; ++node) sgd.step(params.col(node), grads.col(node), states[node], 0.1f);
  const float* buffer = states[1].momentum.data();
  for (int step = 0; step < 5; ++step)
    for (int node = 0; node < 3; ++node) sgd.step(params.col(node), grads.col(node), states[node], 0.1f);
  CHECK(states[1].momentum.data() == buffer);  // no reallocation after the first step
  CHECK(params.col(0) == params.col(2));
  CHECK(params(0, 0) < 1.0f);
}

TEST_CASE("sgd rejects bad options and mismatched sizes", "[optim][sgd]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(Sgd(SgdOptions{.momentum = 1.0f}), Contains("momentum") && Contains("[0, 1)"));
  CHECK_THROWS_WITH(Sgd(SgdOptions{.momentum = -0.1f}), Contains("momentum"));
  CHECK_THROWS_WITH(Sgd(SgdOptions{.momentum = NAN}), Contains("momentum"));
  CHECK_THROWS_WITH(Sgd(SgdOptions{.nesterov = true}), Contains("nesterov") && Contains("momentum > 0"));
  CHECK_THROWS_WITH(Sgd(SgdOptions{.weight_decay = -1e-4f}), Contains("weight_decay"));
  CHECK_THROWS_WITH(Sgd(SgdOptions{.clip_value = -1.0f}), Contains("clip_value"));
  CHECK_THROWS_WITH(Sgd(SgdOptions{.clip_norm = -1.0f}), Contains("clip_norm"));
  CHECK_THROWS_AS(Sgd(SgdOptions{.momentum = 1.0f}), std::invalid_argument);

  const Sgd sgd(SgdOptions{.momentum = 0.9f});
  SgdState state;
  Eigen::VectorXf x = Eigen::VectorXf::Zero(4), g = Eigen::VectorXf::Ones(3);
  CHECK_THROWS_AS(sgd.step(x, g, state, 0.1f), std::invalid_argument);
  Eigen::VectorXf g4 = Eigen::VectorXf::Ones(4);
  sgd.step(x, g4, state, 0.1f);
  Eigen::VectorXf x5 = Eigen::VectorXf::Zero(5), g5 = Eigen::VectorXf::Ones(5);
  CHECK_THROWS_WITH(sgd.step(x5, g5, state, 0.1f), Contains("momentum buffer"));
}
