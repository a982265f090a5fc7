#pragma once
/// @file Low-rank compression of a model's weight matrices: one PowerSGD step (Vogels et al. 2019) per message.
#include <vector>

#include "decent/compress/compressor.hpp"
#include "decent/core/layout.hpp"

namespace decent {

/// Rank-R compression of the matrix blocks of a parameter vector. For each block M (rows x cols) with
/// r = min(R, rows, cols): Q (cols x r) standard normal from the rng, P = M Q with orthonormal columns
/// (Gram-Schmidt in double; a column numerically dependent on the earlier ones becomes 0), Q' = M^T P, and
/// C(M) = P Q'^T = P P^T M, the projection of M onto range(M Q). Coordinates in no block (biases) are exact.
/// Q is drawn afresh at every encode (no warm start across calls, no error feedback).
///
/// Biased. ||C(M) - M||^2 <= ||M||^2 for every draw (up to float rounding), and over the draw of Q,
/// E||C(M) - M||^2 <= (1 - r / min(rows, cols)) ||M||^2; so delta(d) = min over blocks of r / min(rows, cols).
/// A block of rank <= r is reproduced up to float rounding. x must be finite (std::invalid_argument otherwise).
/// Draws cols * r rng.normal() values per block, in layout order.
///
/// Layout: [u32 d], then per block in layout order [P: rows x r f32][Q': cols x r f32] (both column-major),
/// then every coordinate in no block, in index order, as f32.
/// message_bytes(d) = 4 + 4 sum_b r_b (rows_b + cols_b) + 4 (d - sum_b rows_b cols_b).
/// The layout does not record d: any d >= layout_end(layout) is accepted, smaller d throw std::invalid_argument.
class LowRank final : public Compressor {
public:
  /// rank >= 1; layout non-empty and valid (validate_layout), blocks ending below 2^32; else std::invalid_argument.
  LowRank(Eigen::Index rank, std::vector<MatrixBlock> layout);
  /// The requested rank R (a block uses min(R, rows, cols)).
  Eigen::Index rank() const noexcept { return rank_; }
  /// The matrix blocks, in the order their factors appear in a message.
  const std::vector<MatrixBlock>& layout() const noexcept { return layout_; }

protected:
  std::size_t payload_bytes_impl(Eigen::Index d) const override;
  void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) override;
  void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const override;
  double delta_impl(Eigen::Index d) const override;

private:
  void check_dimension(Eigen::Index d) const;
  Eigen::Index block_rank(const MatrixBlock& b) const noexcept;

  Eigen::Index rank_;
  std::vector<MatrixBlock> layout_;
  std::vector<MatrixBlock> sorted_;  // layout_ by offset, to walk the uncovered gaps
  Eigen::Index end_ = 0;             // layout_end(layout_)
  Eigen::Index factor_floats_ = 0;   // sum_b r_b (rows_b + cols_b)
  Eigen::Index covered_ = 0;         // sum_b rows_b cols_b
  Eigen::Index max_p_ = 0, max_q_ = 0;  // the largest rows_b r_b and cols_b r_b
  // Scratch of encode, sized for the largest block by the constructor and mapped per block.
  Eigen::VectorXd q_, p_, q_prime_, panel_;
  Eigen::VectorXf p_float_, q_prime_float_;
};

}  // namespace decent
