#include "decent/model/softmax_regression.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "decent/model/mlp.hpp"

using namespace decent;

namespace {

Batch random_batch(Eigen::Index input_dim, int classes, Eigen::Index samples, Rng& rng) {
  Batch batch;
  batch.x.resize(input_dim, samples);
  for (Eigen::Index k = 0; k < batch.x.size(); ++k) batch.x.data()[k] = static_cast<float>(rng.normal());
  for (Eigen::Index j = 0; j < samples; ++j) batch.labels.push_back(static_cast<int>(rng.below(classes)));
  return batch;
}

// Compares the analytic gradient at p with central differences (L(p + h e_k) - L(p - h e_k)) / 2h for every
// coordinate; differences are formed in double, over the step actually taken in float.
void check_gradient(const Model& model, const Eigen::VectorXf& p, const Batch& batch, float h) {
  Eigen::VectorXf grad(model.parameter_count());
  model.loss_and_gradient(p, batch, grad);
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

}  // namespace

TEST_CASE("softmax regression loss matches a hand computation", "[model][softmax]") {
  // 2 classes, 3 features, 2 samples; W is 2 x 3 column-major, then b.
  const double w[2][3] = {{0.5, -1.0, 0.25}, {-0.3, 0.8, 1.5}};
  const double b[2] = {0.1, -0.2};
  const double x[2][3] = {{1.0, 2.0, -1.0}, {0.5, -0.5, 2.0}};  // x[sample][feature]
  const int y[2] = {1, 0};

  SoftmaxRegression model(3, 2);
  REQUIRE(model.parameter_count() == 8);
  Eigen::VectorXf p(8);
  for (int c = 0; c < 2; ++c) {
    for (int j = 0; j < 3; ++j) p[j * 2 + c] = static_cast<float>(w[c][j]);
    p[6 + c] = static_cast<float>(b[c]);
  }
  Batch batch;
  batch.x.resize(3, 2);
  for (int s = 0; s < 2; ++s)
    for (int j = 0; j < 3; ++j) batch.x(j, s) = static_cast<float>(x[s][j]);
  batch.labels = {y[0], y[1]};

  for (double eps : {0.0, 0.2}) {
    double expected = 0;
    for (int s = 0; s < 2; ++s) {
      double z[2], norm = 0;
      for (int c = 0; c < 2; ++c) {
        z[c] = b[c];
        for (int j = 0; j < 3; ++j) z[c] += w[c][j] * x[s][j];
        norm += std::exp(z[c]);
      }
      for (int c = 0; c < 2; ++c) {
        const double target = (c == y[s] ? 1 - eps : 0) + eps / 2;
        expected -= target * (z[c] - std::log(norm));
      }
    }
    expected /= 2;
    const SoftmaxRegression smoothed(3, 2, static_cast<float>(eps));
    CHECK(smoothed.loss(p, batch) == Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE("softmax regression gradient matches central differences", "[model][softmax]") {
  Rng rng(11);
  for (float eps : {0.0f, 0.1f}) {
    const SoftmaxRegression model(5, 3, eps);
    Eigen::VectorXf p(model.parameter_count());
    model.initialize(p, rng);
    for (Eigen::Index k = 0; k < p.size(); ++k) p[k] += static_cast<float>(0.3 * rng.normal());  // non-zero b too
    const Batch batch = random_batch(5, 3, 7, rng);
    check_gradient(model, p, batch, 1e-2f);
  }
}

TEST_CASE("softmax regression is stable for huge logits", "[model][softmax]") {
  Rng rng(3);
  const SoftmaxRegression model(4, 3);
  Eigen::VectorXf p(model.parameter_count()), grad(model.parameter_count());
  model.initialize(p, rng);
  p *= 1e4f;
  const Batch batch = random_batch(4, 3, 16, rng);
  const float loss = model.loss_and_gradient(p, batch, grad);
  CHECK(std::isfinite(loss));
  CHECK(loss >= 0);
  CHECK(grad.allFinite());
}

TEST_CASE("softmax regression trained by gradient descent separates separable classes", "[model][softmax]") {
  // Class c sits at 3 e_c plus uniform noise in [-0.5, 0.5]^4: separable by W = I.
  Rng rng(5);
  const int classes = 4, samples = 400;
  Batch data;
  data.x.resize(classes, samples);
  for (int s = 0; s < samples; ++s) {
    const int c = static_cast<int>(rng.below(classes));
    data.labels.push_back(c);
    for (int j = 0; j < classes; ++j) data.x(j, s) = static_cast<float>((j == c ? 3.0 : 0.0) + rng.uniform() - 0.5);
  }
  const SoftmaxRegression model(classes, classes);
  Eigen::VectorXf p(model.parameter_count()), grad(model.parameter_count());
  model.initialize(p, rng);
  const float initial = model.loss(p, data);
  for (int step = 0; step < 300; ++step) {
    model.loss_and_gradient(p, data, grad);
    p -= 0.5f * grad;
  }
  const Evaluation eval = model.evaluate(p, data);
  CHECK(eval.accuracy == 1.0);
  CHECK(eval.loss < 0.1 * initial);
}

TEST_CASE("softmax regression initialization is Xavier, zero-bias and deterministic", "[model][softmax]") {
  const SoftmaxRegression model(2000, 100);
  Eigen::VectorXf p(model.parameter_count()), q(model.parameter_count()), r(model.parameter_count());
  Rng a(derive_seed(1, {0})), b(derive_seed(1, {0})), c(derive_seed(1, {1}));
  model.initialize(p, a);
  model.initialize(q, b);
  model.initialize(r, c);
  CHECK(p == q);
  CHECK(p != r);
  const Eigen::ArrayXd w = p.head(2000 * 100).cast<double>().array();
  const double variance = (w - w.mean()).square().mean();
  CHECK(std::abs(w.mean()) < 1e-3);
  CHECK(variance == Approx(2.0 / 2100).epsilon(0.03));
  CHECK(p.tail(100).isZero(0));
}

TEST_CASE("softmax regression equals the mlp without hidden layers", "[model][softmax]") {
  Rng rng(9);
  const SoftmaxRegression softmax(6, 4, 0.05f);
  const Mlp mlp(6, {}, 4, 0.05f);
  REQUIRE(softmax.parameter_count() == mlp.parameter_count());
  Eigen::VectorXf p(softmax.parameter_count()), g1(p.size()), g2(p.size());
  softmax.initialize(p, rng);
  const Batch batch = random_batch(6, 4, 10, rng);
  CHECK(softmax.loss_and_gradient(p, batch, g1) == mlp.loss_and_gradient(p, batch, g2));
  CHECK(g1 == g2);
  CHECK(softmax.describe() == "softmax 6-4 label_smoothing=0.05");
  CHECK(SoftmaxRegression(784, 10).describe() == "softmax 784-10");
}

TEST_CASE("softmax regression evaluate agrees with loss and predict, whatever the chunk size", "[model][softmax]") {
  Rng rng(21);
  const SoftmaxRegression model(8, 5);
  Eigen::VectorXf p(model.parameter_count());
  model.initialize(p, rng);
  const Batch batch = random_batch(8, 5, 103, rng);
  std::vector<int> predicted;
  model.predict(p, batch.x, predicted);
  REQUIRE(predicted.size() == 103);
  int correct = 0;
  for (std::size_t j = 0; j < predicted.size(); ++j) {
    Eigen::Index best = 0;
    (p.head(40).reshaped(5, 8) * batch.x.col(static_cast<Eigen::Index>(j)) + p.tail(5)).maxCoeff(&best);
    CHECK(predicted[j] == best);
    correct += predicted[j] == batch.labels[j];
  }
  const double loss = model.loss(p, batch);
  for (Eigen::Index chunk : {1, 10, 64, 103, 1024}) {
    const Evaluation eval = model.evaluate(p, batch.x, batch.labels, Eigen::VectorXf(), chunk);
    CHECK(eval.loss == Approx(loss).epsilon(1e-5));
    CHECK(eval.accuracy == Approx(correct / 103.0));
  }
}

TEST_CASE("softmax regression rejects bad arguments with clear messages", "[model][softmax]") {
  using Catch::Matchers::Contains;
  const SoftmaxRegression model(3, 2);
  Eigen::VectorXf p = Eigen::VectorXf::Zero(8), grad(8), short_p(7);
  Batch batch;
  batch.x = Eigen::MatrixXf::Ones(3, 2);
  batch.labels = {0, 1};
  REQUIRE_NOTHROW(model.loss_and_gradient(p, batch, grad));

  CHECK_THROWS_WITH(model.loss(short_p, batch), Contains("params has 7 entries, expected parameter_count() = 8"));
  Eigen::VectorXf short_grad(5);
  CHECK_THROWS_WITH(model.loss_and_gradient(p, batch, short_grad), Contains("grad has 5 entries"));
  Batch wide = batch;
  wide.x = Eigen::MatrixXf::Ones(4, 2);
  CHECK_THROWS_WITH(model.loss(p, wide), Contains("x has 4 rows, expected input_dim() = 3"));
  Batch out_of_range = batch;
  out_of_range.labels = {0, 2};
  CHECK_THROWS_WITH(model.loss(p, out_of_range), Contains("label 2 of sample 1 is outside 0..1"));
  out_of_range.labels = {-1, 0};
  CHECK_THROWS_AS(model.loss(p, out_of_range), std::invalid_argument);
  Batch few_labels = batch;
  few_labels.labels = {0};
  CHECK_THROWS_WITH(model.loss(p, few_labels), Contains("got 1 labels for 2 samples"));
  CHECK_THROWS_WITH(model.evaluate(p, few_labels), Contains("got 1 labels for 2 samples"));
  CHECK_THROWS_WITH(model.evaluate(p, batch, 0), Contains("chunk must be >= 1"));
  Batch empty;
  empty.x.resize(3, 0);
  CHECK_THROWS_WITH(model.loss(p, empty), Contains("no samples"));
  std::vector<int> out;
  CHECK_THROWS_AS(model.predict(p, wide.x, out), std::invalid_argument);
  Rng rng(1);
  CHECK_THROWS_AS(model.initialize(short_p, rng), std::invalid_argument);

  CHECK_THROWS_WITH(SoftmaxRegression(0, 2), Contains("input_dim must be >= 1"));
  CHECK_THROWS_WITH(SoftmaxRegression(3, 1), Contains("classes must be >= 2"));
  CHECK_THROWS_WITH(SoftmaxRegression(3, 2, 1.0f), Contains("label_smoothing must be in [0, 1)"));
  CHECK_THROWS_AS(SoftmaxRegression(3, 2, -0.1f), std::invalid_argument);
  CHECK_THROWS_AS(SoftmaxRegression(3, 2, std::numeric_limits<float>::quiet_NaN()), std::invalid_argument);
}
