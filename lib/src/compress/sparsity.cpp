#include "decent/compress/sparsity.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace decent {

Sparsity Sparsity::fraction(double f) {
  if (!(f > 0 && f <= 1)) throw std::invalid_argument("sparsity fraction must be in (0, 1], got " + std::to_string(f));
  return Sparsity(f, 0);
}

Sparsity Sparsity::count(std::int64_t k) {
  if (k < 1) throw std::invalid_argument("sparsity count must be >= 1, got " + std::to_string(k));
  return Sparsity(0, k);
}

Eigen::Index Sparsity::k(Eigen::Index d) const {
  if (d < 1) throw std::invalid_argument("sparsity: dimension must be >= 1, got " + std::to_string(d));
  const auto k = count_ > 0 ? count_ : std::llround(fraction_ * static_cast<double>(d));
  return static_cast<Eigen::Index>(std::clamp<std::int64_t>(k, 1, d));
}

std::string Sparsity::to_string() const {
  if (count_ > 0) return std::to_string(count_);
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, fraction_);
  std::string text(buffer, end);
  // A fraction must read back as one: "1" would mean the count 1.
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

}  // namespace decent
