#include "decent/model/layer_model.hpp"

#include <catch2/catch.hpp>

#include "decent/model/factory.hpp"
#include "decent/model/spec.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {

const Eigen::VectorXf none;  // no regression targets

std::unique_ptr<Model> cnn(const std::string& spec = "conv(3,3) relu maxpool(2) flatten dense(5) relu dense(4)") {
  ModelOptions o;
  o.name = "layers";
  o.layers = spec;
  o.input = {2, 8, 8};
  o.classes = 4;
  return make_model(o);
}

Eigen::MatrixXf random_samples(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  Rng rng(seed);
  Eigen::MatrixXf x(rows, cols);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = static_cast<float>(rng.normal());
  return x;
}

}  // namespace

TEST_CASE("layer model: the Model interface over a network", "[model][layer_model]") {
  const auto model = cnn();
  CHECK(model->input_dim() == 128);
  CHECK(model->outputs() == 4);
  CHECK(model->feature_dim() == 5);
  CHECK(model->describe() == "layers 2x8x8-4: conv(3,3,stride=1,pad=0,bias=1) relu maxpool(2,stride=2) flatten dense(5) relu dense(4)");
  Eigen::VectorXf p(model->parameter_count());
  Rng rng(1);
  model->initialize(p, rng);
  const Eigen::MatrixXf x = random_samples(128, 6, 2);
  const std::vector<int> labels = {0, 1, 2, 3, 0, 1};

  Eigen::MatrixXf logits, features;
  model->logits(p, x, logits);
  model->features(p, x, features);
  CHECK(logits.rows() == 4);
  CHECK(features.rows() == 5);
  CHECK((features.array() >= 0).all());  // after the ReLU
  Eigen::VectorXf losses;
  std::vector<std::uint8_t> correct;
  model->per_sample_loss(p, x, labels, losses, &correct);
  CHECK(losses.mean() == Approx(model->loss(p, x, labels, none)).epsilon(1e-5));
  std::vector<int> predicted;
  model->predict(p, x, predicted);
  int hits = 0;
  for (int j = 0; j < 6; ++j) hits += predicted[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(j)];
  CHECK(model->evaluate(p, x, labels, none).accuracy == Approx(hits / 6.0));
  for (int j = 0; j < 6; ++j) CHECK(correct[static_cast<std::size_t>(j)] == (predicted[static_cast<std::size_t>(j)] == labels[static_cast<std::size_t>(j)]));

  // Strided columns (a block of a taller matrix) compute the same as a contiguous copy.
  Eigen::MatrixXf tall(140, 6);
  tall.topRows(128) = x;
  tall.bottomRows(12).setConstant(99);
  Eigen::VectorXf g1(p.size()), g2(p.size());
  const float l1 = model->loss_and_gradient(p, x, labels, none, g1);
  const float l2 = model->loss_and_gradient(p, tall.topRows(128), labels, none, g2);
  CHECK(l1 == l2);
  CHECK(g1 == g2);
}

TEST_CASE("layer model: the objective's arguments are checked", "[model][layer_model]") {
  const auto model = cnn();
  Eigen::VectorXf p(model->parameter_count()), g(model->parameter_count());
  Rng rng(1);
  model->initialize(p, rng);
  const Eigen::MatrixXf x = random_samples(128, 2, 3);
  const std::vector<int> labels = {0, 3};
  Objective o;
  o.labels = labels;
  const std::vector<float> bad_soft = {0.5f, 0.5f, 0.5f, 0, 1, 0, 0, 0};
  o.soft_targets = bad_soft;
  CHECK_THROWS_WITH(model->loss_and_gradient(p, x, o, g), Contains("soft targets of sample 0 sum to 1.5"));
  const std::vector<float> short_soft = {1, 0};
  o.soft_targets = short_soft;
  CHECK_THROWS_WITH(model->loss_and_gradient(p, x, o, g), Contains("soft_targets has 2 values, expected classes x samples = 8"));
  o.soft_targets = {};
  const std::vector<float> negative = {1, -1};
  o.sample_weights = negative;
  CHECK_THROWS_WITH(model->loss_and_gradient(p, x, o, g), Contains("sample weight -1"));
  o.sample_weights = {};
  const std::vector<float> wrong_features(7);
  o.feature_gradient = wrong_features;
  CHECK_THROWS_WITH(model->loss_and_gradient(p, x, o, g), Contains("feature_gradient has 7 values, expected feature_dim() x samples = 10"));
  o.feature_gradient = {};
  o.labels = {};
  CHECK_THROWS_WITH(model->loss_and_gradient(p, x, o, g), Contains("got 0 labels for 2 samples"));
}

