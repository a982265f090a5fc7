#include "decent/model/dropout.hpp"

#include <catch2/catch.hpp>

#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

TEST_CASE("dropout: identity at inference, seeded masks while training", "[model][dropout]") {
  Dropout<float> layer(0.25);
  layer.bind({1000, 1, 1}, Gain::linear);
  CHECK(layer.stochastic());
  const Eigen::MatrixXf x = Eigen::MatrixXf::Ones(1000, 4);
  Eigen::MatrixXf y(1000, 4), again(1000, 4);
  layer.forward(nullptr, Dropout<float>::ConstMap(x.data(), 1000, 4), Dropout<float>::MutableMap(y.data(), 1000, 4), {});
  CHECK(y == x);
  Rng a(9), b(9);
  layer.forward(nullptr, Dropout<float>::ConstMap(x.data(), 1000, 4), Dropout<float>::MutableMap(y.data(), 1000, 4), {true, &a});
  layer.forward(nullptr, Dropout<float>::ConstMap(x.data(), 1000, 4), Dropout<float>::MutableMap(again.data(), 1000, 4), {true, &b});
  CHECK(y == again);  // the same stream gives the same mask
  const long kept = (y.array() != 0).count();
  CHECK(kept == Approx(3000).margin(120));  // 4000 values kept with probability 0.75 (3.5 standard deviations)
  CHECK(((y.array() == 0) || (y.array() == 1.0f / 0.75f)).all());
  CHECK(a() == b());  // one draw per value: both streams advanced alike
}

TEST_CASE("dropout: the gradient passes through the same mask", "[model][dropout]") {
  Dropout<double> layer(0.5);
  layer.bind({3, 2, 2}, Gain::linear);
  Rng stream(77);
  test::check_layer_gradients(layer, 5, 29, {true, &stream});
}

TEST_CASE("dropout: refuses p below 0 or from 1 on, and training without a stream", "[model][dropout]") {
  CHECK_THROWS_WITH(Dropout<float>(1.0), Contains("p must be in [0, 1)"));
  CHECK_THROWS_WITH(Dropout<float>(-0.1), Contains("p must be in [0, 1)"));
  Dropout<float> layer(0.1);
  layer.bind({4, 1, 1}, Gain::linear);
  Eigen::MatrixXf x(4, 1), y(4, 1);
  CHECK_THROWS_WITH(layer.forward(nullptr, Dropout<float>::ConstMap(x.data(), 4, 1), Dropout<float>::MutableMap(y.data(), 4, 1), {true, nullptr}),
                    Contains("needs a random stream while training"));
  CHECK_FALSE(Dropout<float>(0).stochastic());
}
