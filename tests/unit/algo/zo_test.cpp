// Shared-seed zeroth order, serial parts: the one-byte scalar code, the in-place perturbation walk, the
// projected gradient (exact and unbiased on a quadratic), the parameter hash and the byte accounting.
#include "decent/algo/zo.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>

#include "decent/core/random.hpp"
#include "decent/data/synthetic.hpp"
#include "decent/model/factory.hpp"

using namespace decent;

namespace {

const float smallest = static_cast<float>(std::exp(-63.0 / 16));  // code 1
const float largest = static_cast<float>(std::exp(63.0 / 16));    // code 127

}  // namespace

TEST_CASE("zo byte: zero, sign, non-finite and the exact codes", "[zo]") {
  CHECK(encode_zo_byte(0.0f) == 0x00);
  CHECK(encode_zo_byte(-0.0f) == 0x00);
  CHECK(decode_zo_byte(0x00) == 0.0f);
  CHECK(encode_zo_byte(std::numeric_limits<float>::quiet_NaN()) == zo_byte_nonfinite);
  CHECK(encode_zo_byte(std::numeric_limits<float>::infinity()) == zo_byte_nonfinite);
  CHECK(encode_zo_byte(-std::numeric_limits<float>::infinity()) == zo_byte_nonfinite);
  CHECK(std::isnan(decode_zo_byte(zo_byte_nonfinite)));
  CHECK(encode_zo_byte(1.0f) == 64);          // p = 0
  CHECK(encode_zo_byte(-1.0f) == (0x80 | 64));
  CHECK(decode_zo_byte(64) == 1.0f);
  CHECK(decode_zo_byte(0x80 | 64) == -1.0f);
  // p = round(16 ln 2) = round(11.09) = 11
  CHECK(encode_zo_byte(2.0f) == 64 + 11);
  CHECK(decode_zo_byte(64 + 11) == static_cast<float>(std::exp(11.0 / 16)));
  // Every representable value encodes to its own code, and the sign bit alone flips the sign.
  for (int c = 1; c < 128; ++c) {
    INFO(c);
    const auto code = static_cast<std::uint8_t>(c);
    const float v = decode_zo_byte(code);
    CHECK(v > 0);
    CHECK(encode_zo_byte(v) == code);
    CHECK(decode_zo_byte(static_cast<std::uint8_t>(0x80 | c)) == -v);
    CHECK(encode_zo_byte(-v) == (0x80 | c));
  }
  CHECK(decode_zo_byte(1) == smallest);
  CHECK(decode_zo_byte(127) == largest);
}

TEST_CASE("zo byte: round trip within half a log step, clamping, flushing to zero", "[zo]") {
  // Inside the range the error is at most half a step of 1/16 in ln: |ln|g_hat| - ln|g|| <= 1/32.
  Rng rng(5);
  double worst = 0;
  for (int i = 0; i < 20000; ++i) {
    const double ln = (2 * rng.uniform() - 1) * 63.0 / 16;
    const float g = static_cast<float>((i % 2 ? -1 : 1) * std::exp(ln));
    const float back = decode_zo_byte(encode_zo_byte(g));
    REQUIRE(std::signbit(back) == std::signbit(g));
    worst = std::max(worst, std::abs(std::log(std::abs(static_cast<double>(back))) - std::log(std::abs(static_cast<double>(g)))));
  }
  CHECK(worst <= 1.0 / 32 + 1e-6);
  CHECK(worst > 1.0 / 32 - 1e-3);  // the bound is attained: the step really is 1/16
  // Decoding is monotone in the value.
  float previous = -std::numeric_limits<float>::infinity();
  for (double x = -100; x <= 100; x += 0.01) {
    const float v = decode_zo_byte(encode_zo_byte(static_cast<float>(x)));
    REQUIRE(v >= previous);
    previous = v;
  }
  // Clamping above: p > 63 sends the largest magnitude with the right sign.
  CHECK(encode_zo_byte(1e6f) == 127);
  CHECK(encode_zo_byte(-1e6f) == 0xFF);
  CHECK(encode_zo_byte(std::numeric_limits<float>::max()) == 127);
  CHECK(decode_zo_byte(encode_zo_byte(60.0f)) == largest);
  // Flushing below: p < -63, i.e. |g| < exp(-63.5 / 16), becomes zero; just above it is the smallest code.
  CHECK(encode_zo_byte(1e-3f) == 0);
  CHECK(encode_zo_byte(-1e-3f) == 0);
  CHECK(encode_zo_byte(std::numeric_limits<float>::denorm_min()) == 0);
  CHECK(encode_zo_byte(static_cast<float>(std::exp(-63.6 / 16))) == 0);
  CHECK(encode_zo_byte(static_cast<float>(std::exp(-63.4 / 16))) == 1);
  CHECK(encode_zo_byte(static_cast<float>(-std::exp(-63.4 / 16))) == 0x81);
}

