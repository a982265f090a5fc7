#pragma once
/// @file Server-based steps with compressed gradients and error feedback: every node's wire message
/// reaches every node (an all-gather), and every rank forms the same server direction from them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <Eigen/Dense>

#include "decent/compress/compressor.hpp"
#include "decent/compress/feedback.hpp"
#include "decent/mpi/comm.hpp"
#include "decent/placement/placement.hpp"

namespace decent {

/// The server of compressed SGD with error feedback, replicated on every rank: nodes send their
/// feedback rule's message (FeedbackNode), every rank receives all n messages in one MPI_Allgatherv,
/// decodes them in node-id order and computes the direction the server would broadcast:
/// mean_i C_i (none, ef) or the running mean of the estimates h_i (EF21 family). Results do not depend
/// on the rank count (node streams (seed, node), node-order sums in double).
class CompressedServer {
public:
  /// Collective over `comm` (duplicates it). Throws std::invalid_argument on a placement/communicator
  /// mismatch or bad feedback options.
  CompressedServer(const Comm& comm, Placement placement, std::size_t dim, std::unique_ptr<Compressor> compressor,
                   FeedbackOptions feedback, std::uint64_t seed);

  /// One compressed step on the local nodes' gradients g (dim x local_count): writes the server's
  /// direction into `direction` (size dim). Returns the node-to-node bytes of the step, step_bytes().
  /// Collective.
  std::uint64_t step(Eigen::Ref<const Eigen::MatrixXf> g, Eigen::Ref<Eigen::VectorXf> direction);
  /// An exact (warm-up) step: an all-reduce of g; every node's memory becomes what an exact message
  /// leaves (h_i = v_i = g_i, e_i = 0). Returns the bytes of a dense all-reduce (merge_bytes). Collective.
  std::uint64_t exact_step(Eigen::Ref<const Eigen::MatrixXf> g, Eigen::Ref<Eigen::VectorXf> direction);

  /// Node-to-node bytes of one compressed step: each of the n messages reaches the n - 1 other nodes.
  std::uint64_t step_bytes() const;
  /// Bytes of one node's message.
  std::size_t message_bytes() const { return message_bytes_; }
  /// The feedback memory of local node k.
  const FeedbackState& state(int k) const { return states_.at(static_cast<std::size_t>(k)); }
  const FeedbackNode& rule() const noexcept { return rule_; }
  /// Checkpoints: local node k's feedback memory and random stream, and the server's running mean of the
  /// estimates h_i (EF21 family; empty before the first step), the same on every rank.
  FeedbackState& state(int k) { return states_.at(static_cast<std::size_t>(k)); }
  Rng& rng(int k) { return rngs_.at(static_cast<std::size_t>(k)); }
  Eigen::VectorXd& server_estimate() noexcept { return estimate_; }

private:
  void check(Eigen::Index rows, Eigen::Index cols, Eigen::Index direction) const;

  Comm comm_;
  Placement placement_;
  std::size_t dim_;
  std::unique_ptr<Compressor> compressor_;
  FeedbackNode rule_;
  std::size_t message_bytes_;
  std::vector<FeedbackState> states_;
  std::vector<Rng> rngs_;
  std::vector<int> counts_, offsets_;   // bytes per rank in the all-gather
  std::vector<std::uint8_t> mine_, all_;
  Message message_;
  Eigen::VectorXf decoded_;
  Eigen::VectorXd sum_, estimate_;      // estimate_: the server's mean_i h_i (EF21 family)
};

}  // namespace decent
