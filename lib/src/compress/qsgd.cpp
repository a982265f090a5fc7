#include "decent/compress/qsgd.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "decent/compress/wire.hpp"

namespace decent {

Qsgd::Qsgd(int levels)
    : Compressor("qsgd:" + std::to_string(levels), true), s_(levels), field_bits_(1 + ceil_log2(levels + 1ull)) {
  if (levels < 1 || levels > 65535)
    throw std::invalid_argument("qsgd: level count must be in [1, 65535], got " + std::to_string(levels));
}

std::size_t Qsgd::payload_bytes_impl(Eigen::Index d) const {
  return 4 + packed_bytes(static_cast<std::size_t>(d), field_bits_);
}

void Qsgd::encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) {
  // A double sum of float squares cannot overflow, so it is finite exactly when every x_i is.
  const double norm = std::sqrt(x.cast<double>().squaredNorm());
  if (!std::isfinite(norm)) throw std::invalid_argument("qsgd needs finite input");
  // Round the norm up so that every r_i = |x_i| / norm_sent is at most 1.
  float norm_sent = static_cast<float>(norm);
  if (static_cast<double>(norm_sent) < norm) norm_sent = std::nextafter(norm_sent, std::numeric_limits<float>::infinity());
  if (!std::isfinite(norm_sent)) throw std::invalid_argument("qsgd: the norm of the input overflows a float");
  store_f32(payload.data(), norm_sent);

  const double scale = norm_sent > 0 ? s_ / static_cast<double>(norm_sent) : 0.0;
  const auto s = static_cast<std::uint32_t>(s_);
  const float* v = x.data();
  // A local copy keeps the generator's state in registers: the byte stores below may alias anything.
  Rng local = rng;
  BitWriter writer(payload.data() + 4);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const std::uint32_t sign = std::bit_cast<std::uint32_t>(v[i]) >> 31;
    const double r = std::fabs(v[i]) * scale;
    const double below = std::floor(r);
    // Up with probability r - floor(r); branch-free, since the outcome is a coin flip.
    const auto up = static_cast<std::uint32_t>(local.uniform() < r - below);
    const std::uint32_t level = std::min(static_cast<std::uint32_t>(below) + up, s);
    writer.put(level << 1 | sign, field_bits_);
  }
  writer.finish();
  rng = local;
}

void Qsgd::decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const {
  const float norm = load_f32(payload.data());
  if (!(norm >= 0 && norm <= std::numeric_limits<float>::max()))
    throw std::invalid_argument("qsgd norm " + std::to_string(norm) + " is not finite and >= 0");
  const double unit = static_cast<double>(norm) / s_;
  const auto s = static_cast<std::uint32_t>(s_);
  BitReader reader(payload.data() + 4, payload.data() + payload.size());
  for (Eigen::Index i = 0; i < out.size(); ++i) {
    const std::uint32_t field = reader.get(field_bits_);
    const std::uint32_t level = field >> 1;
    if (level > s) throw std::invalid_argument("qsgd level " + std::to_string(level) + " exceeds s = " + std::to_string(s));
    const auto value = static_cast<float>(unit * level);
    out[i] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(value) | field << 31);  // field bit 0 is the sign
  }
  reader.finish();
}

double Qsgd::omega_impl(Eigen::Index d) const {
  const auto dd = static_cast<double>(d);
  const auto s = static_cast<double>(s_);
  return std::min(dd / (s * s), std::sqrt(dd) / s);
}

}  // namespace decent
