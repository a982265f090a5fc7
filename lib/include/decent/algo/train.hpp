#pragma once
/// @file The training loop shared by every algorithm: local steps, then the schedule's communication.
#include <csignal>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "decent/algo/local_curriculum.hpp"
#include "decent/compress/feedback.hpp"
#include "decent/data/dataset.hpp"
#include "decent/data/sampler.hpp"
#include "decent/model/model.hpp"
#include "decent/mpi/comm.hpp"
#include "decent/optim/lr_schedule.hpp"
#include "decent/optim/sgd.hpp"
#include "decent/placement/placement.hpp"
#include "decent/probe/landscape.hpp"
#include "decent/schedule/schedule.hpp"
#include "decent/topology/topology.hpp"

namespace decent {

class Recorder;
class CheckpointReader;

/// Random stream tags shared by every training loop (train, train_zo, train_federated), so that the same
/// seed gives the same initial model, derive_seed(seed, {init_stream}), and the same batches per node,
/// derive_seed(seed, {sampler_stream, node}).
inline constexpr std::uint64_t init_stream = 0x494E4954;     // "INIT"
inline constexpr std::uint64_t sampler_stream = 0x534D504C;  // "SMPL"
/// Node i's stream for stochastic layers (dropout), derive_seed(seed, {dropout_stream, i}).
inline constexpr std::uint64_t dropout_stream = 0x44524F50;  // "DROP"
/// Data curricula: a federated client's job, derive_seed(seed, {curriculum_stream, i, version}); a
/// decentralized node's windows, derive_seed(seed, {curriculum_stream, i}).
inline constexpr std::uint64_t curriculum_stream = 0x43555252;  // "CURR"

/// The algorithms, by their config names.
enum class Algorithm {
  dsgd,      ///< "dsgd": adapt-then-combine D-SGD, x_i <- sum_j W_ij (x_j - lr g_j)
  dpsgd,     ///< "dpsgd": D-PSGD order, x_i <- sum_j W_ij x_j - lr g_i
  server,    ///< "server": mini-batch SGD with gradients all-reduced every step (nodes stay identical)
  local_sgd, ///< "local-sgd": local steps, exact merges on the schedule's merge steps
  choco      ///< "choco": CHOCO-SGD, local steps then compressed gossip rounds (ChocoGossip) on the schedule
};
/// Parses an algorithm name; std::invalid_argument lists the allowed names.
Algorithm parse_algorithm(std::string_view name);
std::string to_string(Algorithm algorithm);

/// Everything the loop needs besides the objects it is given.
struct TrainOptions {
  Algorithm algorithm = Algorithm::dsgd;
  Eigen::Index batch = 32;
  SamplingMode sampling = SamplingMode::shuffled_epochs;
  std::int64_t eval_every = 100;       ///< evaluate after steps t with (t+1) % eval_every == 0, and after the last
  std::int64_t progress_every = 10;    ///< call the progress callback after every K steps
  /// Flush subnormal floats to zero while training (x86 FTZ and DAZ; docs/performance.md): on some CPUs each
  /// subnormal operation costs up to a hundred cycles. Results differ from an unflushed run only where a value
  /// falls below 1.2e-38.
  bool flush_denormals = true;
  std::uint64_t seed = 1;
  /// Landscape probes: -1 never, 0 only after the last step (before its merge), K > 0 after every K steps
  /// and the last. A probe step is also an eval step.
  std::int64_t landscape_every = -1;
  LandscapeOptions landscape;          ///< what a probe measures
  const Dataset* probe_data = nullptr; ///< the probe's fixed test subset (nullptr: the eval set)
  /// Compression (docs/compression.md). The compressor spec (make_compressor) of what nodes send:
  /// gradients for server (with `feedback`), parameter differences for choco; other algorithms need "none".
  std::string compressor = "none";
  /// Error feedback of server-based training (none: plain compressed SGD); only with algorithm server.
  FeedbackOptions feedback;
  /// CHOCO's consensus step gamma in (0, 1].
  float choco_gamma = 0.5f;
  /// Steps 0 .. compress_warmup - 1 communicate uncompressed (server: exact all-reduce; choco: exact
  /// differences with gamma = 1, i.e. D-SGD), then compression starts.
  std::int64_t compress_warmup = 0;
  /// Checkpoints (docs/reliability.md): after every `checkpoint_every` steps (0: never, except on a stop
  /// request), the complete state goes to `checkpoint_path` (written to PATH.tmp, then renamed).
  std::int64_t checkpoint_every = 0;
  std::string checkpoint_path;
  /// Stored in checkpoints as the root attribute `config`, for the caller to compare on resume.
  std::string checkpoint_config;
  /// Set asynchronously (e.g. by a SIGTERM handler) to request a checkpoint and a stop. The ranks agree on
  /// the step boundary through a non-blocking all-reduce posted every 8 steps: at most 16 steps later, every
  /// rank writes the checkpoint and train() returns with TrainResult::stopped. nullptr: not watched.
  const volatile std::sig_atomic_t* stop_flag = nullptr;
  /// Continue from this checkpoint (written with the same configuration) instead of starting at step 0.
  const CheckpointReader* resume = nullptr;
  /// Each node's own data curriculum (docs/curricula.md, node_curriculum.hpp): every curriculum_window steps
  /// it orders its shard by scores under its own model (scorer local) or `expert`, and paces the window.
  LocalCurriculum curriculum;
  std::int64_t curriculum_window = 0;  ///< steps per window; 0: one epoch of the node's shard (n / batch + 1)
  Eigen::VectorXf expert;              ///< the expert's parameters (curriculum.scorer = expert)
};

/// True if the options make server-based training compress (a compressor other than none, or feedback).
bool compressed_server(const TrainOptions& options);

/// Reported to the progress callback (collective values, the same on every rank).
struct TrainProgress {
  std::int64_t step = 0, steps = 0;    ///< steps done, of all
  double mean_loss = 0;                ///< mean training loss over nodes at the last step
  double merged_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< at the last eval
  double local_accuracy = std::numeric_limits<double>::quiet_NaN();   ///< mean over nodes, last eval
  double seconds = 0;                  ///< since the start
};

/// What a finished run achieved (the same on every rank).
struct TrainResult {
  double merged_loss = 0, merged_accuracy = 0;  ///< of the mean model, at the last eval
  double local_accuracy = 0;                    ///< mean over nodes of their own accuracy, at the last eval
  double consensus_distance = 0;                ///< at the last eval
  std::uint64_t bytes = 0;                      ///< node-to-node payload bytes over the whole run
  std::int64_t gossip_rounds = 0, merges = 0;
  double seconds = 0;
  double probe_seconds = 0;                     ///< spent in landscape probes (rank 0's clock)
  Eigen::VectorXf merged_params;                ///< mean of all nodes after the last step
  bool stopped = false;                         ///< stopped early on a stop request, after a checkpoint
  std::int64_t steps_done = 0;                  ///< steps completed (all of them unless stopped)
};

/// Thrown on every rank when a loss or a parameter becomes NaN or infinite; what() names the step and the node.
class divergence_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Logical bytes one gossip round with W moves: every off-diagonal entry carries dim floats.
std::uint64_t gossip_bytes(const MixingMatrix& w, std::size_t dim);
/// Logical bytes of an exact average of n vectors of dim floats (bandwidth-optimal all-reduce: each node
/// sends 2 (n-1)/n of its vector).
std::uint64_t merge_bytes(int nodes, std::size_t dim);

/// The node-to-node bytes train() will report for this configuration, computed in advance from the
/// schedule's plan (random rounds are deterministic too, and every compressed message has a fixed size).
/// Throws std::invalid_argument for a bad compressor spec.
std::uint64_t planned_bytes(const TrainOptions& options, const Schedule& schedule, const Topology& topology,
                            const Model& model);

/// Trains this rank's nodes. Every node starts from the same initial parameters (drawn from the run seed)
/// and samples its own shard with its own stream (seed, node id), so results do not depend on the rank
/// count. Per step: each node takes a local step; then the schedule's action runs (gossip rounds on the
/// topology, or a merge); at eval steps the state is measured after gossip and before a merge, so the eval
/// at the last step shows the local models next to the merged model the final merge produces.
/// Collective over `comm`. Throws divergence_error for a NaN/inf loss or parameter (detected at the next
/// eval, or before a checkpoint); checkpoint_error if a checkpoint cannot be written or read.
/// A resumed run (options.resume) continues bitwise as the uninterrupted run would have (same rank count).
/// checkpoint layout: docs/reliability.md.
TrainResult train(const Comm& comm, const Placement& placement, const TrainOptions& options, const Model& model,
                  const Dataset& train_data, const std::vector<std::vector<Eigen::Index>>& local_shards,
                  const Dataset& test_data, const Topology& topology, const Schedule& schedule, const Sgd& sgd,
                  const LrSchedule& lr, Recorder* recorder,
                  const std::function<void(const TrainProgress&)>& progress = {});

}  // namespace decent
