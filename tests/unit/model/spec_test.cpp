#include "decent/model/spec.hpp"

#include <catch2/catch.hpp>

#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

TEST_CASE("spec: parses names, arguments, options, residual bodies and the features marker", "[model][spec]") {
  const ModelSpec spec = parse_model_spec("  conv(16,5,stride=2)  relu residual(conv(16,3,pad=1) gn(8), shortcut=proj) features dense(10)");
  REQUIRE(spec.layers.size() == 4);
  CHECK(spec.layers[0].name == "conv");
  CHECK(spec.layers[0].arguments == std::vector<std::string>{"16", "5"});
  CHECK(spec.layers[0].options == std::vector<std::pair<std::string, std::string>>{{"stride", "2"}});
  CHECK(spec.layers[0].position == 3);
  CHECK(spec.layers[0].text == "conv(16,5,stride=2)");
  CHECK(spec.layers[1].position == 24);
  CHECK(spec.layers[2].name == "residual");
  REQUIRE(spec.layers[2].body.size() == 2);
  CHECK(spec.layers[2].body[1].text == "gn(8)");
  CHECK(spec.layers[2].body[1].position == 55);
  CHECK(spec.layers[2].options == std::vector<std::pair<std::string, std::string>>{{"shortcut", "proj"}});
  CHECK(spec.features == 3u);
}

