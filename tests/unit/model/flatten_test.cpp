#include "decent/model/flatten.hpp"

#include <catch2/catch.hpp>

using namespace decent;

TEST_CASE("flatten: relabels the shape, keeps the values in order", "[model][flatten]") {
  Flatten<float> layer;
  CHECK(layer.bind({32, 4, 4}, Gain::linear) == TensorShape{512, 1, 1});
  CHECK(layer.reshapes_only());
  CHECK(layer.parameter_count() == 0);
  CHECK(layer.gain_role() == GainRole::transparent);
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(512, 2), y(512, 2), d(512, 2);
  layer.forward(nullptr, Flatten<float>::ConstMap(x.data(), 512, 2), Flatten<float>::MutableMap(y.data(), 512, 2), {});
  CHECK(y == x);
  Flatten<float>::MutableMap d_in(d.data(), 512, 2);
  layer.backward(nullptr, Flatten<float>::ConstMap(x.data(), 512, 2), Flatten<float>::ConstMap(y.data(), 512, 2),
                 Flatten<float>::ConstMap(x.data(), 512, 2), &d_in, nullptr, {});
  CHECK(d == x);
}