TEST_CASE("zo: perturbations are seeded by (seed, step, node, sample)", "[zo]") {
  Eigen::VectorXf a(50), b(50), c(50);
  zo_perturbation(zo_seed(1, 3, 2, 5), a);
  zo_perturbation(zo_seed(1, 3, 2, 5), b);
  CHECK(a == b);
  for (const std::uint64_t other : {zo_seed(2, 3, 2, 5), zo_seed(1, 4, 2, 5), zo_seed(1, 3, 1, 5), zo_seed(1, 3, 2, 6)}) {
    zo_perturbation(other, c);
    CHECK(a != c);
  }
  // Standard normal: mean 0, variance 1 (tolerances of 5 standard errors for 200000 draws).
  Eigen::VectorXf z(200000);
  zo_perturbation(zo_seed(9, 0, 0, 0), z);
  const double mean = z.cast<double>().mean();
  const double var = (z.cast<double>().array() - mean).square().mean();
  CHECK(std::abs(mean) < 5 / std::sqrt(2e5));
  CHECK(std::abs(var - 1) < 5 * std::sqrt(2.0 / 2e5));
}

TEST_CASE("zo walk: in place, restores theta to float rounding, evaluates at theta +- eps z", "[zo]") {
  Rng rng(3);
  Eigen::VectorXf theta(300), z(300);
  for (auto& v : theta) v = static_cast<float>(rng.normal());
  zo_perturbation(zo_seed(1, 0, 0, 0), z);
  const Eigen::VectorXf before = theta;
  const float eps = 1e-3f;
  const float* data = theta.data();
  int calls = 0;
  const ZoLosses l = zo_walk(theta, z, eps, [&](const Eigen::Ref<const Eigen::VectorXf>& at) {
    ++calls;
    CHECK(at.data() == data);  // the walk evaluates theta itself, not a copy
    const double offset = calls == 1 ? 1 : -1;
    CHECK(((at - before).cast<double>() - offset * eps * z.cast<double>()).cwiseAbs().maxCoeff() < 1e-6);
    return static_cast<float>(calls);
  });
  CHECK(calls == 2);
  CHECK(l.plus == 1.0f);
  CHECK(l.minus == 2.0f);
  // Three roundings of at most half an ulp of |theta| + 2 eps |z| each.
  const Eigen::ArrayXd bound =
      3 * 0.5 * std::numeric_limits<float>::epsilon() * (before.cwiseAbs() + 2 * eps * z.cwiseAbs()).cast<double>().array();
  CHECK(((theta - before).cast<double>().cwiseAbs().array() <= bound).all());
  // The walk is a fixed sequence of float operations: replaying it without evaluating gives the same bits.
  Eigen::VectorXf replay = before;
  zo_walk(replay, z, eps, {});
  CHECK(replay == theta);
  Eigen::VectorXf wrong(3);
  CHECK_THROWS_AS(zo_walk(wrong, z, eps, {}), std::invalid_argument);
}

