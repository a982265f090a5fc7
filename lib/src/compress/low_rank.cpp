#include "decent/compress/low_rank.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "decent/compress/wire.hpp"

// Why delta = r / min(rows, cols). Write M = U S V^T with S the rho x rho diagonal of M's non-zero singular
// values (rho = rank M <= min(rows, cols)). Then M Q = U S G with G = V^T Q, a rho x r standard normal matrix
// (rotation invariance), and the energy C keeps is ||P P^T M||^2 = tr(S Pi_{SG} S), Pi_A the orthogonal
// projection onto range(A). If r >= rho, range(M Q) = range(M) almost surely and C(M) = M. Otherwise, with
// X = G^T S^2 G, Y = G^T S^4 G, Z = G^T G (all invertible almost surely),
//   tr(S Pi_{SG} S) = tr(X^-1 Y)  and  tr(S Pi_G S) = tr(Z^-1 X);
// [[Y, X], [X, Z]] = [S^2 G, G]^T [S^2 G, G] is positive semidefinite, so Y >= X Z^-1 X (Schur complement) and
// tr(X^-1 Y) >= tr(Z^-1 X): for every draw, range(S G) keeps at least the energy that range(G) keeps. range(G)
// is a uniformly random r-dimensional subspace, E Pi_G = (r / rho) I, so E||P P^T M||^2 >= (r / rho) ||M||^2
// and E||C(M) - M||^2 = ||M||^2 - E||P P^T M||^2 <= (1 - r / min(rows, cols)) ||M||^2. Blocks are disjoint
// and the other coordinates are exact, so the whole vector contracts by the smallest block factor. The bound
// is tight: for M with orthonormal rows or columns every draw keeps exactly r / min(rows, cols) of the energy.

namespace decent {

namespace {

constexpr Eigen::Index max_dimension = std::numeric_limits<std::uint32_t>::max();

// M goes through the double products in panels of whole columns of at most this many entries (256 KiB), so
// that no double copy of a large block is ever made.
constexpr Eigen::Index panel_entries = Eigen::Index{1} << 15;

// A column of M Q whose norm falls below this fraction of its original norm when the earlier columns are
// projected out lies in their span to working precision; normalising it would only amplify rounding noise.
constexpr double dependent_column = 1e-10;

// How far from 1 the norm of a received column of P may be (float rounding of a unit vector is ~1e-7).
constexpr float unit_tolerance = 1e-4f;

Eigen::Index panel_cols(const MatrixBlock& b) { return std::clamp<Eigen::Index>(panel_entries / b.rows, 1, b.cols); }

std::string block_name(std::size_t k, const MatrixBlock& b) {
  return "block " + std::to_string(k) + " (" + std::to_string(b.rows) + " x " + std::to_string(b.cols) + ")";
}

// Modified Gram-Schmidt with every column orthogonalised twice ("twice is enough"): P^T P = I to double precision
// even when M Q is badly conditioned. A dependent column becomes exactly 0, so the outcome is deterministic.
void orthonormalise(Eigen::Ref<Eigen::MatrixXd> p) {
  for (Eigen::Index k = 0; k < p.cols(); ++k) {
    auto v = p.col(k);
    const double before = v.norm();
    for (int pass = 0; pass < 2; ++pass)
      for (Eigen::Index j = 0; j < k; ++j) v -= p.col(j).dot(v) * p.col(j);
    const double after = v.norm();
    if (before > 0 && after > dependent_column * before)
      v /= after;
    else
      v.setZero();
  }
}

}  // namespace

LowRank::LowRank(Eigen::Index rank, std::vector<MatrixBlock> layout)
    : Compressor("lowrank:" + std::to_string(rank), false), rank_(rank), layout_(std::move(layout)) {
  if (rank < 1) throw std::invalid_argument("lowrank: rank must be >= 1, got " + std::to_string(rank));
  if (layout_.empty())
    throw std::invalid_argument("lowrank: the matrix layout has no blocks (the model has no weight matrices)");
  try {
    validate_layout(layout_, max_dimension);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("lowrank: ") + e.what());
  }
  end_ = layout_end(layout_);
  Eigen::Index panel = 0;
  for (const MatrixBlock& b : layout_) {
    const Eigen::Index r = block_rank(b);
    factor_floats_ += r * (b.rows + b.cols);
    covered_ += b.rows * b.cols;
    max_p_ = std::max(max_p_, b.rows * r);
    max_q_ = std::max(max_q_, b.cols * r);
    panel = std::max(panel, b.rows * panel_cols(b));
  }
  sorted_ = layout_;
  std::sort(sorted_.begin(), sorted_.end(),
            [](const MatrixBlock& a, const MatrixBlock& b) { return a.offset < b.offset; });
  q_.resize(max_q_);
  q_prime_.resize(max_q_);
  q_prime_float_.resize(max_q_);
  p_.resize(max_p_);
  p_float_.resize(max_p_);
  panel_.resize(panel);
}

Eigen::Index LowRank::block_rank(const MatrixBlock& b) const noexcept { return std::min({rank_, b.rows, b.cols}); }

void LowRank::check_dimension(Eigen::Index d) const {
  if (d < end_)
    throw std::invalid_argument("compressor " + name() + ": dimension " + std::to_string(d) +
                                " is smaller than the end of its matrix layout, " + std::to_string(end_) +
                                " (a layout of another model?)");
}

