#include "decent/compress/identity.hpp"

#include "decent/compress/wire.hpp"

namespace decent {

std::size_t Identity::payload_bytes_impl(Eigen::Index d) const { return 4 * static_cast<std::size_t>(d); }

void Identity::encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng&, std::span<std::uint8_t> payload) {
  store_f32_array(payload.data(), x.data(), static_cast<std::size_t>(x.size()));
}

void Identity::decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const {
  load_f32_array(payload.data(), out.data(), static_cast<std::size_t>(out.size()));
}

double Identity::omega_impl(Eigen::Index) const { return 0; }

}  // namespace decent