TEST_CASE("zo: on a quadratic the projected gradient is z^T grad, and E[g z] = grad", "[zo]") {
  // Least squares is quadratic in the parameters: the central difference has no truncation error, so
  // g = z^T grad L up to float rounding, and E[g z] = E[z z^T] grad = grad for z ~ N(0, I).
  const Dataset data = teacher_student(6, 40, 0.1, 2);
  const auto model = make_model("linear", 6, 1, {}, 0.0f);
  const Eigen::Index d = model->parameter_count();
  Eigen::VectorXf theta(d);
  Rng init(8);
  for (auto& v : theta) v = static_cast<float>(2 * init.normal());
  Eigen::VectorXf grad(d);
  const std::span<const int> no_labels;
  model->loss_and_gradient(theta, data.features, no_labels, data.targets, grad);
  const auto loss = [&](const Eigen::Ref<const Eigen::VectorXf>& at) {
    return model->loss(at, data.features, no_labels, data.targets);
  };
  const float eps = 1e-2f;
  const int samples = 40000;
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(d);
  Eigen::VectorXf z(d);
  double worst_exact = 0;
  for (int i = 0; i < samples; ++i) {
    zo_perturbation(zo_seed(17, i, 0, 0), z);
    const float g = zo_walk(theta, z, eps, loss).projected_gradient(eps);
    const double exact = z.cast<double>().dot(grad.cast<double>());
    worst_exact = std::max(worst_exact, std::abs(g - exact) / (1 + std::abs(exact)));
    sum += static_cast<double>(g) * z.cast<double>();
  }
  // Float rounding of L+ - L- (L ~ 10, ulp ~ 1e-6, over 2 eps) is the only error.
  CHECK(worst_exact < 2e-3);
  const Eigen::VectorXd mean = sum / samples;
  // Var[(z^T grad) z_i] = |grad|^2 + 2 grad_i^2 for Gaussian z; 5 standard errors per coordinate.
  const Eigen::VectorXd g = grad.cast<double>();
  for (Eigen::Index i = 0; i < d; ++i) {
    INFO("coordinate " << i << ": mean " << mean[i] << ", gradient " << g[i]);
    const double bound = 5 * std::sqrt((g.squaredNorm() + 2 * g[i] * g[i]) / samples);
    CHECK(std::abs(mean[i] - g[i]) <= bound);
  }
  // The bound is tight enough to mean something: it is far below the gradient's size.
  CHECK(5 * std::sqrt(3 * g.squaredNorm() / samples) < 0.1 * g.norm());
}

TEST_CASE("zo: parameter hash tells bitwise equal from unequal vectors", "[zo]") {
  Eigen::VectorXf a = Eigen::VectorXf::LinSpaced(100, -1, 1), b = a;
  CHECK(parameter_hash(a) == parameter_hash(b));
  b[37] = std::nextafter(b[37], 2.0f);
  CHECK(parameter_hash(a) != parameter_hash(b));
  Eigen::VectorXf zero = Eigen::VectorXf::Zero(4), negative_zero = zero;
  negative_zero[2] = -0.0f;
  CHECK(parameter_hash(zero) != parameter_hash(negative_zero));
  CHECK(parameter_hash(zero) != parameter_hash(Eigen::VectorXf::Zero(5)));
}

TEST_CASE("zo: scalar names and bytes per step", "[zo]") {
  CHECK(parse_zo_scalar("float") == ZoScalar::float32);
  CHECK(parse_zo_scalar("byte") == ZoScalar::byte);
  CHECK_THROWS_WITH(parse_zo_scalar("half"), Catch::Contains("allowed: float, byte"));
  CHECK(to_string(ZoScalar::byte) == "byte");
  CHECK(zo_step_bytes(4, 3, ZoScalar::byte) == 4 * 3 * 3);
  CHECK(zo_step_bytes(4, 3, ZoScalar::float32) == 4 * 3 * 3 * 4);
  CHECK(zo_step_bytes(1, 32, ZoScalar::float32) == 0);
}
