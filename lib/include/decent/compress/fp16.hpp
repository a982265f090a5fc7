#pragma once
/// @file IEEE 754 half precision (binary16): the conversion and the fp16 compressor.
#include <cstdint>

#include "decent/compress/compressor.hpp"

namespace decent {

/// The binary16 nearest to x, ties to even. Overflow (|x| >= 65520) gives +-inf, underflow gives half
/// subnormals or +-0 (sign kept); inf stays inf, NaN stays NaN (quiet, sign and top payload bits kept).
std::uint16_t float_to_half(float x) noexcept;
/// The float equal to the binary16 pattern h (exact for every non-NaN h; NaN maps to NaN).
float half_to_float(std::uint16_t h) noexcept;

/// C(x)_i = half_to_float(float_to_half(x_i)). Deterministic and biased. Round to nearest gives
/// |C(x)_i - x_i| <= 2^-11 |x_i| for |x_i| in the normal half range [2^-14, 65504], so
/// delta(d) = 1 - 2^-22 holds for inputs in that range (and 0). Outside it there is no relative bound:
/// smaller magnitudes have absolute error <= 2^-25, larger ones overflow to inf.
/// Layout: [u32 d][d x u16 little-endian binary16]; message_bytes(d) = 4 + 2d.
class Fp16 final : public Compressor {
public:
  Fp16() : Compressor("fp16", false) {}

protected:
  std::size_t payload_bytes_impl(Eigen::Index d) const override;
  void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) override;
  void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const override;
  double delta_impl(Eigen::Index d) const override;
};

}  // namespace decent
