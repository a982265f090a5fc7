#include "decent/compress/fp16.hpp"

#include <bit>

#include "decent/compress/wire.hpp"

namespace decent {

std::uint16_t float_to_half(float x) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
  const std::uint32_t a = bits & 0x7FFFFFFF;
  if (a >= 0x7F800000) {                                    // inf or NaN
    if (a == 0x7F800000) return sign | 0x7C00;
    return static_cast<std::uint16_t>(sign | 0x7E00 | ((a >> 13) & 0x3FF));  // quiet NaN, top payload bits kept
  }
  if (a >= 0x477FF000) return sign | 0x7C00;  // >= 65520: halfway to 2^16 and above round to inf
  if (a >= 0x38800000) {                      // >= 2^-14: normal half
    // Rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even; a carry
    // out of the mantissa correctly bumps the exponent.
    const std::uint32_t r = a - 0x38000000;
    return static_cast<std::uint16_t>(sign | ((r + 0x0FFF + ((r >> 13) & 1)) >> 13));
  }
  if (a <= 0x33000000) return sign;  // <= 2^-25: rounds to zero (2^-25 is a tie, zero is even)
  // Half subnormal m 2^-24: with x = (2^23 + f) 2^(e - 150), m = (2^23 + f) / 2^(126 - e), here shift in [14, 24].
  const std::uint32_t e = a >> 23;
  const std::uint32_t mantissa = (a & 0x7FFFFF) | 0x800000;
  const std::uint32_t shift = 126 - e;
  std::uint32_t m = mantissa >> shift;
  const std::uint32_t rest = mantissa & ((1u << shift) - 1);
  const std::uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (m & 1))) ++m;  // m may reach 0x400, the smallest normal: correct
  return static_cast<std::uint16_t>(sign | m);
}

float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  const std::uint32_t e = (h >> 10) & 0x1F;
  const std::uint32_t m = h & 0x3FF;
  if (e == 0) {
    // Zero or subnormal m 2^-24, exact as a float.
    const float magnitude = static_cast<float>(m) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<std::uint32_t>(magnitude));
  }
  if (e == 31) return std::bit_cast<float>(sign | 0x7F800000 | m << 13);
  return std::bit_cast<float>(sign | (e + 112) << 23 | m << 13);
}

std::size_t Fp16::payload_bytes_impl(Eigen::Index d) const { return 2 * static_cast<std::size_t>(d); }

void Fp16::encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng&, std::span<std::uint8_t> payload) {
  std::uint8_t* p = payload.data();
  for (Eigen::Index i = 0; i < x.size(); ++i, p += 2) store_u16(p, float_to_half(x[i]));
}

void Fp16::decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const {
  const std::uint8_t* p = payload.data();
  for (Eigen::Index i = 0; i < out.size(); ++i, p += 2) out[i] = half_to_float(load_u16(p));
}

double Fp16::delta_impl(Eigen::Index) const { return 1 - 0x1p-22; }

}  // namespace decent
