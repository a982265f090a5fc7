#include "decent/model/sequence.hpp"

#include <catch2/catch.hpp>

#include "decent/model/activation.hpp"
#include "decent/model/conv2d.hpp"
#include "decent/model/dense.hpp"
#include "decent/model/dropout.hpp"
#include "decent/model/flatten.hpp"
#include "decent/model/group_norm.hpp"
#include "decent/model/pooling.hpp"
#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {

template <class T>
Sequence<T> small_cnn() {
  Sequence<T> s;
  s.add(std::make_unique<Conv2d<T>>(Conv2dOptions{4, 3, 1, 1, true}));
  s.add(std::make_unique<GroupNorm<T>>(2));
  s.add(std::make_unique<Activation<T>>(ActivationKind::relu));
  s.add(std::make_unique<Pool2d<T>>(PoolKind::max, 2, 2));
  s.add(std::make_unique<Conv2d<T>>(Conv2dOptions{3, 3, 1, 0, false}));
  s.add(std::make_unique<Activation<T>>(ActivationKind::tanh));
  s.add(std::make_unique<Flatten<T>>());
  s.add(std::make_unique<Dense<T>>(6));
  s.add(std::make_unique<Activation<T>>(ActivationKind::gelu));
  s.add(std::make_unique<Dense<T>>(3));
  return s;
}

}  // namespace

TEST_CASE("sequence: names layers by kind, declares dotted blocks in order", "[model][sequence]") {
  Sequence<float> s = small_cnn<float>();
  s.name_last_dense_head();
  CHECK(s.bind({2, 8, 8}, Gain::linear) == TensorShape{3, 1, 1});
  CHECK(s.name(0) == "conv1");
  CHECK(s.name(1) == "gn1");
  CHECK(s.name(4) == "conv2");
  CHECK(s.name(7) == "dense1");
  CHECK(s.name(9) == "head");
  std::vector<std::string> names;
  Eigen::Index expected_offset = 0;
  for (const ParameterSpec& p : s.parameters()) {
    names.push_back(p.name);
    CHECK(p.offset == expected_offset);
    expected_offset += p.size();
  }
  CHECK(names == std::vector<std::string>{"conv1.weight", "conv1.bias", "gn1.scale", "gn1.shift", "conv2.weight",
                                          "dense1.weight", "dense1.bias", "head.weight", "head.bias"});
  CHECK(expected_offset == s.parameter_count());
  CHECK(s.offset(4) == 4 * 2 * 9 + 4 + 8);
}

TEST_CASE("sequence: gradients through every kind of layer match central differences", "[model][sequence]") {
  Sequence<double> s = small_cnn<double>();
  s.bind({2, 8, 8}, Gain::linear);
  test::check_layer_gradients(s, 3, 41);
}

TEST_CASE("sequence: the initialization gain follows the next activation", "[model][sequence]") {
  // dense(400) -> gn -> relu gets He (variance 2/300); dense(200) -> tanh gets Glorot (2/(400+200)).
  Sequence<float> s;
  s.add(std::make_unique<Dense<float>>(400));
  s.add(std::make_unique<GroupNorm<float>>(1));
  s.add(std::make_unique<Activation<float>>(ActivationKind::relu));
  s.add(std::make_unique<Dense<float>>(200));
  s.add(std::make_unique<Activation<float>>(ActivationKind::tanh));
  s.bind({300, 1, 1}, Gain::linear);
  std::vector<float> p(static_cast<std::size_t>(s.parameter_count()));
  Rng rng(8);
  s.initialize(p.data(), rng);
  const auto variance = [&](Eigen::Index offset, Eigen::Index n) {
    double squares = 0;
    for (Eigen::Index k = 0; k < n; ++k) squares += static_cast<double>(p[static_cast<std::size_t>(offset + k)]) * p[static_cast<std::size_t>(offset + k)];
    return squares / static_cast<double>(n);
  };
  CHECK(variance(0, 400 * 300) == Approx(2.0 / 300).epsilon(0.03));
  CHECK(variance(s.offset(3), 200 * 400) == Approx(2.0 / 600).epsilon(0.03));
}

TEST_CASE("sequence: flatten hands memory on, run stops where asked, back needs a full run", "[model][sequence]") {
  Sequence<float> s;
  s.add(std::make_unique<Flatten<float>>());
  s.add(std::make_unique<Dense<float>>(2));
  s.bind({1, 2, 2}, Gain::linear);
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(4, 3);
  std::vector<float> p(static_cast<std::size_t>(s.parameter_count()), 0.5f), g(p.size());
  const auto flat = s.run(p.data(), Sequence<float>::ConstMap(x.data(), 4, 3), {}, 1);
  CHECK(flat.data() == x.data());
  CHECK(flat.rows() == 4);
  CHECK_THROWS_WITH(s.back(p.data(), Sequence<float>::ConstMap(x.data(), 4, 3), Sequence<float>::ConstMap(x.data(), 2, 3),
                           nullptr, g.data(), {}),
                    Contains("needs run() over every layer"));
  Sequence<float> empty;
  CHECK_THROWS_WITH(empty.bind({3, 1, 1}, Gain::linear), Contains("at least one layer"));
  CHECK_THROWS_WITH(s.add(std::make_unique<Dense<float>>(2)), Contains("after bind"));
}

TEST_CASE("sequence: an injected gradient equals differentiating <G, features>", "[model][sequence]") {
  Sequence<double> s = small_cnn<double>();
  s.bind({2, 8, 8}, Gain::linear);
  Rng rng(3);
  Eigen::VectorXd p(s.parameter_count()), grad(s.parameter_count()), scratch(s.parameter_count());
  s.initialize(p.data(), rng);
  Eigen::MatrixXd x(128, 2), r(3, 2), g(s.layer(7).input_shape().size(), 2);
  test::fill_normal(x.data(), x.size(), rng);
  test::fill_normal(r.data(), r.size(), rng);
  test::fill_normal(g.data(), g.size(), rng);
  const Sequence<double>::ConstMap xs(x.data(), 128, 2);
  const auto value = [&]() {
    const double head = (s.run(p.data(), xs, {}, s.size()).array() * r.array()).sum();
    const auto f = s.run(p.data(), xs, {}, 7);
    return head + (f.array() * g.array()).sum();
  };
  s.run(p.data(), xs, {}, s.size());
  s.back(p.data(), xs, Sequence<double>::ConstMap(r.data(), 3, 2), nullptr, grad.data(), {}, 7, g.data());
  test::check_derivatives(value, p.data(), grad.data(), p.size(), 300);
}
