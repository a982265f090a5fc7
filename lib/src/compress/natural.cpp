#include "decent/compress/natural.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include "decent/compress/wire.hpp"

namespace decent {

std::size_t NaturalCompression::payload_bytes_impl(Eigen::Index d) const {
  const auto n = static_cast<std::size_t>(d);
  return packed_bytes(n, 1) + n;
}

void NaturalCompression::encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) {
  const auto n = static_cast<std::size_t>(x.size());
  const float* v = x.data();
  store_sign_bits(payload.data(), v, n);
  std::uint8_t* exponents = payload.data() + packed_bytes(n, 1);
  bool finite = true;
  Rng local = rng;  // keeps the generator's state in registers: the byte stores below may alias anything
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(v[i]);
    std::uint32_t e = (bits >> 23) & 0xFF;
    const std::uint32_t mantissa = bits & 0x7FFFFF;
    finite &= e != 0xFF;
    // |x| = (1 + m/2^23) 2^(e-127) lies between 2^(e-127) and 2^(e-126); going up with probability m/2^23
    // keeps the mean. A subnormal (e = 0) is (m/2^23) 2^-126 and rounds between 0 and 2^-126 the same way.
    e += static_cast<std::uint32_t>(local.uniform() < mantissa * 0x1p-23);  // branch-free coin flip
    exponents[i] = static_cast<std::uint8_t>(e < 0xFF ? e : 0xFE);
  }
  rng = local;
  if (!finite) throw std::invalid_argument("natural compression needs finite input");
}

void NaturalCompression::decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const {
  const auto n = static_cast<std::size_t>(out.size());
  const std::uint8_t* signs = payload.data();
  const std::uint8_t* exponents = signs + packed_bytes(n, 1);
  check_bit_padding(signs, n);
  if (std::find(exponents, exponents + n, std::uint8_t{0xFF}) != exponents + n)
    throw std::invalid_argument("natural compression exponent 255 is not a finite power of two");
  apply_sign_bits(signs, n, out.data(), [exponents](std::size_t i) {
    return std::bit_cast<float>(static_cast<std::uint32_t>(exponents[i]) << 23);
  });
}

double NaturalCompression::omega_impl(Eigen::Index) const { return 0.125; }

}  // namespace decent
