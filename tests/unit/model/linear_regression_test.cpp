#include "decent/model/linear_regression.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace decent;

namespace {

Batch random_batch(Eigen::Index input_dim, Eigen::Index samples, Rng& rng) {
  Batch batch;
  batch.x.resize(input_dim, samples);
  batch.targets.resize(samples);
  for (Eigen::Index k = 0; k < batch.x.size(); ++k) batch.x.data()[k] = static_cast<float>(rng.normal());
  for (Eigen::Index j = 0; j < samples; ++j) batch.targets[j] = static_cast<float>(rng.normal());
  return batch;
}

}  // namespace

TEST_CASE("linear regression loss matches a hand computation", "[model][linear]") {
  // w = (1, -2, 0.5), b = 0.25; samples (1, 0, 2) -> 1, (-1, 1, 1) -> 0.
  const LinearRegression model(3);
  REQUIRE(model.parameter_count() == 4);
  Eigen::VectorXf p(4);
  p << 1, -2, 0.5f, 0.25f;
  Batch batch;
  batch.x.resize(3, 2);
  batch.x << 1, -1, 0, 1, 2, 1;
  batch.targets.resize(2);
  batch.targets << 1, 0;
  const double r0 = 1 * 1 + (-2) * 0 + 0.5 * 2 + 0.25 - 1;   // 1.25
  const double r1 = 1 * -1 + (-2) * 1 + 0.5 * 1 + 0.25 - 0;  // -2.25
  const double expected = 0.5 * (r0 * r0 + r1 * r1) / 2;
  CHECK(model.loss(p, batch) == Approx(expected).epsilon(1e-6));

  Eigen::VectorXf grad(4);
  CHECK(model.loss_and_gradient(p, batch, grad) == Approx(expected).epsilon(1e-6));
  CHECK(grad[0] == Approx((r0 * 1 + r1 * -1) / 2));
  CHECK(grad[1] == Approx((r0 * 0 + r1 * 1) / 2));
  CHECK(grad[2] == Approx((r0 * 2 + r1 * 1) / 2));
  CHECK(grad[3] == Approx((r0 + r1) / 2));
}

TEST_CASE("linear regression gradient matches central differences", "[model][linear]") {
  Rng rng(6);
  const LinearRegression model(7);
  Eigen::VectorXf p(model.parameter_count()), grad(model.parameter_count());
  model.initialize(p, rng);
  p[7] = 0.3f;
  const Batch batch = random_batch(7, 11, rng);
  model.loss_and_gradient(p, batch, grad);
  const float h = 1e-2f;
  for (Eigen::Index k = 0; k < p.size(); ++k) {
    Eigen::VectorXf plus = p, minus = p;
    plus[k] += h;
    minus[k] -= h;
    const double step = static_cast<double>(plus[k]) - static_cast<double>(minus[k]);
    const double numeric =
        (static_cast<double>(model.loss(plus, batch)) - static_cast<double>(model.loss(minus, batch))) / step;
    INFO("coordinate " << k << ": analytic " << grad[k] << ", central difference " << numeric);
    CHECK(std::abs(grad[k] - numeric) <= 1e-3 + 2e-2 * std::abs(numeric));
  }
}

TEST_CASE("linear regression trained by gradient descent recovers the true weights", "[model][linear]") {
  Rng rng(10);
  const Eigen::Index d = 5, samples = 500;
  Eigen::VectorXf w_true(d);
  w_true << 1.5f, -2.0f, 0.5f, 0.0f, 3.0f;
  const float b_true = -0.7f;
  Batch data = random_batch(d, samples, rng);
  for (Eigen::Index s = 0; s < samples; ++s)
    data.targets[s] = w_true.dot(data.x.col(s)) + b_true + static_cast<float>(0.01 * rng.normal());
  const LinearRegression model(d);
  Eigen::VectorXf p(model.parameter_count()), grad(model.parameter_count());
  model.initialize(p, rng);
  for (int step = 0; step < 500; ++step) {
    model.loss_and_gradient(p, data, grad);
    p -= 0.2f * grad;
  }
  CHECK((p.head(d) - w_true).cwiseAbs().maxCoeff() < 5e-3);
  CHECK(std::abs(p[d] - b_true) < 5e-3);
  const Evaluation eval = model.evaluate(p, data, 64);
  CHECK(eval.loss < 1e-4);  // 0.5 * noise variance = 5e-5
  CHECK(std::isnan(eval.accuracy));
}

TEST_CASE("linear regression initialization, shape and description", "[model][linear]") {
  const LinearRegression model(100000);
  CHECK(model.outputs() == 1);
  CHECK_FALSE(model.classification());
  CHECK(model.describe() == "linear 100000-1");
  Eigen::VectorXf p(model.parameter_count()), q(model.parameter_count());
  Rng a(3), b(3);
  model.initialize(p, a);
  model.initialize(q, b);
  CHECK(p == q);
  const Eigen::ArrayXd w = p.head(100000).cast<double>().array();
  CHECK((w - w.mean()).square().mean() == Approx(2.0 / 100001).epsilon(0.03));
  CHECK(p[100000] == 0);
}

TEST_CASE("linear regression rejects bad arguments", "[model][linear]") {
  using Catch::Matchers::Contains;
  const LinearRegression model(3);
  Eigen::VectorXf p = Eigen::VectorXf::Zero(4), grad(4);
  Rng rng(1);
  Batch batch = random_batch(3, 5, rng);
  REQUIRE_NOTHROW(model.loss_and_gradient(p, batch, grad));
  Batch few = batch;
  few.targets.resize(4);
  CHECK_THROWS_WITH(model.loss(p, few), Contains("got 4 targets for 5 samples"));
  CHECK_THROWS_WITH(model.evaluate(p, few), Contains("got 4 targets for 5 samples"));
  std::vector<int> out;
  CHECK_THROWS_AS(model.predict(p, batch.x, out), std::logic_error);
  CHECK_THROWS_WITH(LinearRegression(0), Contains("input_dim must be >= 1"));
  Eigen::VectorXf wrong(3);
  CHECK_THROWS_WITH(model.loss(wrong, batch), Contains("params has 3 entries, expected parameter_count() = 4"));
}
