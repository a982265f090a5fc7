// IEEE half precision: known bit patterns, round-to-nearest-even against a brute-force nearest search,
// exhaustive round trips, and the fp16 compressor's layout.
#include "decent/compress/fp16.hpp"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>

#include "decent/compress/wire.hpp"
#include "decent/core/random.hpp"

using namespace decent;

namespace {

bool is_half_nan(std::uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }

/// The nearest half by search over the neighbours of a candidate, ties to the even pattern, inf past 65520.
std::uint16_t reference_half(float x) {
  const double v = x;
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::abs(v);
  if (a >= 65520.0) return sign | 0x7C00;
  std::uint16_t best = 0;
  double best_error = std::numeric_limits<double>::infinity();
  // Halves are ordered like their bit patterns; scan the patterns around a binary-searched position.
  std::uint16_t lo = 0, hi = 0x7BFF;
  while (lo < hi) {
    const auto mid = static_cast<std::uint16_t>((lo + hi + 1) / 2);
    if (half_to_float(mid) <= a) lo = mid; else hi = static_cast<std::uint16_t>(mid - 1);
  }
  for (int h = std::max(0, lo - 1); h <= std::min(0x7BFF, lo + 1); ++h) {
    const double e = std::abs(static_cast<double>(half_to_float(static_cast<std::uint16_t>(h))) - a);
    if (e < best_error || (e == best_error && (h & 1) == 0)) {
      best = static_cast<std::uint16_t>(h);
      best_error = e;
    }
  }
  return sign | best;
}

}  // namespace

TEST_CASE("float_to_half on known bit patterns", "[compress][fp16]") {
  CHECK(float_to_half(1.0f) == 0x3C00);
  CHECK(float_to_half(-2.0f) == 0xC000);
  CHECK(float_to_half(65504.0f) == 0x7BFF);           // largest half
  CHECK(float_to_half(6.1035156e-05f) == 0x0400);     // 2^-14, smallest normal
  CHECK(float_to_half(6.0975552e-05f) == 0x03FF);     // largest subnormal, 1023 * 2^-24
  CHECK(float_to_half(5.9604645e-08f) == 0x0001);     // 2^-24, smallest subnormal
  CHECK(float_to_half(-5.9604645e-08f) == 0x8001);
  CHECK(float_to_half(0.0f) == 0x0000);
  CHECK(float_to_half(-0.0f) == 0x8000);
  CHECK(float_to_half(0.33333334f) == 0x3555);
  CHECK(float_to_half(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK(float_to_half(-std::numeric_limits<float>::infinity()) == 0xFC00);
  CHECK(is_half_nan(float_to_half(std::numeric_limits<float>::quiet_NaN())));
  CHECK(is_half_nan(float_to_half(-std::numeric_limits<float>::quiet_NaN())));
  CHECK(is_half_nan(float_to_half(std::bit_cast<float>(0x7F800001u))));  // signalling NaN, low payload only
  CHECK((float_to_half(-std::numeric_limits<float>::quiet_NaN()) & 0x8000) != 0);
}

TEST_CASE("float_to_half rounds to nearest, ties to even, at every boundary", "[compress][fp16]") {
  CHECK(float_to_half(1.0f + 0x1p-11f) == 0x3C00);       // tie, even stays down
  CHECK(float_to_half(1.0f + 3 * 0x1p-11f) == 0x3C02);   // tie, odd rounds up to even
  CHECK(float_to_half(1.0f + 0x1p-11f + 0x1p-23f) == 0x3C01);
  CHECK(float_to_half(2.0f - 0x1p-12f) == 0x4000);       // mantissa carry into the exponent
  CHECK(float_to_half(65519.0f) == 0x7BFF);
  CHECK(float_to_half(65520.0f) == 0x7C00);              // tie between 65504 and 2^16: even is inf
  CHECK(float_to_half(1e10f) == 0x7C00);
  CHECK(float_to_half(std::numeric_limits<float>::max()) == 0x7C00);
  CHECK(float_to_half(0x1p-25f) == 0x0000);              // tie between 0 and 2^-24: even is 0
  CHECK(float_to_half(std::nextafter(0x1p-25f, 1.0f)) == 0x0001);
  CHECK(float_to_half(3 * 0x1p-25f) == 0x0002);          // 1.5 * 2^-24: tie, rounds to even 2
  CHECK(float_to_half(0x1p-14f - 0x1p-25f) == 0x0400);   // tie between 0x3FF and 0x400: even 0x400
  CHECK(float_to_half(0x1p-14f - 0x1p-24f) == 0x03FF);
  CHECK(float_to_half(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(float_to_half(-std::numeric_limits<float>::min()) == 0x8000);
}

TEST_CASE("float_to_half agrees with a brute-force nearest half on random floats", "[compress][fp16]") {
  Rng rng(1);
  for (int t = 0; t < 200000; ++t) {
    // Random bit patterns over the whole half range and beyond: exponents 2^-30 .. 2^17.
    const auto exponent = static_cast<std::uint32_t>(97 + rng.below(48));
    const auto bits = static_cast<std::uint32_t>(rng.below(2)) << 31 | exponent << 23 |
                      static_cast<std::uint32_t>(rng.below(1u << 23));
    const float x = std::bit_cast<float>(bits);
    INFO("x = " << x << " bits " << bits);
    REQUIRE(float_to_half(x) == reference_half(x));
  }
}

TEST_CASE("every half converts to a float and back unchanged", "[compress][fp16]") {
  for (std::uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto half = static_cast<std::uint16_t>(h);
    const float f = half_to_float(half);
    if (is_half_nan(half)) {
      REQUIRE(std::isnan(f));
      REQUIRE(is_half_nan(float_to_half(f)));
    } else {
      REQUIRE(float_to_half(f) == half);
    }
  }
  CHECK(half_to_float(0x3C00) == 1.0f);
  CHECK(half_to_float(0x7BFF) == 65504.0f);
  CHECK(half_to_float(0x0400) == 0x1p-14f);
  CHECK(half_to_float(0x0001) == 0x1p-24f);
  CHECK(half_to_float(0x7C00) == std::numeric_limits<float>::infinity());
  CHECK(std::signbit(half_to_float(0x8000)));
}

TEST_CASE("fp16 compressor: round trip within half precision, layout [d][d x u16]", "[compress][fp16]") {
  Rng rng(2);
  Fp16 c;
  Message m;
  Eigen::VectorXf x(1000);
  for (auto& v : x) v = static_cast<float>(rng.normal() * 100);
  c.encode(x, rng, m);
  CHECK(m.bytes_on_wire() == 4 + 2 * 1000);
  CHECK(c.message_bytes(1000) == 2004);
  CHECK(c.message_bytes(10'000'000) == 20'000'004);
  const Eigen::VectorXf y = c.decode(m);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (std::abs(x[i]) >= 0x1p-14f) CHECK(std::abs(y[i] - x[i]) <= 0x1p-11f * std::abs(x[i]));
    CHECK(load_u16(m.bytes.data() + 4 + 2 * i) == float_to_half(x[i]));
  }
  // Values that are halves go through exactly, including inf, -0 and subnormals.
  Eigen::VectorXf exact(6);
  exact << 1.0f, -0.0f, 0x1p-24f, 65504.0f, -std::numeric_limits<float>::infinity(), 0.5f;
  c.encode(exact, rng, m);
  const Eigen::VectorXf back = c.decode(m);
  for (Eigen::Index i = 0; i < exact.size(); ++i)
    CHECK(std::bit_cast<std::uint32_t>(back[i]) == std::bit_cast<std::uint32_t>(exact[i]));
}
