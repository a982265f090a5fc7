#include "decent/model/residual.hpp"

#include <catch2/catch.hpp>

#include "decent/model/activation.hpp"
#include "decent/model/group_norm.hpp"
#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {
Sequence<double> body(Eigen::Index channels, Eigen::Index stride) {
  Sequence<double> s;
  s.add(std::make_unique<Conv2d<double>>(Conv2dOptions{channels, 3, stride, 1, false}));
  s.add(std::make_unique<GroupNorm<double>>(2));
  s.add(std::make_unique<Activation<double>>(ActivationKind::relu));
  s.add(std::make_unique<Conv2d<double>>(Conv2dOptions{channels, 3, 1, 1, false}));
  return s;
}
}  // namespace

TEST_CASE("residual: identity shortcut adds the input", "[model][residual]") {
  Residual<double> block(body(4, 1));
  CHECK(block.bind({4, 5, 5}, Gain::relu) == TensorShape{4, 5, 5});
  CHECK_FALSE(block.projects());
  Rng rng(6);
  Eigen::VectorXd p(block.parameter_count());
  block.initialize(p.data(), rng);
  Eigen::MatrixXd x(100, 2), y(100, 2);
  test::fill_normal(x.data(), x.size(), rng);
  block.forward(p.data(), Residual<double>::ConstMap(x.data(), 100, 2), Residual<double>::MutableMap(y.data(), 100, 2), {});
  Sequence<double> alone = body(4, 1);
  alone.bind({4, 5, 5}, Gain::relu);
  const Eigen::MatrixXd f = alone.run(p.data(), Sequence<double>::ConstMap(x.data(), 100, 2), {}, alone.size());
  CHECK((y - (f + x)).cwiseAbs().maxCoeff() < 1e-12);
  test::check_layer_gradients(block, 3, 31);
}

TEST_CASE("residual: a strided body gets a 1x1 projection", "[model][residual]") {
  Residual<double> block(body(6, 2));
  CHECK(block.bind({3, 7, 7}, Gain::relu) == TensorShape{6, 4, 4});
  CHECK(block.projects());
  const auto& last = block.parameters().back();
  CHECK(last.name == "proj.weight");
  CHECK(last.shape == std::vector<Eigen::Index>{6, 3, 1, 1});
  test::check_layer_gradients(block, 2, 37);
  Residual<double> forced(body(4, 1), Shortcut::projection);
  forced.bind({4, 4, 4}, Gain::linear);
  CHECK(forced.projects());
  test::check_layer_gradients(forced, 2, 43);
}

TEST_CASE("residual: an identity shortcut needs the shape kept", "[model][residual]") {
  Residual<double> block(body(6, 2), Shortcut::identity);
  CHECK_THROWS_WITH(block.bind({3, 7, 7}, Gain::linear), Contains("identity shortcut needs the body to keep the shape") &&
                                                              Contains("3x7x7 to 6x4x4"));
  CHECK_THROWS_WITH(Residual<double>(Sequence<double>()), Contains("at least one layer"));
}