std::size_t LowRank::payload_bytes_impl(Eigen::Index d) const {
  check_dimension(d);
  return 4 * static_cast<std::size_t>(factor_floats_ + d - covered_);
}

void LowRank::encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) {
  if (!x.allFinite()) throw std::invalid_argument("lowrank needs finite input");
  std::uint8_t* out = payload.data();
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    const MatrixBlock& b = layout_[k];
    const Eigen::Index r = block_rank(b);
    const Eigen::Map<const Eigen::MatrixXf> m(x.data() + b.offset, b.rows, b.cols);
    Eigen::Map<Eigen::MatrixXd> q(q_.data(), b.cols, r), p(p_.data(), b.rows, r), q_prime(q_prime_.data(), b.cols, r);
    Eigen::Map<Eigen::MatrixXf> p_float(p_float_.data(), b.rows, r), q_prime_float(q_prime_float_.data(), b.cols, r);
    for (Eigen::Index i = 0; i < q.size(); ++i) q.data()[i] = rng.normal();

    // Both products in double: float entries up to FLT_MAX times normals cannot overflow, and the sums over
    // thousands of terms keep float accuracy. Q' is formed from P as sent (rounded to float), so that the
    // receiver's P Q'^T is P P^T M for the P it has.
    const Eigen::Index width = panel_cols(b);
    p.setZero();
    for (Eigen::Index c = 0; c < b.cols; c += width) {
      const Eigen::Index n = std::min(width, b.cols - c);
      Eigen::Map<Eigen::MatrixXd> panel(panel_.data(), b.rows, n);
      panel = m.middleCols(c, n).cast<double>();
      p.noalias() += panel * q.middleRows(c, n);
    }
    orthonormalise(p);
    p_float = p.cast<float>();
    p = p_float.cast<double>();
    for (Eigen::Index c = 0; c < b.cols; c += width) {
      const Eigen::Index n = std::min(width, b.cols - c);
      Eigen::Map<Eigen::MatrixXd> panel(panel_.data(), b.rows, n);
      panel = m.middleCols(c, n).cast<double>();
      q_prime.middleRows(c, n).noalias() = panel.transpose() * p;
    }
    q_prime_float = q_prime.cast<float>();
    if (!q_prime_float.allFinite())
      throw std::invalid_argument("lowrank: the factor M^T P of " + block_name(k, b) + " overflows a float");

    store_f32_array(out, p_float.data(), static_cast<std::size_t>(p_float.size()));
    out += 4 * p_float.size();
    store_f32_array(out, q_prime_float.data(), static_cast<std::size_t>(q_prime_float.size()));
    out += 4 * q_prime_float.size();
  }
  Eigen::Index next = 0;  // the first coordinate not yet sent or covered
  const auto send_up_to = [&](Eigen::Index end) {
    store_f32_array(out, x.data() + next, static_cast<std::size_t>(end - next));
    out += 4 * (end - next);
  };
  for (const MatrixBlock& b : sorted_) {
    send_up_to(b.offset);
    next = b.offset + b.rows * b.cols;
  }
  send_up_to(x.size());
}

void LowRank::decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const {
  const std::uint8_t* in = payload.data();
  Eigen::VectorXf factors(max_p_ + max_q_);
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    const MatrixBlock& b = layout_[k];
    const Eigen::Index r = block_rank(b);
    Eigen::Map<Eigen::MatrixXf> p(factors.data(), b.rows, r), q_prime(factors.data() + max_p_, b.cols, r);
    load_f32_array(in, p.data(), static_cast<std::size_t>(p.size()));
    in += 4 * p.size();
    load_f32_array(in, q_prime.data(), static_cast<std::size_t>(q_prime.size()));
    in += 4 * q_prime.size();
    // Columns of P are unit vectors or 0 in every message encode writes; NaN fails this test too.
    for (Eigen::Index j = 0; j < r; ++j) {
      const float norm = p.col(j).norm();
      if (!(norm == 0 || std::abs(norm - 1) <= unit_tolerance))
        throw std::invalid_argument("lowrank: column " + std::to_string(j) + " of P in " + block_name(k, b) +
                                    " has norm " + std::to_string(norm) + ", expected 0 or 1");
    }
    if (!q_prime.allFinite())
      throw std::invalid_argument("lowrank: the factor Q' of " + block_name(k, b) + " is not finite");
    Eigen::Map<Eigen::MatrixXf>(out.data() + b.offset, b.rows, b.cols).noalias() = p * q_prime.transpose();
  }
  Eigen::Index next = 0;
  const auto receive_up_to = [&](Eigen::Index end) {
    load_f32_array(in, out.data() + next, static_cast<std::size_t>(end - next));
    in += 4 * (end - next);
    if (!out.segment(next, end - next).allFinite())
      throw std::invalid_argument("lowrank: a coordinate outside the matrix blocks is not finite");
  };
  for (const MatrixBlock& b : sorted_) {
    receive_up_to(b.offset);
    next = b.offset + b.rows * b.cols;
  }
  receive_up_to(out.size());
}

double LowRank::delta_impl(Eigen::Index d) const {
  check_dimension(d);
  double delta = 1;
  for (const MatrixBlock& b : layout_)
    delta = std::min(delta, static_cast<double>(block_rank(b)) / static_cast<double>(std::min(b.rows, b.cols)));
  return delta;
}

}  // namespace decent
