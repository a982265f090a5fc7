#include "decent/model/network.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "decent/model/spec.hpp"
#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {

Network<double> tiny(std::string_view spec = "dense(4) relu dense(3)", TensorShape input = {5, 1, 1}, double eps = 0) {
  return build_network<double>(parse_model_spec(spec), input, 3, eps);
}

Eigen::VectorXd initialized(const Network<double>& net, std::uint64_t seed) {
  Eigen::VectorXd p(net.parameter_count());
  Rng rng(seed);
  net.initialize(p.data(), rng);
  for (Eigen::Index k = 0; k < p.size(); ++k) p[k] += 0.1 * rng.normal();
  return p;
}

Eigen::MatrixXd samples(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  Eigen::MatrixXd x(rows, cols);
  Rng rng(seed);
  test::fill_normal(x.data(), x.size(), rng);
  return x;
}

}  // namespace

TEST_CASE("network: soft-target cross-entropy equals the hand-computed value", "[model][network]") {
  // One linear layer with W = 0 and b = (1, 2, 3): logits (1, 2, 3) for every sample.
  Network<double> net = build_network<double>(parse_model_spec("dense(3)"), {2, 1, 1}, 3);
  Eigen::VectorXd p = Eigen::VectorXd::Zero(net.parameter_count());
  p.tail(3) << 1, 2, 3;
  const Eigen::MatrixXd x = samples(2, 2, 1);
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const std::vector<double> q = {0.2, 0.3, 0.5, 1.0, 0.0, 0.0};
  const std::vector<int> labels = {2, 0};
  Eigen::VectorXd grad(net.parameter_count());
  const Network<double>::ConstMap xs(x.data(), 2, 2);

  BasicObjective<double> soft;
  soft.soft_targets = q;
  // CE(q, p) = lse - sum q z: sample 0: lse - (0.2 + 0.6 + 1.5), sample 1: lse - 1.
  const double ce0 = lse - 2.3, ce1 = lse - 1;
  CHECK(net.loss_and_gradient(p.data(), xs, soft, grad.data()) == Approx((ce0 + ce1) / 2).epsilon(1e-14));

  // Half hard, half soft, weighted 3 and 1: (1/2) [3 (0.5 (lse - 3) + 0.5 ce0) + 1 (0.5 (lse - 1) + 0.5 ce1)].
  BasicObjective<double> mixed;
  mixed.labels = labels;
  mixed.soft_targets = q;
  mixed.soft_weight = 0.5;
  const std::vector<double> weights = {3, 1};
  mixed.sample_weights = weights;
  const double expected = (3 * (0.5 * (lse - 3) + 0.5 * ce0) + 1 * (0.5 * (lse - 1) + 0.5 * ce1)) / 2;
  CHECK(net.loss_and_gradient(p.data(), xs, mixed, grad.data()) == Approx(expected).epsilon(1e-14));

  // Temperature 2: tau^2 (log sum exp(z / 2) - sum q z / 2), for sample 1 (q = one-hot class 0).
  BasicObjective<double> hot;
  hot.soft_targets = q;
  hot.temperature = 2;
  const double lse2 = std::log(std::exp(0.5) + std::exp(1.0) + std::exp(1.5));
  const double t0 = 4 * (lse2 - (0.2 * 0.5 + 0.3 * 1.0 + 0.5 * 1.5)), t1 = 4 * (lse2 - 0.5);
  CHECK(net.loss_and_gradient(p.data(), xs, hot, grad.data()) == Approx((t0 + t1) / 2).epsilon(1e-14));
}

