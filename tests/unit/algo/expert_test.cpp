// The curricula paper's expert: one SGD step against a hand-computed update, training that learns and repeats
// bit for bit, and the refusals.
#include "decent/algo/expert.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "decent/core/random.hpp"
#include "decent/data/synthetic.hpp"
#include "decent/model/factory.hpp"

using namespace decent;
using Catch::Matchers::Contains;

TEST_CASE("train_expert's single full-batch step is x0 - lr (g + wd x0) from the documented initial stream",
          "[expert]") {
  const Dataset data = gaussian_mixture(3, 4, 50, 2.0, 7);
  const auto model = make_model("softmax", 4, 3, {}, 0.0f);
  ExpertOptions o;
  o.epochs = 1;
  o.batch = 50;  // one step over every sample (in a shuffled order: the mean gradient is the same up to rounding)
  o.lr = 0.1f;
  o.seed = 5;
  const Expert e = train_expert(*model, data, o);
  CHECK(e.steps == 1);
  Eigen::VectorXf x0(model->parameter_count()), g(model->parameter_count());
  Rng init(derive_seed(5, {0x45585054, 0}));
  model->initialize(x0, init);
  const float loss = model->loss_and_gradient(x0, data.features, data.labels, data.targets, g);
  const Eigen::VectorXf expected = x0 - 0.1f * (g + 5e-4f * x0);
  REQUIRE(e.params.size() == expected.size());
  CHECK((e.params - expected).cwiseAbs().maxCoeff() < 1e-6f);
  CHECK(e.last_epoch_loss == Approx(loss).epsilon(1e-6));
  const Evaluation after = model->evaluate(e.params, data.features, data.labels, data.targets);
  CHECK(e.train_loss == Approx(after.loss));
  CHECK(e.train_accuracy == Approx(after.accuracy));
}

TEST_CASE("train_expert learns separable data and is a pure function of its arguments", "[expert]") {
  const Dataset data = gaussian_mixture(4, 8, 403, 4.0, 3);
  const auto model = make_model("mlp", 8, 4, {16}, 0.0f);
  ExpertOptions o;
  o.epochs = 3;
  o.batch = 10;
  o.seed = 2;
  const Expert a = train_expert(*model, data, o);
  CHECK(a.steps == 3 * 41);  // ceil(403 / 10) steps per epoch
  CHECK(a.train_accuracy > 0.95);
  CHECK(a.train_loss < 0.2);
  const Expert b = train_expert(*model, data, o);
  CHECK((a.params.array() == b.params.array()).all());
  o.seed = 3;
  const Expert c = train_expert(*model, data, o);
  CHECK_FALSE((a.params.array() == c.params.array()).all());
  CHECK_THAT(describe(o, a), Contains("3 epochs of batch 10 at lr 0.01 (momentum 0.9, weight decay 0.0005): train loss"));
}

TEST_CASE("train_expert refuses bad options, regression data and a diverging step size", "[expert]") {
  const Dataset data = gaussian_mixture(3, 4, 40, 2.0, 7);
  const auto model = make_model("mlp", 4, 3, {8}, 0.0f);
  ExpertOptions o;
  o.epochs = 0;
  CHECK_THROWS_WITH(train_expert(*model, data, o), Contains("expert-epochs: must be >= 1, got 0"));
  o.epochs = 1;
  o.batch = 0;
  CHECK_THROWS_WITH(train_expert(*model, data, o), Contains("expert-batch: must be >= 1, got 0"));
  o.batch = 41;
  CHECK_THROWS_WITH(train_expert(*model, data, o), Contains("expert-batch: 41 is larger than the 40 training samples"));
  o.batch = 10;
  o.lr = std::nanf("");
  CHECK_THROWS_WITH(train_expert(*model, data, o), Contains("expert-lr: must be a finite number > 0"));
  o.lr = 1e30f;
  o.epochs = 5;
  CHECK_THROWS_AS(train_expert(*model, data, o), input_error);
  CHECK_THROWS_WITH(train_expert(*model, data, o), Contains("expert-lr: 1e+30 makes the expert diverge"));
  const Dataset regression = teacher_student(4, 30, 0.1, 1);
  const auto linear = make_model("linear", 4, 1, {}, 0.0f);
  o.lr = 0.01f;
  CHECK_THROWS_WITH(train_expert(*linear, regression, o), Contains("needs class labels"));
}
