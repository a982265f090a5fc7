#include "decent/model/activation.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "support/gradient_check.hpp"

using namespace decent;

TEST_CASE("activations: values", "[model][activation]") {
  const double x[] = {-2, -0.5, 0.25, 3};
  Eigen::MatrixXd y(4, 1);
  for (const auto kind : {ActivationKind::relu, ActivationKind::tanh, ActivationKind::gelu}) {
    Activation<double> layer(kind);
    layer.bind({4, 1, 1}, Gain::linear);
    layer.forward(nullptr, Activation<double>::ConstMap(x, 4, 1), Activation<double>::MutableMap(y.data(), 4, 1), {});
    for (int i = 0; i < 4; ++i) {
      const double v = x[i];
      const double expected = kind == ActivationKind::relu   ? std::max(v, 0.0)
                              : kind == ActivationKind::tanh ? std::tanh(v)
                                                             : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
      CHECK(y(i, 0) == Approx(expected).epsilon(1e-14));
    }
  }
  // GELU's known values (PyTorch: gelu(1) = 0.8413447, gelu(-1) = -0.1586553).
  Activation<double> gelu(ActivationKind::gelu);
  gelu.bind({2, 1, 1}, Gain::linear);
  const double ones[] = {1, -1};
  Eigen::MatrixXd g(2, 1);
  gelu.forward(nullptr, Activation<double>::ConstMap(ones, 2, 1), Activation<double>::MutableMap(g.data(), 2, 1), {});
  CHECK(g(0, 0) == Approx(0.8413447460685429));
  CHECK(g(1, 0) == Approx(-0.15865525393145707));
}

TEST_CASE("activations: gradients match central differences in double", "[model][activation]") {
  for (const auto kind : {ActivationKind::relu, ActivationKind::tanh, ActivationKind::gelu}) {
    Activation<double> layer(kind);
    layer.bind({3, 4, 5}, Gain::linear);
    test::check_layer_gradients(layer, 3, 5);
  }
}

TEST_CASE("activations: their gain roles", "[model][activation]") {
  CHECK(Activation<float>(ActivationKind::relu).gain_role() == GainRole::relu_activation);
  CHECK(Activation<float>(ActivationKind::gelu).gain_role() == GainRole::relu_activation);
  CHECK(Activation<float>(ActivationKind::tanh).gain_role() == GainRole::linear_activation);
  CHECK(Activation<float>(ActivationKind::gelu).describe() == "gelu");
}
