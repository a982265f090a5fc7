// The byte-level wire format: little-endian scalars, LSB-first bit fields and their padding checks.
#include "decent/compress/wire.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "decent/core/random.hpp"

using namespace decent;

TEST_CASE("scalars are stored little-endian", "[compress][wire]") {
  std::uint8_t b[8] = {};
  store_u32(b, 0x04030201u);
  CHECK((b[0] == 1 && b[1] == 2 && b[2] == 3 && b[3] == 4));
  CHECK(load_u32(b) == 0x04030201u);
  store_u64(b, 0x0807060504030201ull);
  for (int i = 0; i < 8; ++i) CHECK(b[i] == i + 1);
  CHECK(load_u64(b) == 0x0807060504030201ull);
  store_u16(b, 0xBEEF);
  CHECK((b[0] == 0xEF && b[1] == 0xBE));
  CHECK(load_u16(b) == 0xBEEF);
  store_f32(b, 1.0f);  // 0x3F800000
  CHECK((b[0] == 0 && b[1] == 0 && b[2] == 0x80 && b[3] == 0x3F));
  CHECK(load_f32(b) == 1.0f);

  const std::vector<float> v = {1.5f, -2.0f, 3.25f};
  std::vector<std::uint8_t> bytes(12);
  store_f32_array(bytes.data(), v.data(), v.size());
  CHECK(load_f32(bytes.data() + 4) == -2.0f);
  std::vector<float> back(3);
  load_f32_array(bytes.data(), back.data(), back.size());
  CHECK(back == v);
}

TEST_CASE("ceil_log2 and packed_bytes", "[compress][wire]") {
  CHECK(ceil_log2(1) == 0);
  CHECK(ceil_log2(2) == 1);
  CHECK(ceil_log2(3) == 2);
  CHECK(ceil_log2(4) == 2);
  CHECK(ceil_log2(5) == 3);
  CHECK(ceil_log2(1024) == 10);
  CHECK(ceil_log2(1025) == 11);
  CHECK(ceil_log2(10'000'000) == 24);
  CHECK(ceil_log2(4294967295ull) == 32);
  CHECK(packed_bytes(0, 7) == 0);
  CHECK(packed_bytes(1, 1) == 1);
  CHECK(packed_bytes(8, 1) == 1);
  CHECK(packed_bytes(9, 1) == 2);
  CHECK(packed_bytes(3, 24) == 9);
  CHECK(packed_bytes(5, 0) == 0);
}

TEST_CASE("bit fields of mixed widths round trip, LSB first, with zero padding", "[compress][wire]") {
  std::uint8_t b[2] = {0xFF, 0xFF};
  BitWriter w(b);
  w.put(1, 1);
  w.put(0, 2);
  w.put(5, 3);  // bits: 1, 00, 101 -> 0b101001 = 0x29
  CHECK(w.finish() == b + 1);
  CHECK(b[0] == 0x29);
  CHECK(b[1] == 0xFF);  // untouched

  Rng rng(7);
  std::vector<std::uint32_t> values;
  std::vector<int> widths;
  std::size_t total = 0;
  for (int i = 0; i < 5000; ++i) {
    const int bits = static_cast<int>(rng.below(33));
    widths.push_back(bits);
    values.push_back(bits == 0 ? 0u : static_cast<std::uint32_t>(rng() >> (64 - bits)));
    total += static_cast<std::size_t>(bits);
  }
  std::vector<std::uint8_t> buffer((total + 7) / 8, 0xAB);  // stale bytes must all be overwritten
  BitWriter writer(buffer.data());
  for (std::size_t i = 0; i < values.size(); ++i) writer.put(values[i], widths[i]);
  CHECK(writer.finish() == buffer.data() + buffer.size());
  BitReader reader(buffer.data(), buffer.data() + buffer.size());
  for (std::size_t i = 0; i < values.size(); ++i) REQUIRE(reader.get(widths[i]) == values[i]);
  CHECK_NOTHROW(reader.finish());
}

TEST_CASE("BitReader rejects overruns, excess bytes and non-zero padding", "[compress][wire]") {
  std::uint8_t b[3] = {0xFF, 0x01, 0x00};
  {
    BitReader r(b, b + 2);
    CHECK(r.get(9) == 0x1FF);
    CHECK_NOTHROW(r.finish());
    CHECK_THROWS_AS(r.get(8), std::invalid_argument);  // only 7 padding bits are left
  }
  {
    BitReader r(b, b + 2);
    CHECK(r.get(8) == 0xFF);
    CHECK_THROWS_AS(r.finish(), std::invalid_argument);  // bit 8 is set but was not read
  }
  {
    BitReader r(b, b + 3);
    CHECK(r.get(9) == 0x1FF);
    CHECK_THROWS_AS(r.finish(), std::invalid_argument);  // a whole unused byte
  }
}

TEST_CASE("sign bits: bit i is the sign bit of x_i, including -0", "[compress][wire]") {
  std::vector<float> x(70);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (i % 3 == 0) ? -1.0f * static_cast<float>(i + 1) : 2.0f;
  x[1] = -0.0f;
  x[2] = 0.0f;
  std::vector<std::uint8_t> bytes(packed_bytes(x.size(), 1), 0xCD);
  store_sign_bits(bytes.data(), x.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(sign_bit(bytes.data(), i) == std::signbit(x[i]));
  CHECK(bytes[0] == 0b01001011);  // x0, x1 (-0), x3, x6 negative
  CHECK_NOTHROW(check_bit_padding(bytes.data(), x.size()));
  bytes.back() |= 0x80;
  CHECK_THROWS_AS(check_bit_padding(bytes.data(), x.size()), std::invalid_argument);
}
