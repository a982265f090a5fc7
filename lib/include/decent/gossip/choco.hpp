#pragma once
/// @file CHOCO-Gossip (Koloskova, Stich, Jaggi 2019): gossip of compressed differences to public copies,
/// on any static or time-varying topology.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <Eigen/Dense>

#include "decent/compress/compressor.hpp"
#include "decent/gossip/gossip.hpp"
#include "decent/mpi/comm.hpp"
#include "decent/placement/placement.hpp"
#include "decent/topology/mixing_matrix.hpp"
#include "decent/topology/topology.hpp"

namespace decent {

/// readers[j]: the nodes i != j with W_ij != 0 in some round of `topology` (they need node j's public
/// copy), in increasing order. A topology without a period (random) may connect any pair: every node
/// reads every other.
std::vector<std::vector<int>> choco_readers(const Topology& topology);

/// Every node j keeps a public copy xhat_j of its parameters, and so does every node that reads j (one
/// copy per rank). A round, for every node i:
///   q_i = C(x_i - xhat_i), sent to i's readers;   xhat_j += q_j for j = i and every j that i reads;
///   x_i += gamma * sum_j W_ij (xhat_j - xhat_i).
/// Copies start at zero. Because q_j reaches all of j's readers every round, the copies agree everywhere
/// whichever edges a round uses. With the identity compressor and gamma = 1 a round is x <- W x (D-SGD's
/// gossip) up to float rounding. Each node sums in node-id order and draws from its own stream (seed,
/// node), so results are bitwise identical for every rank count (same build).
class ChocoGossip {
public:
  /// `readers` as choco_readers gives it (for placement.nodes() nodes). Collective over `comm` (duplicates
  /// it). Throws std::invalid_argument for a placement/communicator or readers/placement mismatch.
  ChocoGossip(const Comm& comm, Placement placement, std::size_t dim, std::vector<std::vector<int>> readers,
              std::unique_ptr<Compressor> compressor, std::uint64_t seed);

  /// One round with mixing matrix w and consensus step gamma, in place on the local nodes' columns of x
  /// (dim x local_count). `exact` sends uncompressed differences (the identity compressor: warm-up).
  /// Collective. Throws std::invalid_argument if w reads a node outside `readers` or shapes mismatch.
  RoundStats round(const MixingMatrix& w, Eigen::Ref<Eigen::MatrixXf> x, float gamma, bool exact = false);

  /// After an exact merge every node holds the same x, and every node knows it: sets every public copy
  /// this rank holds to `merged` without communication, so copies stay consistent and the next round
  /// does not pull the merged models apart. Throws std::invalid_argument on a size mismatch.
  void synchronize(Eigen::Ref<const Eigen::VectorXf> merged);

  /// Node-to-node bytes of one round: every node's message times its number of readers.
  std::uint64_t round_bytes(bool exact = false) const;
  /// Bytes of one node's message.
  std::size_t message_bytes(bool exact = false) const;
  /// The public copy xhat_node held on this rank (a local node or one a local node reads).
  /// Throws std::out_of_range if this rank does not hold it.
  Eigen::Ref<const Eigen::VectorXf> public_copy(int node) const;
  /// Checkpoints: the nodes whose public copies this rank holds (increasing), and setting one of them.
  std::vector<int> held_nodes() const;
  void set_public_copy(int node, Eigen::Ref<const Eigen::VectorXf> value);
  /// Checkpoints: the random stream of local node k (its compressor's randomness).
  Rng& rng(int k) { return rngs_.at(static_cast<std::size_t>(k)); }
  const Compressor& compressor() const noexcept { return *compressor_; }
  int local_count() const { return placement_.count(comm_.rank()); }

private:
  Eigen::Index column_of(int node) const;
  void exchange(Compressor& c, Eigen::Ref<Eigen::MatrixXf> x, RoundStats& stats);

  Comm comm_;
  Placement placement_;
  std::size_t dim_;
  Eigen::Index padded_;
  std::vector<std::vector<int>> readers_;
  std::unique_ptr<Compressor> compressor_, exact_;
  std::vector<Rng> rngs_;                  // one stream per local node
  std::vector<int> held_;                  // node -> column of copies_, -1 if not held here
  std::vector<std::vector<int>> reads_;    // per local node: the nodes it may read, increasing
  Eigen::MatrixXf copies_storage_;         // padded_ x held nodes (64-byte aligned columns)
  std::vector<std::vector<int>> give_, need_;  // per rank: local nodes it reads / its nodes we read
  std::vector<std::vector<std::uint8_t>> outbox_, inbox_;
  std::vector<Message> messages_;          // this round's message of every local node
  Message scratch_;
  Eigen::VectorXf difference_, update_, sum_;
};

}  // namespace decent
