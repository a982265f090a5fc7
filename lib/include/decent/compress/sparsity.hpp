#pragma once
/// @file How many coordinates a sparsifier (top-k, random-k) keeps: a fraction of d or a fixed count.
#include <cstdint>
#include <string>

#include <Eigen/Core>

namespace decent {

/// The k of a sparsifier, given either as a fraction F of the dimension or as a count K.
class Sparsity {
public:
  /// k = max(1, round(F d)) (halves round away from zero); F in (0, 1], else std::invalid_argument.
  static Sparsity fraction(double f);
  /// k = min(K, d); K >= 1, else std::invalid_argument.
  static Sparsity count(std::int64_t k);

  /// The number of coordinates kept out of d >= 1: always in [1, d].
  Eigen::Index k(Eigen::Index d) const;
  bool is_fraction() const noexcept { return count_ == 0; }
  /// The spec parameter: the shortest text of F that reads back to it ("0.01"), or K ("100").
  std::string to_string() const;

private:
  Sparsity(double f, std::int64_t k) noexcept : fraction_(f), count_(k) {}
  double fraction_;
  std::int64_t count_;  // 0 when given as a fraction
};

}  // namespace decent
