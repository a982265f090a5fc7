#pragma once
/// @file A topology: the mixing matrix of every gossip round, static or time-varying, and its factory.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "decent/topology/mixing_matrix.hpp"
#include "decent/topology/weights.hpp"

namespace decent {

/// The mixing matrix W^(t) used at gossip round t = 0, 1, 2, ... for n nodes.
class Topology {
public:
  virtual ~Topology() = default;

  /// W for round `round` (>= 0; throws std::invalid_argument otherwise). Deterministic in round.
  MixingMatrix mixing_matrix(std::int64_t round) const;
  /// Number of nodes.
  int nodes() const noexcept { return n_; }
  /// The spec this topology was built from, e.g. "torus:4x8" or "random:0.2".
  const std::string& name() const noexcept { return name_; }
  /// How the weights were chosen, e.g. "uniform", "metropolis", "file" or "1/2 per round".
  const std::string& weights() const noexcept { return weights_; }
  /// Rounds after which the sequence repeats: 1 for a static graph, 0 if it never does (random).
  int period() const noexcept { return period_; }
  bool time_varying() const noexcept { return period_ != 1; }
  /// W^(first+P-1) ... W^(first), the product over one period P (P = 1 for static graphs).
  /// Throws std::logic_error for a topology without a period.
  Eigen::MatrixXd period_product(std::int64_t first = 0) const;

protected:
  Topology(std::string name, int n, int period, std::string weights);
  virtual MixingMatrix mixing_matrix_impl(std::int64_t round) const = 0;

private:
  std::string name_;
  std::string weights_;
  int n_;
  int period_;
};

/// A graph with fixed weights.
class StaticTopology final : public Topology {
public:
  /// `weights` says how W's weights were chosen (for reports).
  StaticTopology(std::string name, MixingMatrix w, std::string weights = "explicit");
  const MixingMatrix& matrix() const noexcept { return w_; }

protected:
  MixingMatrix mixing_matrix_impl(std::int64_t round) const override;

private:
  MixingMatrix w_;
};

/// A fixed sequence of matrices used cyclically (one-peer exponential, Base-(k+1)).
class CyclicTopology final : public Topology {
public:
  CyclicTopology(std::string name, std::vector<MixingMatrix> rounds, std::string weights = "explicit");

protected:
  MixingMatrix mixing_matrix_impl(std::int64_t round) const override;

private:
  std::vector<MixingMatrix> rounds_;
};

/// The random-r graph, redrawn every round from (seed, round).
class RandomTopology final : public Topology {
public:
  RandomTopology(std::string name, int n, double r, std::uint64_t seed);
  double budget() const noexcept { return r_; }
  /// Round `round` drawn with budget `r` instead of the topology's own (for budget profiles);
  /// the same (seed, round) stream, so r = budget() gives mixing_matrix(round).
  MixingMatrix with_budget(std::int64_t round, double r) const;

protected:
  MixingMatrix mixing_matrix_impl(std::int64_t round) const override;

private:
  double r_;
  std::uint64_t seed_;
};

/// Options of make_topology besides the spec.
struct TopologyOptions {
  /// Mixing weights; empty means the graph's literature default (docs/topologies.md).
  std::optional<WeightScheme> weights;
  /// Seed of the random graphs (erdos-renyi, random).
  std::uint64_t seed = 1;
};

/// Builds a topology on n nodes from a spec "NAME[:PARAM]":
/// ring, torus[:RxC], exponential, one-peer-exponential, hypercube, complete, star,
/// erdos-renyi[:P], random[:R], base[:K], file:PATH.
/// Throws std::invalid_argument with a message naming the spec and what is allowed.
std::unique_ptr<Topology> make_topology(std::string_view spec, int n, const TopologyOptions& options = {});
/// The topology names make_topology accepts, for help texts.
std::vector<std::string> topology_names();

}  // namespace decent
