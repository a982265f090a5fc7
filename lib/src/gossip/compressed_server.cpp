#include "decent/gossip/compressed_server.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

namespace decent {
namespace {

constexpr std::uint64_t feedback_stream = 0x46454544;  // "FEED"

}  // namespace

CompressedServer::CompressedServer(const Comm& comm, Placement placement, std::size_t dim,
                                   std::unique_ptr<Compressor> compressor, FeedbackOptions feedback, std::uint64_t seed)
    : comm_(comm.dup()), placement_(placement), dim_(dim), compressor_(std::move(compressor)),
      rule_(feedback, *compressor_), message_bytes_(compressor_->message_bytes(static_cast<Eigen::Index>(dim))) {
  if (placement_.ranks() != comm_.size())
    throw std::invalid_argument("compressed server: placement is for " + std::to_string(placement_.ranks()) +
                                " ranks but the communicator has " + std::to_string(comm_.size()));
  const int me = comm_.rank(), first = placement_.first(me), count = placement_.count(me);
  for (int r = 0; r < comm_.size(); ++r) {
    const std::size_t bytes = static_cast<std::size_t>(placement_.count(r)) * message_bytes_;
    const std::size_t offset = static_cast<std::size_t>(placement_.first(r)) * message_bytes_;
    if (bytes > static_cast<std::size_t>(INT_MAX) || offset > static_cast<std::size_t>(INT_MAX))
      throw std::invalid_argument("compressed server: " + std::to_string(placement_.nodes()) + " messages of " +
                                  std::to_string(message_bytes_) + " bytes exceed MPI's int count limit");
    counts_.push_back(static_cast<int>(bytes));
    offsets_.push_back(static_cast<int>(offset));
  }
  states_.resize(static_cast<std::size_t>(count));
  for (int k = 0; k < count; ++k)
    rngs_.emplace_back(derive_seed(seed, {feedback_stream, static_cast<std::uint64_t>(first + k)}));
  mine_.resize(static_cast<std::size_t>(count) * message_bytes_);
  all_.resize(static_cast<std::size_t>(placement_.nodes()) * message_bytes_);
  decoded_.resize(static_cast<Eigen::Index>(dim_));
  estimate_ = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(dim_));
}

void CompressedServer::check(Eigen::Index rows, Eigen::Index cols, Eigen::Index direction) const {
  if (static_cast<std::size_t>(rows) != dim_ || cols != placement_.count(comm_.rank()) ||
      static_cast<std::size_t>(direction) != dim_)
    throw std::invalid_argument("compressed server: gradients are " + std::to_string(rows) + " x " +
                                std::to_string(cols) + " and the direction has " + std::to_string(direction) +
                                " entries; expected dim x local nodes = " + std::to_string(dim_) + " x " +
                                std::to_string(placement_.count(comm_.rank())) + " and dim");
}

std::uint64_t CompressedServer::step_bytes() const {
  const auto n = static_cast<std::uint64_t>(placement_.nodes());
  return n * (n - 1) * message_bytes_;
}

std::uint64_t CompressedServer::step(Eigen::Ref<const Eigen::MatrixXf> g, Eigen::Ref<Eigen::VectorXf> direction) {
  check(g.rows(), g.cols(), direction.size());
  for (Eigen::Index k = 0; k < g.cols(); ++k) {
    rule_.compressed_step(g.col(k), states_[static_cast<std::size_t>(k)], rngs_[static_cast<std::size_t>(k)], message_,
                          decoded_);
    std::copy(message_.bytes.begin(), message_.bytes.end(),
              mine_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(k) * message_bytes_));
  }
  DECENT_MPI(MPI_Allgatherv, mine_.data(), counts_[static_cast<std::size_t>(comm_.rank())], MPI_UINT8_T, all_.data(),
             counts_.data(), offsets_.data(), MPI_UINT8_T, comm_.native());
  // Every rank decodes every message and sums in node order, so all hold the same direction.
  sum_.setZero(static_cast<Eigen::Index>(dim_));
  for (int node = 0; node < placement_.nodes(); ++node) {
    const auto begin = all_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(node) * message_bytes_);
    message_.bytes.assign(begin, begin + static_cast<std::ptrdiff_t>(message_bytes_));
    compressor_->decode(message_, decoded_);
    sum_ += decoded_.cast<double>();
  }
  sum_ /= static_cast<double>(placement_.nodes());
  if (rule_.keeps_estimate()) {
    estimate_ += sum_;
    direction = estimate_.cast<float>();
  } else {
    direction = sum_.cast<float>();
  }
  return step_bytes();
}

std::uint64_t CompressedServer::exact_step(Eigen::Ref<const Eigen::MatrixXf> g, Eigen::Ref<Eigen::VectorXf> direction) {
  check(g.rows(), g.cols(), direction.size());
  sum_.setZero(static_cast<Eigen::Index>(dim_));
  for (Eigen::Index k = 0; k < g.cols(); ++k) {
    sum_ += g.col(k).cast<double>();
    rule_.exact_step(g.col(k), states_[static_cast<std::size_t>(k)]);
  }
  comm_.allreduce(std::span<double>(sum_.data(), dim_), ReduceOp::sum);
  sum_ /= static_cast<double>(placement_.nodes());
  if (rule_.keeps_estimate()) estimate_ = sum_;
  direction = sum_.cast<float>();
  const auto n = static_cast<std::uint64_t>(placement_.nodes());
  return n < 2 ? 0 : 2 * (n - 1) * dim_ * sizeof(float);  // a bandwidth-optimal all-reduce, as merge_bytes
}

}  // namespace decent
