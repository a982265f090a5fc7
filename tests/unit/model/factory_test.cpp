#include "decent/model/factory.hpp"

#include <catch2/catch.hpp>

#include "decent/model/linear_regression.hpp"
#include "decent/model/mlp.hpp"
#include "decent/model/softmax_regression.hpp"

using namespace decent;
using Catch::Matchers::Contains;

TEST_CASE("make_model builds each model by name", "[model][factory]") {
  const auto softmax = make_model("softmax", 784, 10, {}, 0.1f);
  CHECK(dynamic_cast<const SoftmaxRegression*>(softmax.get()) != nullptr);
  CHECK(softmax->parameter_count() == 785 * 10);
  CHECK(softmax->describe() == "softmax 784-10 label_smoothing=0.1");

  const auto mlp = make_model("mlp", 784, 10, {256}, 0);
  CHECK(dynamic_cast<const Mlp*>(mlp.get()) != nullptr);
  CHECK(mlp->describe() == "mlp 784-256-10");
  CHECK(make_model("mlp", 20, 3, {}, 0)->parameter_count() == 21 * 3);

  const auto linear = make_model("linear", 13, 0, {}, 0);
  CHECK(dynamic_cast<const LinearRegression*>(linear.get()) != nullptr);
  CHECK_FALSE(linear->classification());
  CHECK(make_model("linear", 13, 1, {}, 0)->parameter_count() == 14);
}

TEST_CASE("make_model rejects unknown names and parameters a model does not take", "[model][factory]") {
  CHECK_THROWS_WITH(make_model("cnn", 784, 10, {}, 0), Contains("unknown model 'cnn'") && Contains("softmax, linear, mlp"));
  CHECK_THROWS_WITH(make_model("softmax", 784, 10, {64}, 0), Contains("model 'softmax' has no hidden layers"));
  CHECK_THROWS_WITH(make_model("linear", 10, 0, {64}, 0), Contains("model 'linear' has no hidden layers"));
  CHECK_THROWS_WITH(make_model("linear", 10, 10, {}, 0), Contains("classes must be 0 or 1, got 10"));
  CHECK_THROWS_WITH(make_model("linear", 10, 1, {}, 0.1f), Contains("label_smoothing must be 0"));
  CHECK_THROWS_WITH(make_model("mlp", 10, 1, {8}, 0), Contains("classes must be >= 2"));
}
