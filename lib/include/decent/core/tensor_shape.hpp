#pragma once
/// @file The shape of one sample's values: channels x height x width, stored channels-last.
#include <Eigen/Core>
#include <string>

namespace decent {

/// Shape of one sample (an input or a layer's output). Values are stored channels-last: entry (c, y, x) of a
/// sample is at c + channels * (x + width * y), so an image's pixels are row-major as in an IDX file and a
/// sample's C values at one position are contiguous. A flat vector of n values is {n, 1, 1}.
struct TensorShape {
  Eigen::Index channels = 0, height = 1, width = 1;

  /// Number of values per sample.
  constexpr Eigen::Index size() const noexcept { return channels * height * width; }
  /// True for a flat vector (height = width = 1).
  constexpr bool flat() const noexcept { return height == 1 && width == 1; }
  /// "C" for a flat vector, else "CxHxW" (the input-shape syntax of docs/models.md).
  std::string to_string() const {
    if (flat()) return std::to_string(channels);
    return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
  }
  /// Shapes are equal when every dimension is.
  friend constexpr bool operator==(const TensorShape&, const TensorShape&) = default;
};

}  // namespace decent
