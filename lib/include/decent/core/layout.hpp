#pragma once
/// @file Matrix blocks and coordinate ranges inside a flat parameter vector: where a model keeps its weights.
#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

namespace decent {

/// A column-major rows x cols matrix stored at params[offset .. offset + rows * cols): entry (i, j) is
/// params[offset + j * rows + i].
struct MatrixBlock {
  Eigen::Index offset = 0, rows = 0, cols = 0;

  /// Blocks are equal when offset and shape are.
  friend bool operator==(const MatrixBlock&, const MatrixBlock&) = default;
};

/// A contiguous range of coordinates [offset, offset + length) of a flat vector.
struct IndexRange {
  Eigen::Index offset = 0, length = 0;

  /// Ranges are equal when offset and length are.
  friend bool operator==(const IndexRange&, const IndexRange&) = default;
};

/// One past the last coordinate any block of the layout covers (0 for an empty layout); the layout must be valid.
inline Eigen::Index layout_end(std::span<const MatrixBlock> layout) noexcept {
  Eigen::Index end = 0;
  for (const MatrixBlock& b : layout) end = std::max(end, b.offset + b.rows * b.cols);
  return end;
}

/// Throws std::invalid_argument, naming the block, unless every block has rows, cols >= 1 and lies inside
/// [0, d), and no two blocks share a coordinate. An empty layout is valid.
inline void validate_layout(std::span<const MatrixBlock> layout, Eigen::Index d) {
  const auto describe = [&](std::size_t k) {
    const MatrixBlock& b = layout[k];
    return "block " + std::to_string(k) + " (offset " + std::to_string(b.offset) + ", " + std::to_string(b.rows) +
           " x " + std::to_string(b.cols) + ")";
  };
  std::vector<std::pair<Eigen::Index, std::size_t>> starts;  // (offset, block) for the overlap check
  starts.reserve(layout.size());
  for (std::size_t k = 0; k < layout.size(); ++k) {
    const MatrixBlock& b = layout[k];
    if (b.rows < 1 || b.cols < 1)
      throw std::invalid_argument("matrix layout: " + describe(k) + " must have rows and cols >= 1");
    // rows * cols <= d - offset, written so that nothing overflows.
    if (b.offset < 0 || b.offset > d || b.rows > (d - b.offset) / b.cols)
      throw std::invalid_argument("matrix layout: " + describe(k) + " does not fit in a vector of dimension " +
                                  std::to_string(d));
    starts.emplace_back(b.offset, k);
  }
  std::sort(starts.begin(), starts.end());
  for (std::size_t s = 1; s < starts.size(); ++s) {
    const MatrixBlock& before = layout[starts[s - 1].second];
    if (starts[s].first < before.offset + before.rows * before.cols)
      throw std::invalid_argument("matrix layout: " + describe(starts[s].second) + " overlaps " +
                                  describe(starts[s - 1].second));
  }
}

}  // namespace decent
