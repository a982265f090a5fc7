#include "decent/model/dense.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

TEST_CASE("dense: y = W x + b in the documented layout", "[model][dense]") {
  Dense<double> layer(2);
  CHECK(layer.bind({3, 1, 1}, Gain::linear) == TensorShape{2, 1, 1});
  REQUIRE(layer.parameter_count() == 2 * 3 + 2);
  REQUIRE(layer.parameters().size() == 2);
  CHECK(layer.parameters()[0].name == "weight");
  CHECK(layer.parameters()[0].shape == std::vector<Eigen::Index>{2, 3});
  CHECK(layer.parameters()[0].matrix);
  CHECK(layer.parameters()[1].name == "bias");
  CHECK(layer.parameters()[1].offset == 6);
  // W = [[1 2 3] [4 5 6]] column-major, b = (10, 20).
  const double p[] = {1, 4, 2, 5, 3, 6, 10, 20};
  const double x[] = {1, 0, -1, 2, 1, 0};
  Eigen::MatrixXd y(2, 2);
  layer.forward(p, Dense<double>::ConstMap(x, 3, 2), Dense<double>::MutableMap(y.data(), 2, 2), {});
  CHECK(y(0, 0) == 1 - 3 + 10);
  CHECK(y(1, 0) == 4 - 6 + 20);
  CHECK(y(0, 1) == 2 + 2 + 10);
  CHECK(y(1, 1) == 8 + 5 + 20);
  CHECK(layer.describe() == "dense(2)");
}

TEST_CASE("dense: gradients match central differences in double", "[model][dense]") {
  for (const bool bias : {true, false}) {
    Dense<double> layer(5, bias);
    layer.bind({7, 1, 1}, Gain::relu);
    test::check_layer_gradients(layer, 4, 11);
  }
}

TEST_CASE("dense: He before ReLU, Glorot otherwise, zero bias", "[model][dense]") {
  for (const Gain gain : {Gain::relu, Gain::linear}) {
    Dense<float> layer(200);
    layer.bind({300, 1, 1}, gain);
    std::vector<float> p(static_cast<std::size_t>(layer.parameter_count()), 1.0f);
    Rng rng(3);
    layer.initialize(p.data(), rng);
    double sum = 0, squares = 0;
    for (int k = 0; k < 200 * 300; ++k) {
      sum += p[static_cast<std::size_t>(k)];
      squares += static_cast<double>(p[static_cast<std::size_t>(k)]) * p[static_cast<std::size_t>(k)];
    }
    const double var = squares / (200 * 300) - (sum / (200 * 300)) * (sum / (200 * 300));
    const double expected = gain == Gain::relu ? 2.0 / 300 : 2.0 / 500;
    CHECK(var == Approx(expected).epsilon(0.03));
    for (int k = 200 * 300; k < 200 * 301; ++k) CHECK(p[static_cast<std::size_t>(k)] == 0.0f);
  }
}

TEST_CASE("dense: refuses an image input and bad widths", "[model][dense]") {
  Dense<float> layer(10);
  CHECK_THROWS_WITH(layer.bind({32, 4, 4}, Gain::linear), Contains("needs a flat input, got 32x4x4") && Contains("flatten"));
  CHECK_THROWS_WITH(Dense<float>(0), Contains("outputs must be >= 1"));
  Dense<float> bound(3);
  bound.bind({4, 1, 1}, Gain::linear);
  CHECK_THROWS_WITH(bound.bind({4, 1, 1}, Gain::linear), Contains("bind() called twice"));
  std::vector<float> p(15), x(8), y(6);
  CHECK_THROWS_WITH(bound.forward(p.data(), Dense<float>::ConstMap(x.data(), 2, 4), Dense<float>::MutableMap(y.data(), 3, 2), {}),
                    Contains("input has 2 rows, expected 4"));
}
