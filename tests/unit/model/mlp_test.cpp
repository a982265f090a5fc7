#include "decent/model/mlp.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "decent/model/linear_regression.hpp"
#include "decent/model/softmax_regression.hpp"
#include "support/reference_mlp.hpp"

using namespace decent;

namespace {

Batch random_batch(Eigen::Index input_dim, int classes, Eigen::Index samples, Rng& rng) {
  Batch batch;
  batch.x.resize(input_dim, samples);
  for (Eigen::Index k = 0; k < batch.x.size(); ++k) batch.x.data()[k] = static_cast<float>(rng.normal());
  for (Eigen::Index j = 0; j < samples; ++j) batch.labels.push_back(static_cast<int>(rng.below(classes)));
  return batch;
}

// An independent forward pass in double with plain loops, reading the flat vector in the documented layout
// (per layer: W out x in column-major, then b). Returns the mean smoothed cross-entropy and appends every
// hidden pre-activation to `pre_activations`.
double reference_loss(const std::vector<int>& widths, const Eigen::VectorXf& p, const Batch& batch, double eps,
                      std::vector<double>* pre_activations = nullptr) {
  const std::size_t layers = widths.size() - 1;
  double total = 0;
  for (Eigen::Index s = 0; s < batch.size(); ++s) {
    std::vector<double> a(static_cast<std::size_t>(widths[0]));
    for (int j = 0; j < widths[0]; ++j) a[static_cast<std::size_t>(j)] = batch.x(j, s);
    Eigen::Index offset = 0;
    for (std::size_t l = 0; l < layers; ++l) {
      const int in = widths[l], out = widths[l + 1];
      std::vector<double> z(static_cast<std::size_t>(out));
      for (int i = 0; i < out; ++i) {
        double sum = p[offset + in * out + i];
        for (int j = 0; j < in; ++j) sum += static_cast<double>(p[offset + j * out + i]) * a[static_cast<std::size_t>(j)];
        z[static_cast<std::size_t>(i)] = sum;
      }
      offset += (in + 1) * out;
      if (l + 1 < layers) {
        for (double& v : z) {
          if (pre_activations) pre_activations->push_back(v);
          v = v > 0 ? v : 0;
        }
      }
      a = z;
    }
    const int classes = widths.back();
    double norm = 0;
    for (double v : a) norm += std::exp(v);
    for (int c = 0; c < classes; ++c) {
      const double target = (c == batch.labels[static_cast<std::size_t>(s)] ? 1 - eps : 0) + eps / classes;
      total -= target * (a[static_cast<std::size_t>(c)] - std::log(norm));
    }
  }
  return total / static_cast<double>(batch.size());
}

bool same_relu_pattern(const std::vector<double>& a, const std::vector<double>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] > 0) != (b[i] > 0)) return false;
  return true;
}

}  // namespace

TEST_CASE("mlp flat layout and describe", "[model][mlp]") {
  const Mlp model(784, {256, 128}, 10);
  CHECK(model.parameter_count() == 785 * 256 + 257 * 128 + 129 * 10);
  CHECK(model.layers() == 3);
  CHECK(model.weight_offset(0) == 0);
  CHECK(model.bias_offset(0) == 784 * 256);
  CHECK(model.weight_offset(1) == 785 * 256);
  CHECK(model.bias_offset(2) == 785 * 256 + 257 * 128 + 128 * 10);
  CHECK(model.fan_in(1) == 256);
  CHECK(model.fan_out(1) == 128);
  CHECK(model.input_dim() == 784);
  CHECK(model.outputs() == 10);
  CHECK(model.classification());
  CHECK(model.describe() == "mlp 784-256-128-10");
  CHECK(Mlp(784, {256}, 10, 0.1f).describe() == "mlp 784-256-10 label_smoothing=0.1");
}

