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
  CHECK_THROWS_WITH(make_model("cnn", 784, 10, {}, 0), Contains("unknown model 'cnn'") && Contains("softmax, linear, mlp, layers, lenet5"));
  CHECK_THROWS_WITH(make_model("softmax", 784, 10, {64}, 0), Contains("model 'softmax' has no hidden layers"));
  CHECK_THROWS_WITH(make_model("linear", 10, 0, {64}, 0), Contains("model 'linear' has no hidden layers"));
  CHECK_THROWS_WITH(make_model("linear", 10, 10, {}, 0), Contains("classes must be 0 or 1, got 10"));
  CHECK_THROWS_WITH(make_model("linear", 10, 1, {}, 0.1f), Contains("label_smoothing must be 0"));
  CHECK_THROWS_WITH(make_model("mlp", 10, 1, {8}, 0), Contains("classes must be >= 2"));
}

TEST_CASE("make_model builds presets and layer specs on an input shape", "[model][factory]") {
  ModelOptions o;
  o.input = {1, 28, 28};
  o.classes = 10;
  for (const auto& [name, count] : std::vector<std::pair<std::string, Eigen::Index>>{{"lenet5", 61706}, {"cnn-small", 80202}, {"resnet8-gn", 77562}}) {
    o.name = name;
    const auto model = make_model(o);
    CHECK(model->parameter_count() == count);
    CHECK(model->input_dim() == 784);
    CHECK(model->describe() == name + " 1x28x28-10");
  }
  o.name = "layers";
  o.layers = "conv(16,5) relu maxpool(2) conv(32,5) relu maxpool(2) flatten dense(128) relu dense(10)";
  CHECK(make_model(o)->parameter_count() == 80202);
  o.layers = "conv(16,5) relu flatten dense(7)";
  CHECK_THROWS_WITH(make_model(o), Contains("the data has 10 classes"));
  o.layers.clear();
  CHECK_THROWS_WITH(make_model(o), Contains("model 'layers' needs a layer spec"));
  o.name = "lenet5";
  o.layers = "dense(10)";
  CHECK_THROWS_WITH(make_model(o), Contains("model 'lenet5' takes no layer spec"));
  o.layers.clear();
  o.input = {784, 1, 1};
  CHECK_THROWS_WITH(make_model(o), Contains("'conv(6,5,pad=2)' at position 1") && Contains("needs an image input"));
}
