#pragma once
/// @file Scaled sign compression: one bit per coordinate and one scale.
#include "decent/compress/compressor.hpp"

namespace decent {

/// C(x) = (||x||_1 / d) sign(x), with sign(x_i) = -1 when x_i's sign bit is set (so -0 -> -1), else +1.
/// Deterministic and biased: ||C(x) - x||^2 = (1 - ||x||_1^2 / (d ||x||_2^2)) ||x||^2 exactly (up to the
/// float rounding of the scale), and ||x||_1^2 / (d ||x||_2^2) >= 1/d, so delta(d) = 1/d is the guarantee
/// over all x; dense vectors do much better (about 2/pi for Gaussian entries).
/// x must be finite (std::invalid_argument otherwise).
/// Layout: [u32 d][f32 scale][ceil(d/8) bytes of sign bits, bit i = 1 for negative, LSB-first, zero-padded];
/// message_bytes(d) = 8 + ceil(d/8).
class ScaledSign final : public Compressor {
public:
  ScaledSign() : Compressor("sign", false) {}

protected:
  std::size_t payload_bytes_impl(Eigen::Index d) const override;
  void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) override;
  void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const override;
  double delta_impl(Eigen::Index d) const override;
};

}  // namespace decent