TEST_CASE("network: every objective's gradient matches central differences", "[model][network]") {
  const Network<double> net = tiny();
  const Eigen::VectorXd p = initialized(net, 2);
  const Eigen::MatrixXd x = samples(5, 4, 3);
  const std::vector<int> labels = {0, 2, 1, 2};
  const std::vector<double> q = {0.1, 0.2, 0.7, 0.5, 0.5, 0, 0.3, 0.3, 0.4, 1, 0, 0};
  const std::vector<double> weights = {0.5, 2, 0, 1};
  const Eigen::MatrixXd g = samples(4, 4, 9);
  BasicObjective<double> o;
  o.labels = labels;
  SECTION("plain") { test::check_network_gradient(net, p, x, o); }
  SECTION("label smoothing") {
    const Network<double> smoothed = tiny("dense(4) relu dense(3)", {5, 1, 1}, 0.1);
    test::check_network_gradient(smoothed, p, x, o);
  }
  SECTION("soft targets, temperature, weights") {
    o.soft_targets = q;
    o.soft_weight = 0.3;
    o.temperature = 1.7;
    o.sample_weights = weights;
    test::check_network_gradient(net, p, x, o);
  }
  SECTION("soft targets only, no labels") {
    o.labels = {};
    o.soft_targets = q;
    test::check_network_gradient(net, p, x, o);
  }
  SECTION("injected feature gradient") {
    o.feature_gradient = std::span<const double>(g.data(), static_cast<std::size_t>(g.size()));
    test::check_network_gradient(net, p, x, o);
  }
}

TEST_CASE("network: the plain objective and unit weights agree", "[model][network]") {
  const Network<double> net = tiny();
  const Eigen::VectorXd p = initialized(net, 4);
  const Eigen::MatrixXd x = samples(5, 6, 5);
  const std::vector<int> labels = {0, 1, 2, 2, 1, 0};
  const std::vector<double> ones(6, 1.0);
  Eigen::VectorXd a(net.parameter_count()), b(net.parameter_count());
  BasicObjective<double> plain, weighted;
  plain.labels = weighted.labels = labels;
  weighted.sample_weights = ones;
  const Network<double>::ConstMap xs(x.data(), 5, 6);
  CHECK(net.loss_and_gradient(p.data(), xs, plain, a.data()) == Approx(net.loss_and_gradient(p.data(), xs, weighted, b.data())).epsilon(1e-14));
  CHECK((a - b).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("network: per-sample losses average to the loss, correctness follows the argmax", "[model][network]") {
  const Network<double> net = tiny("dense(4) relu dense(3)", {5, 1, 1}, 0.2);
  const Eigen::VectorXd p = initialized(net, 6);
  const Eigen::MatrixXd x = samples(5, 7, 7);
  const std::vector<int> labels = {0, 1, 2, 2, 1, 0, 1};
  const Network<double>::ConstMap xs(x.data(), 5, 7);
  std::vector<double> loss(7);
  std::vector<std::uint8_t> correct(7);
  net.per_sample_loss(p.data(), xs, labels, loss, correct);
  double sum = 0;
  for (double v : loss) sum += v;
  CHECK(sum / 7 == Approx(net.loss(p.data(), xs, labels)).epsilon(1e-13));
  std::vector<int> predicted(7);
  net.predict(p.data(), xs, predicted);
  std::int64_t hits = 0;
  for (int j = 0; j < 7; ++j) {
    CHECK(correct[static_cast<std::size_t>(j)] == (predicted[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(j)]));
    hits += correct[static_cast<std::size_t>(j)];
  }
  CHECK(net.evaluate(p.data(), xs, labels).second == hits);
}

TEST_CASE("network: feature layer, blocks and roles", "[model][network]") {
  const Network<double> net = build_network<double>(
      parse_model_spec("conv(2,3) relu flatten dense(4) relu dense(3)"), {1, 5, 5}, 3);
  CHECK(net.feature_index() == 5);  // the input of the last dense layer
  CHECK(net.feature_dim() == 4);
  const auto blocks = net.blocks();
  REQUIRE(blocks.size() == 6);
  CHECK(blocks[0].name == "conv1.weight");
  CHECK(blocks[0].role == BlockRole::base);
  CHECK(blocks[3].name == "dense1.bias");
  CHECK(blocks[3].role == BlockRole::base);
  CHECK(blocks[4].name == "head.weight");
  CHECK(blocks[4].role == BlockRole::head);
  CHECK(blocks[4].offset == 18 + 2 + 72 + 4);
  CHECK(net.matrix_blocks() == std::vector<MatrixBlock>{{0, 2, 9}, {20, 4, 18}, {96, 3, 4}});

  const Network<double> marked = build_network<double>(
      parse_model_spec("conv(2,3) relu flatten features dense(4) relu dense(3)"), {1, 5, 5}, 3);
  CHECK(marked.feature_index() == 3);
  CHECK(marked.feature_dim() == 18);
  CHECK(marked.blocks()[2].role == BlockRole::head);  // dense1.weight now after the feature layer
}