TEST_CASE("mlp matrix blocks are the weight matrices of the flat layout, biases outside them", "[model][mlp]") {
  const Mlp model(784, {256, 128}, 10);
  const std::vector<MatrixBlock> expected = {
      {0, 256, 784}, {785 * 256, 128, 256}, {785 * 256 + 257 * 128, 10, 128}};
  CHECK(model.matrix_blocks() == expected);
  for (int l = 0; l < model.layers(); ++l) {
    const MatrixBlock b = model.matrix_blocks()[static_cast<std::size_t>(l)];
    CHECK(b.offset == model.weight_offset(l));
    CHECK(b.offset + b.rows * b.cols == model.bias_offset(l));  // b_l follows W_l
  }
  CHECK(layout_end(model.matrix_blocks()) == model.parameter_count() - 10);  // only b_L lies past the last block

  // SoftmaxRegression is the Mlp without hidden layers; LinearRegression's weight vector is not a matrix.
  CHECK(SoftmaxRegression(5, 3).matrix_blocks() == std::vector<MatrixBlock>{{0, 3, 5}});
  CHECK(LinearRegression(4).matrix_blocks().empty());
}

TEST_CASE("mlp forward pass reads W_l from its matrix block and the biases from the coordinates in no block",
          "[model][mlp]") {
  Rng rng(21);
  const Mlp model(4, {3}, 2);
  const std::vector<MatrixBlock> blocks = model.matrix_blocks();
  REQUIRE(blocks.size() == 2);
  const Eigen::MatrixXf w1 = Eigen::MatrixXf::Random(3, 4), w2 = Eigen::MatrixXf::Random(2, 3);
  const Eigen::VectorXf b1 = Eigen::VectorXf::Random(3), b2 = Eigen::VectorXf::Random(2);
  Eigen::VectorXf p = Eigen::VectorXf::Constant(model.parameter_count(), 1e30f);  // a hole would show
  Eigen::Map<Eigen::MatrixXf>(p.data() + blocks[0].offset, blocks[0].rows, blocks[0].cols) = w1;
  Eigen::Map<Eigen::MatrixXf>(p.data() + blocks[1].offset, blocks[1].rows, blocks[1].cols) = w2;
  // The coordinates outside the blocks, in index order, are b_1 then b_2.
  std::vector<float> biases(b1.data(), b1.data() + 3);
  biases.insert(biases.end(), b2.data(), b2.data() + 2);
  std::size_t next = 0;
  for (Eigen::Index i = 0; i < p.size(); ++i) {
    bool covered = false;
    for (const MatrixBlock& b : blocks) covered |= i >= b.offset && i < b.offset + b.rows * b.cols;
    if (!covered) p[i] = biases.at(next++);
  }
  REQUIRE(next == biases.size());

  const Batch batch = random_batch(4, 2, 6, rng);
  const Eigen::MatrixXf logits = (w2 * ((w1 * batch.x).colwise() + b1).cwiseMax(0.0f)).colwise() + b2;
  double loss = 0;
  for (Eigen::Index s = 0; s < batch.size(); ++s) {
    const Eigen::VectorXd z = logits.col(s).cast<double>();
    loss += std::log(z.array().exp().sum()) - z[batch.labels[static_cast<std::size_t>(s)]];
  }
  CHECK(model.loss(p, batch) == Approx(loss / static_cast<double>(batch.size())).epsilon(1e-5));
}

TEST_CASE("mlp loss matches an independent forward pass in double", "[model][mlp]") {
  Rng rng(4);
  const std::vector<int> widths = {6, 5, 4, 3};
  for (float eps : {0.0f, 0.15f}) {
    const Mlp model(6, {5, 4}, 3, eps);
    Eigen::VectorXf p(model.parameter_count());
    model.initialize(p, rng);
    for (Eigen::Index k = 0; k < p.size(); ++k) p[k] += static_cast<float>(0.1 * rng.normal());
    const Batch batch = random_batch(6, 3, 9, rng);
    CHECK(model.loss(p, batch) == Approx(reference_loss(widths, p, batch, eps)).epsilon(1e-5));
  }
}