TEST_CASE("layer model: dropout needs the node's stream in training only", "[model][layer_model]") {
  const auto model = cnn("flatten dense(16) relu dropout(0.5) dense(4)");
  CHECK(model->stochastic());
  Eigen::VectorXf p(model->parameter_count()), g(model->parameter_count()), g2(model->parameter_count());
  Rng rng(1);
  model->initialize(p, rng);
  const Eigen::MatrixXf x = random_samples(128, 3, 4);
  const std::vector<int> labels = {0, 1, 2};
  CHECK_THROWS_WITH(model->loss_and_gradient(p, x, labels, none, g), Contains("needs a random stream"));
  Rng a(5), b(5);
  Objective o;
  o.labels = labels;
  o.rng = &a;
  const float first = model->loss_and_gradient(p, x, o, g);
  o.rng = &b;
  CHECK(model->loss_and_gradient(p, x, o, g2) == first);  // the same stream, the same masks
  CHECK(g == g2);
  CHECK(model->loss(p, x, labels, none) == model->loss(p, x, labels, none));  // inference: no dropout
}

namespace {
// A user's model that implements only the classic entry points.
class Constant final : public Model {
public:
  Constant() : Model(3, 2, true, 4) {}

protected:
  void initialize_impl(Eigen::Ref<Eigen::VectorXf> params, Rng&) const override { params.setZero(); }
  float loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>&, const Eigen::Ref<const Eigen::MatrixXf>&,
                               std::span<const int>, const Eigen::Ref<const Eigen::VectorXf>&,
                               Eigen::Ref<Eigen::VectorXf> grad) const override {
    grad.setConstant(1);
    return 0.5f;
  }
  float loss_impl(const Eigen::Ref<const Eigen::VectorXf>&, const Eigen::Ref<const Eigen::MatrixXf>&, std::span<const int>,
                  const Eigen::Ref<const Eigen::VectorXf>&) const override {
    return 0.5f;
  }
  std::string describe_impl() const override { return "constant (user model)"; }
};
}  // namespace

TEST_CASE("a user's model: plain objective works, new entry points refuse clearly", "[model][layer_model]") {
  const Constant model;
  const auto blocks = model.blocks();
  REQUIRE(blocks.size() == 1);
  CHECK(blocks[0].name == "params");
  CHECK(blocks[0].length == 4);
  CHECK(model.feature_dim() == 0);
  Eigen::VectorXf p = Eigen::VectorXf::Zero(4), g(4);
  const Eigen::MatrixXf x = Eigen::MatrixXf::Zero(3, 2);
  const std::vector<int> labels = {0, 1};
  Objective o;
  o.labels = labels;
  Rng rng(1);
  o.rng = &rng;
  CHECK(model.loss_and_gradient(p, x, o, g) == 0.5f);
  const std::vector<float> weights = {1, 1};
  o.sample_weights = weights;
  CHECK_THROWS_WITH(model.loss_and_gradient(p, x, o, g), Contains("constant (user model) supports the plain objective only"));
  Eigen::MatrixXf out;
  CHECK_THROWS_WITH(model.logits(p, x, out), Contains("does not provide logits (implement logits_impl)"));
  CHECK_THROWS_WITH(model.features(p, x, out), Contains("exposes no features"));
  Eigen::VectorXf losses;
  CHECK_THROWS_WITH(model.per_sample_loss(p, x, labels, losses), Contains("implement per_sample_loss_impl"));
  CHECK_THROWS_WITH(select_blocks(model.blocks(), "head"), Contains("matches no block (blocks: params)"));
}
