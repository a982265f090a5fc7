#include "decent/compress/scaled_sign.hpp"

#include <cmath>
#include <stdexcept>

#include "decent/compress/wire.hpp"

namespace decent {

std::size_t ScaledSign::payload_bytes_impl(Eigen::Index d) const {
  return 4 + packed_bytes(static_cast<std::size_t>(d), 1);
}

void ScaledSign::encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng&, std::span<std::uint8_t> payload) {
  // A double sum of float magnitudes cannot overflow, so it is finite exactly when every x_i is.
  const double l1 = x.cast<double>().cwiseAbs().sum();
  if (!std::isfinite(l1)) throw std::invalid_argument("sign needs finite input");
  store_f32(payload.data(), static_cast<float>(l1 / static_cast<double>(x.size())));
  store_sign_bits(payload.data() + 4, x.data(), static_cast<std::size_t>(x.size()));
}

void ScaledSign::decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const {
  const float scale = load_f32(payload.data());
  if (!(scale >= 0 && std::isfinite(scale))) throw std::invalid_argument("sign scale is not finite and >= 0");
  const std::uint8_t* bits = payload.data() + 4;
  const auto n = static_cast<std::size_t>(out.size());
  check_bit_padding(bits, n);
  apply_sign_bits(bits, n, out.data(), [scale](std::size_t) { return scale; });
}

double ScaledSign::delta_impl(Eigen::Index d) const { return 1 / static_cast<double>(d); }

}  // namespace decent