TEST_CASE("spec: malformed specs name the token, its position and the shape", "[model][spec]") {
  struct Bad {
    const char* spec;
    const char* message;
    std::size_t position;
  };
  const Bad cases[] = {
      {"conv(16,5) relu pool(2) flatten dense(10)", "unknown layer 'pool(2)' at position 17", 17},
      {"conv(16) relu flatten dense(10)", "'conv(16)' at position 1: conv takes 2 to 4 positional arguments (channels, kernel, stride, pad), got 1", 1},
      {"conv(16,5,strid=2) flatten dense(10)", "unknown option 'strid' (conv takes channels, kernel, stride, pad, bias)", 1},
      {"conv(16,5 relu dense(10)", "'(' of 'conv' at position 1 is never closed", 1},
      {"flatten dense(10)relu", "expected a space after 'dense(10)' at position 9", 9},
      {"flatten dense(ten)", "'dense(ten)' at position 9: outputs must be a whole number >= 0, got 'ten'", 9},
      {"flatten dense(0)", "'dense(0)' at position 9: dense: outputs must be >= 1", 9},
      {"conv(16,5) relu maxpool(2) conv(32,5) relu maxpool(2) conv(8,5) flatten dense(10)",
       "'conv(8,5)' at position 55, input 32x4x4: conv(8,5,stride=1,pad=0,bias=1): input 32x4x4 (padded by 0) is smaller than the 5x5 kernel", 55},
      {"dense(10)", "'dense(10)' at position 1, input 1x28x28: dense(10) needs a flat input, got 1x28x28", 1},
      {"conv(4,3) flatten dense(128)", "the spec ends with 'dense(128)' at position 19, output 128 values per sample, but the data has 10 classes", 19},
      {"flatten relu(2) dense(10)", "relu takes 0 positional arguments, got 1", 9},
      {"flatten features features dense(10)", "a second 'features' marker at position 18", 18},
      {"residual(features relu) flatten dense(10)", "may only mark a top-level layer", 10},
      {"gn(5) flatten dense(10)", "do not split into 5 equal groups", 1},
      {"residual(conv(8,3,stride=2), shortcut=identity) flatten dense(10)", "identity shortcut needs the body to keep the shape", 1},
      {"flatten dense(10) $", "unexpected character '$' at position 19", 19},
      {"", "the spec has no layers", 0},
  };
  for (const Bad& bad : cases) {
    INFO(bad.spec);
    try {
      build_network<float>(parse_model_spec(bad.spec), {1, 28, 28}, 10);
      FAIL("accepted");
    } catch (const spec_error& e) {
      CHECK_THAT(e.what(), Contains(bad.message));
      CHECK(e.position() == bad.position);
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("spec: presets, their shapes and parameter counts", "[model][spec]") {
  struct Preset {
    const char* name;
    Eigen::Index parameters;
    Eigen::Index features;
  };
  for (const Preset& p : {Preset{"lenet5", 61706, 84}, Preset{"cnn-small", 80202, 128}, Preset{"resnet8-gn", 77562, 64},
                          Preset{"softmax", 7850, 784}, Preset{"mlp", 101770, 128}}) {
    INFO(p.name);
    const Network<float> net = build_network<float>(parse_model_spec(preset_spec(p.name, 10, {128})), {1, 28, 28}, 10);
    CHECK(net.parameter_count() == p.parameters);
    CHECK(net.feature_dim() == p.features);
  }
  CHECK_THROWS_WITH(preset_spec("vgg", 10), Contains("unknown preset 'vgg'") && Contains("lenet5, cnn-small"));
}

namespace {
// Central differences in double of a preset on a small input (the smallest each preset's shapes allow, so that the
// check stays fast in the instrumented build too), 2 samples.
void check_preset_gradient(const char* name, TensorShape input, Eigen::Index coordinates = 120) {
  const Network<double> net = build_network<double>(parse_model_spec(preset_spec(name, 4, {7})), input, 4);
  Eigen::VectorXd params(net.parameter_count());
  Rng rng(12);
  net.initialize(params.data(), rng);
  for (Eigen::Index k = 0; k < params.size(); ++k) params[k] += 0.05 * rng.normal();
  Eigen::MatrixXd x(input.size(), 2);
  test::fill_normal(x.data(), x.size(), rng);
  const std::vector<int> labels = {1, 3};
  BasicObjective<double> o;
  o.labels = labels;
  test::check_network_gradient(net, params, x, o, coordinates);
}
}  // namespace

TEST_CASE("spec: lenet5's gradient matches central differences in double", "[model][spec]") {
  check_preset_gradient("lenet5", {1, 12, 12});
}
TEST_CASE("spec: cnn-small's gradient matches central differences in double", "[model][spec]") {
  check_preset_gradient("cnn-small", {1, 16, 16});
}
TEST_CASE("spec: resnet8-gn's gradient matches central differences in double", "[model][spec]") {
  check_preset_gradient("resnet8-gn", {1, 8, 8}, 60);
}
TEST_CASE("spec: softmax's and mlp's gradients match central differences in double", "[model][spec]") {
  check_preset_gradient("softmax", {1, 6, 6});
  check_preset_gradient("mlp", {1, 6, 6});
}

TEST_CASE("spec: a dropout network's gradient follows the stream's mask", "[model][spec]") {
  const Network<double> net = build_network<double>(parse_model_spec("flatten dense(8) relu dropout(0.5) dense(3)"), {1, 3, 3}, 3);
  CHECK(net.stochastic());
  Eigen::VectorXd params(net.parameter_count());
  Rng rng(1);
  net.initialize(params.data(), rng);
  Eigen::MatrixXd x(9, 4);
  test::fill_normal(x.data(), x.size(), rng);
  const std::vector<int> labels = {0, 1, 2, 0};
  Rng stream(99);
  BasicObjective<double> o;
  o.labels = labels;
  o.rng = &stream;
  test::check_network_gradient(net, params, x, o);
  Eigen::VectorXd grad(net.parameter_count());
  o.rng = nullptr;
  CHECK_THROWS_WITH(net.loss_and_gradient(params.data(), Network<double>::ConstMap(x.data(), 9, 4), o, grad.data()),
                    Contains("stochastic layers (dropout): training needs a random stream"));
}

TEST_CASE("spec: input shapes", "[model][spec]") {
  CHECK(parse_tensor_shape("1x28x28") == TensorShape{1, 28, 28});
  CHECK(parse_tensor_shape("123") == TensorShape{123, 1, 1});
  for (const char* bad : {"", "1x28", "0x2x2", "ax2x2", "1x2x3x4", "-1", "1x28x28 "})
    CHECK_THROWS_WITH(parse_tensor_shape(bad), Contains("input-shape"));
}