TEST_CASE("mlp gradient matches central differences away from ReLU kinks", "[model][mlp]") {
  // Central differences are only valid where no ReLU changes state between p - h e_k and p + h e_k, so each
  // coordinate is checked only when the double-precision reference shows the same activation pattern at
  // p - h e_k, p and p + h e_k.
  Rng rng(8);
  const std::vector<int> widths = {4, 6, 5, 3};
  const float h = 1e-3f;
  for (float eps : {0.0f, 0.1f}) {
    const Mlp model(4, {6, 5}, 3, eps);
    Eigen::VectorXf p(model.parameter_count()), grad(model.parameter_count());
    model.initialize(p, rng);
    for (Eigen::Index k = 0; k < p.size(); ++k) p[k] += static_cast<float>(0.2 * rng.normal());
    const Batch batch = random_batch(4, 3, 8, rng);
    model.loss_and_gradient(p, batch, grad);
    std::vector<double> pattern;
    reference_loss(widths, p, batch, eps, &pattern);

    int checked = 0;
    for (Eigen::Index k = 0; k < p.size(); ++k) {
      Eigen::VectorXf plus = p, minus = p;
      plus[k] += h;
      minus[k] -= h;
      std::vector<double> pattern_plus, pattern_minus;
      reference_loss(widths, plus, batch, eps, &pattern_plus);
      reference_loss(widths, minus, batch, eps, &pattern_minus);
      if (!same_relu_pattern(pattern, pattern_plus) || !same_relu_pattern(pattern, pattern_minus)) continue;
      const double step = static_cast<double>(plus[k]) - static_cast<double>(minus[k]);
      const double numeric =
          (static_cast<double>(model.loss(plus, batch)) - static_cast<double>(model.loss(minus, batch))) / step;
      INFO("eps " << eps << ", coordinate " << k << ": analytic " << grad[k] << ", central difference " << numeric);
      CHECK(std::abs(grad[k] - numeric) <= 1e-3 + 2e-2 * std::abs(numeric));
      ++checked;
    }
    CHECK(checked >= 0.9 * static_cast<double>(p.size()));
  }
}

TEST_CASE("mlp results do not depend on the scratch left by earlier batch sizes", "[model][mlp]") {
  Rng rng(13);
  const Mlp model(20, {16, 8}, 5, 0.05f);
  Eigen::VectorXf p(model.parameter_count());
  model.initialize(p, rng);
  const Batch small = random_batch(20, 5, 3, rng), large = random_batch(20, 5, 300, rng);
  Eigen::VectorXf fresh_grad(p.size()), grad(p.size()), large_grad(p.size());
  const float fresh = Mlp(model).loss_and_gradient(p, small, fresh_grad);
  model.loss_and_gradient(p, large, large_grad);
  const float loss = model.loss_and_gradient(p, small, grad);
  CHECK(loss == fresh);
  CHECK(grad == fresh_grad);
  CHECK(model.loss(p, small) == fresh);
  const Evaluation eval = model.evaluate(p, large, 7);
  CHECK(eval.loss == Approx(model.loss(p, large)).epsilon(1e-5));
}

TEST_CASE("mlp initialization is He for hidden layers, Xavier for the output, zero biases", "[model][mlp]") {
  const Mlp model(500, {500}, 300);
  Eigen::VectorXf p(model.parameter_count()), q(model.parameter_count());
  Rng a(77), b(77);
  model.initialize(p, a);
  model.initialize(q, b);
  CHECK(p == q);
  const auto variance = [&](int layer) {
    const Eigen::ArrayXd w =
        p.segment(model.weight_offset(layer), model.fan_in(layer) * model.fan_out(layer)).cast<double>().array();
    return (w - w.mean()).square().mean();
  };
  CHECK(variance(0) == Approx(2.0 / 500).epsilon(0.03));
  CHECK(variance(1) == Approx(2.0 / 800).epsilon(0.03));
  CHECK(p.segment(model.bias_offset(0), 500).isZero(0));
  CHECK(p.segment(model.bias_offset(1), 300).isZero(0));
}

TEST_CASE("mlp learns XOR, which no linear model can", "[model][mlp]") {
  Rng rng(2);
  Batch data;
  const int samples = 200;
  data.x.resize(2, samples);
  for (int s = 0; s < samples; ++s) {
    const int u = static_cast<int>(rng.below(2)), v = static_cast<int>(rng.below(2));
    data.x(0, s) = static_cast<float>((u ? 1 : -1) + 0.3 * (rng.uniform() - 0.5));
    data.x(1, s) = static_cast<float>((v ? 1 : -1) + 0.3 * (rng.uniform() - 0.5));
    data.labels.push_back(u ^ v);
  }
  const Mlp model(2, {16}, 2);
  Eigen::VectorXf p(model.parameter_count()), grad(model.parameter_count());
  model.initialize(p, rng);
  for (int step = 0; step < 500; ++step) {
    model.loss_and_gradient(p, data, grad);
    p -= 0.2f * grad;
  }
  CHECK(model.evaluate(p, data).accuracy == 1.0);
}

