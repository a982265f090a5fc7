#pragma once
/// @file Shared-seed zeroth-order training ("Just One Byte", Zelikman et al. 2023): nodes exchange only
/// projected-gradient scalars; every node regenerates everyone's perturbations from their seeds.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "decent/algo/train.hpp"
#include "decent/data/dataset.hpp"
#include "decent/data/sampler.hpp"
#include "decent/model/model.hpp"
#include "decent/mpi/comm.hpp"
#include "decent/optim/lr_schedule.hpp"
#include "decent/placement/placement.hpp"

namespace decent {

class Recorder;

/// How a projected-gradient scalar travels.
enum class ZoScalar {
  float32,  ///< "float": the 4-byte IEEE float as computed
  byte      ///< "byte": one byte, sign + 7-bit log-domain magnitude (encode_zo_byte)
};
/// Parses "float" or "byte"; std::invalid_argument names the allowed values.
ZoScalar parse_zo_scalar(std::string_view name);
/// "float" or "byte".
std::string to_string(ZoScalar scalar);
/// Bytes one scalar takes on the wire: 4 or 1.
std::size_t zo_scalar_bytes(ZoScalar scalar) noexcept;

/// The byte code (docs/zeroth-order.md): bit 7 is the sign (1 = negative), bits 0..6 a magnitude code c.
/// c = 0 is zero (0x00) or, as 0x80, "not finite"; c in 1..127 is |g| = exp((c - 64) / 16), so
/// p = round(16 ln|g|) is clamped to [-63, 63], and |g| < exp(-63.5 / 16) (p < -63) becomes zero.
inline constexpr std::uint8_t zo_byte_nonfinite = 0x80;
/// The byte of g (round half away from zero in the log domain; NaN and +-inf give zo_byte_nonfinite).
std::uint8_t encode_zo_byte(float g) noexcept;
/// The value of a byte: 0, +-exp((c - 64) / 16) from a fixed table (the same on every rank), or NaN.
float decode_zo_byte(std::uint8_t code) noexcept;

/// The seed of the perturbation of node `node`'s sample `sample` at step `step` under the run seed.
std::uint64_t zo_seed(std::uint64_t seed, std::int64_t step, int node, Eigen::Index sample) noexcept;
/// Fills z with standard normal deviates drawn in order from Rng(stream_seed) (cast to float).
void zo_perturbation(std::uint64_t stream_seed, Eigen::Ref<Eigen::VectorXf> z);

/// The losses at theta + eps z and theta - eps z.
struct ZoLosses {
  float plus = 0, minus = 0;
  /// (plus - minus) / (2 eps), the projected gradient; the division is done in float.
  float projected_gradient(float eps) const noexcept { return (plus - minus) / (2 * eps); }
};

/// The in-place perturbation walk: theta += eps z, evaluate, theta -= 2 eps z, evaluate, theta += eps z.
/// No copy of theta is made, so theta ends within a few float roundings of where it began (not exactly);
/// the walk is a fixed sequence of float operations, so equal inputs give bitwise equal outputs. With an
/// empty `loss` theta only moves (and the returned losses are 0): ranks replay other ranks' walks this way.
ZoLosses zo_walk(Eigen::Ref<Eigen::VectorXf> theta, const Eigen::Ref<const Eigen::VectorXf>& z, float eps,
                 const std::function<float(const Eigen::Ref<const Eigen::VectorXf>&)>& loss);

/// A 64-bit hash of the parameters' bit patterns (equal iff bitwise equal, up to hash collisions).
std::uint64_t parameter_hash(const Eigen::Ref<const Eigen::VectorXf>& params) noexcept;

/// Everything train_zo needs besides the objects it is given.
struct ZoOptions {
  /// Flush subnormal floats to zero while training (as TrainOptions::flush_denormals).
  bool flush_denormals = true;
  std::int64_t steps = 600;               ///< training steps
  Eigen::Index batch = 32;                ///< samples per node per step; each sample gets its own perturbation
  SamplingMode sampling = SamplingMode::shuffled_epochs;
  float eps = 1e-3f;                      ///< perturbation scale, > 0
  ZoScalar scalar = ZoScalar::float32;    ///< wire format of the scalars
  /// Drift guard: compare parameter hashes across ranks after every K steps and after the last (0: only
  /// after the last step).
  std::int64_t verify_every = 10;
  std::int64_t eval_every = 100;          ///< evaluate after steps t with (t+1) % eval_every == 0, and after the last
  std::int64_t progress_every = 10;       ///< call the progress callback after every K steps (0: never)
  std::uint64_t seed = 1;
  /// Called on every rank after each step's update with the step and this rank's parameters, before the
  /// drift guard; tests use it to corrupt a parameter on one rank. Empty: nothing.
  std::function<void(std::int64_t, Eigen::Ref<Eigen::VectorXf>)> after_update;
};

/// Thrown on every rank when the drift guard finds ranks whose parameters differ; what() names the step.
class zo_drift_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Node-to-node bytes of one step: each of the n nodes' `batch` scalars reaches the n - 1 other nodes
/// (what a bandwidth-optimal all-gather moves), n (n - 1) batch zo_scalar_bytes in all.
std::uint64_t zo_step_bytes(int nodes, Eigen::Index batch, ZoScalar scalar) noexcept;

/// train_zo's result: TrainResult plus how the byte code treated the scalars (all 0 for float scalars).
struct ZoResult : TrainResult {
  std::uint64_t scalars = 0;   ///< projected gradients sent over the run (steps x nodes x batch)
  std::uint64_t saturated = 0; ///< byte code: |g| >= exp(63.5/16) ~ 52.9, sent as exp(63/16) ~ 51.4
  std::uint64_t flushed = 0;   ///< byte code: nonzero |g| < exp(-63.5/16) ~ 0.0190, sent as 0
};

/// Shared-seed zeroth-order training. Every node holds the same model; this rank keeps one copy for all of
/// its nodes. At step t node m takes `batch` samples from its shard (stream (seed, node) as in train()),
/// and for its sample k draws z from zo_seed(seed, t, m, k), computes g = (L(theta + eps z) -
/// L(theta - eps z)) / (2 eps) on that sample with zo_walk and sends g (float or byte). All ranks then
/// apply theta -= lr g z / sqrt(N) for every (m, k) in node-then-sample order, N = nodes x batch.
/// Every rank replays every node's walk (evaluating only its own), so all copies round alike and stay
/// bitwise identical for any rank count; the drift guard checks that. Collective over `comm`.
/// Throws divergence_error for a non-finite loss (at that step), zo_drift_error on a hash mismatch.
ZoResult train_zo(const Comm& comm, const Placement& placement, const ZoOptions& options, const Model& model,
                  const Dataset& train_data, const std::vector<std::vector<Eigen::Index>>& local_shards,
                  const Dataset& test_data, const LrSchedule& lr, Recorder* recorder,
                  const std::function<void(const TrainProgress&)>& progress = {});

}  // namespace decent