TEST_CASE("mlp rejects bad architectures and arguments", "[model][mlp]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(Mlp(10, {8, 0}, 3), Contains("hidden layer 1 has width 0"));
  CHECK_THROWS_WITH(Mlp(0, {8}, 3), Contains("input_dim must be >= 1"));
  CHECK_THROWS_WITH(Mlp(10, {8}, 1), Contains("classes must be >= 2"));
  CHECK_THROWS_WITH(Mlp(10, {8}, 3, 1.5f), Contains("label_smoothing"));
  const Mlp model(10, {8}, 3);
  Eigen::VectorXf p = Eigen::VectorXf::Zero(model.parameter_count()), grad(model.parameter_count());
  Eigen::VectorXf wrong(model.parameter_count() + 1);
  Rng rng(1);
  const Batch batch = random_batch(10, 3, 4, rng);
  CHECK_THROWS_WITH(model.loss_and_gradient(wrong, batch, grad),
                    Contains("mlp 10-8-3") && Contains("params has 116 entries, expected parameter_count() = 115"));
  Batch bad = batch;
  bad.labels[2] = 3;
  CHECK_THROWS_WITH(model.loss_and_gradient(p, bad, grad), Contains("label 3 of sample 2 is outside 0..2"));
}

TEST_CASE("mlp and softmax built from layers compute what the earlier Mlp computed", "[model][mlp]") {
  struct Case {
    Eigen::Index input;
    std::vector<int> hidden;
    int classes;
    float eps;
    Eigen::Index batch;
  };
  for (const Case& c : {Case{784, {256}, 10, 0, 64}, Case{784, {128, 64}, 10, 0.1f, 33}, Case{30, {}, 5, 0, 17},
                        Case{30, {}, 5, 0.2f, 1}, Case{50, {40, 30, 20}, 3, 0.05f, 1025}}) {
    INFO("input " << c.input << ", " << c.hidden.size() << " hidden layers, batch " << c.batch);
    const Mlp model(c.input, c.hidden, c.classes, c.eps);
    const test::ReferenceMlp reference(c.input, c.hidden, c.classes, c.eps);
    REQUIRE(model.parameter_count() == reference.parameter_count());
    CHECK(model.matrix_blocks() == reference.matrix_blocks());
    CHECK(model.describe() == reference.describe());
    Eigen::VectorXf p(model.parameter_count()), q(model.parameter_count());
    Rng a(21), b(21);
    model.initialize(p, a);
    reference.initialize(q, b);
    CHECK(p == q);
    Rng rng(5);
    const Batch batch = random_batch(c.input, c.classes, c.batch, rng);
    Eigen::VectorXf g(p.size()), h(p.size());
    const float loss = model.loss_and_gradient(p, batch, g), expected = reference.loss_and_gradient(q, batch, h);
    CHECK(loss == Approx(expected).epsilon(1e-6));
    CHECK((g - h).cwiseAbs().maxCoeff() <= 1e-6f * std::max(1.0f, h.cwiseAbs().maxCoeff()));
    const Evaluation e = model.evaluate(p, batch, 100), f = reference.evaluate(q, batch, 100);
    CHECK(e.loss == Approx(f.loss).epsilon(1e-6));
    CHECK(e.accuracy == f.accuracy);
    for (int l = 0; l < model.layers(); ++l) {
      CHECK(model.weight_offset(l) == reference.weight_offset(l));
      CHECK(model.bias_offset(l) == reference.bias_offset(l));
    }
  }
}

TEST_CASE("mlp: named blocks and the feature layer", "[model][mlp]") {
  const Mlp model(20, {16, 8}, 5);
  const auto blocks = model.blocks();
  REQUIRE(blocks.size() == 6);
  CHECK(blocks[0].name == "dense1.weight");
  CHECK(blocks[2].name == "dense2.weight");
  CHECK(blocks[4].name == "head.weight");
  CHECK(blocks[4].role == BlockRole::head);
  CHECK(blocks[3].role == BlockRole::base);
  CHECK(model.feature_dim() == 8);
  CHECK(SoftmaxRegression(5, 3).feature_dim() == 5);
  CHECK(SoftmaxRegression(5, 3).blocks()[0].role == BlockRole::head);
}
