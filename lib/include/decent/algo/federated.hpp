#pragma once
/// @file Server-based federated training with asynchronous aggregation (FedAvg, async FedAvg, FedBuff,
/// FedFix; Fraboni et al. 2023) on a deterministic virtual clock. Semantics in docs/federated.md.
#include <csignal>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "decent/algo/availability.hpp"
#include "decent/algo/client_selection.hpp"
#include "decent/algo/local_curriculum.hpp"
#include "decent/algo/train.hpp"
#include "decent/data/dataset.hpp"
#include "decent/data/sampler.hpp"
#include "decent/model/model.hpp"
#include "decent/mpi/comm.hpp"
#include "decent/optim/lr_schedule.hpp"
#include "decent/optim/server_optimizer.hpp"
#include "decent/optim/sgd.hpp"
#include "decent/placement/placement.hpp"

namespace decent {

class CheckpointReader;
class Recorder;

/// When the server aggregates and with which weights d_i (p_i = 1/n, the uniform client importance).
enum class AggregationRule {
  fedavg,        ///< "fedavg": synchronous; waits for every client, d_i = p_i
  async_fedavg,  ///< "async-fedavg": every return is applied alone, d_i = (sum_j 1/tau_j) tau_i p_i
  fedbuff,       ///< "fedbuff": applies the c earliest returns together, d_i = 1/c
  fedfix         ///< "fedfix": applies at times k dt every client returned by then, d_i = ceil(tau_i/dt) p_i
};
/// Parses a rule name; std::invalid_argument lists the allowed names.
AggregationRule parse_aggregation_rule(std::string_view name);
/// The rule's config name.
std::string to_string(AggregationRule rule);
/// True if `name` is one of the rules' config names.
bool is_aggregation_rule(std::string_view name);

/// Job durations of Fraboni et al.'s scenario "F-P": tau_i = 1 - i (P/100) / (n-1), so client 0 is the
/// slowest (tau = 1) and client n-1 the fastest (tau = 1 - P/100); all 1 for n = 1. P in [0, 100).
std::vector<double> spread_durations(int clients, double spread_percent);

/// Everything train_federated needs besides the objects it is given.
struct FederatedOptions {
  /// Flush subnormal floats to zero while training (as TrainOptions::flush_denormals).
  bool flush_denormals = true;
  AggregationRule rule = AggregationRule::fedavg;
  /// tau_i: virtual time one job (local_steps SGD steps) takes on client i; one finite value > 0 per client.
  std::vector<double> durations;
  std::int64_t local_steps = 1;     ///< SGD steps per job, from the model the client received
  double server_lr = 1;             ///< lr_g of the server update
  /// How the server applies the aggregated update (FedOpt); the default, sgd, is theta += lr_g Delta.
  ServerOptimizerOptions server_optimizer;
  int buffer_size = 1;              ///< fedbuff: c, in [1, clients]
  double fedfix_dt = 0.5;           ///< fedfix: the window dt > 0
  /// Client participation (synchronous rule fedavg only; docs/federated.md). clients_per_round = m in [1, n]:
  /// each round a seeded uniform sample of m clients receives the model (0: all n). dropout = P in [0, 1): a
  /// selected client fails to return with probability P (seeded per round and client). deadline = D > 0: a
  /// client with tau_i > D does not return in time, and a round lasts at most D (0: no deadline).
  int clients_per_round = 0;
  double dropout = 0;
  double deadline = 0;
  /// When each client is online (availability.hpp; fedavg only): a round starts at the first time a client is
  /// online, offers its model only to online clients, and a client offline before its job ends does not return.
  Availability availability;
  /// How a round's m clients are chosen (fedavg with clients_per_round >= 1): uniform (selected_clients), or by
  /// the clients' losses under the server model (power-of-choice, high-loss, curriculum; client_selection.hpp).
  ClientSelection selection;
  /// A data curriculum for every job (docs/curricula.md): the client's shard scored at the job's start, its
  /// batches drawn from an easiest-first pool paced over the job's local steps (every rule). Off by default.
  LocalCurriculum curriculum;
  /// The expert's parameters (expert.hpp) when the curriculum scores by it (curriculum.scorer == expert, order
  /// curr or anti), else empty.
  Eigen::VectorXf expert;
  /// Group fairness at every eval (docs/fairness.md): with a class id >= 0 and training data carrying sensitive
  /// attributes (Dataset::groups), every client counts (Z, Yhat = 1[prediction == this class]) of the server
  /// model on its shard and the PID of the pooled histogram is recorded under /fairness. -1: off.
  int fairness_positive = -1;
  std::int64_t steps = 100;         ///< server updates (FedFix: windows, empty ones included)
  Eigen::Index batch = 32;
  SamplingMode sampling = SamplingMode::shuffled_epochs;
  std::int64_t eval_every = 100;    ///< evaluate after updates u with (u+1) % eval_every == 0, and after the last
  /// Evaluate every client's last returned model on the whole eval set too (/eval/local_*; NaN when off): with
  /// many clients this is most of an eval's time.
  bool evaluate_clients = true;
  std::int64_t progress_every = 10; ///< call the progress callback after every K updates
  std::uint64_t seed = 1;
  /// Checkpoints (docs/reliability.md), as TrainOptions: after every `checkpoint_every` server updates (0: only
  /// on a stop request) the complete state (server model and optimizer, the clock, the selection, every
  /// client's job in flight, sampler and streams) goes to `checkpoint_path`, written to PATH.tmp and renamed.
  std::int64_t checkpoint_every = 0;
  std::string checkpoint_path;
  std::string checkpoint_config;  ///< stored as the root attribute `config`, for the caller to compare on resume
  /// Set asynchronously (a signal handler) to request a checkpoint and a stop; the ranks agree after an update.
  const volatile std::sig_atomic_t* stop_flag = nullptr;
  /// Continue from this checkpoint (same configuration) instead of starting at update 0.
  const CheckpointReader* resume = nullptr;
};

/// Throws std::invalid_argument naming the option if `options` is unusable for `clients` clients.
void check_federated_options(const FederatedOptions& options, int clients);

/// One client's work as the server aggregates it.
struct Contribution {
  int client = 0;
  std::int64_t version = 0;    ///< rho_i: the client trained from theta^version
  std::int64_t staleness = 0;  ///< update index - version: server updates applied while it worked
  double weight = 0;           ///< d_i
  double sent_time = 0;        ///< virtual time the client received theta^version
  double return_time = 0;      ///< virtual time it returned (sent_time + tau_i)
};

/// Server update `index` at virtual `time`: Delta = sum_i d_i (local_i - theta^{rho_i}), summed in the order of
/// `contributions` (by return time, then client id), and theta^{index+1} = theta^index + lr_g Delta with the
/// default server optimizer (sgd; others in server_optimizer.hpp). FedFix windows may be empty (no step).
struct ServerUpdate {
  std::int64_t index = 0;
  double time = 0;
  std::vector<Contribution> contributions;
  /// With participation (FederatedOptions::clients_per_round, dropout, deadline): the clients selected for this
  /// round (ascending) and those of them that did not return (failed or late). Empty otherwise.
  std::vector<int> selected, dropped;
  /// With participation: how many clients were online when the round started (all n without a trace).
  int online = 0;
};

/// True if `options` asks for client participation (a sample per round, a selection rule, dropout, a deadline or
/// an availability trace).
bool uses_participation(const FederatedOptions& options) noexcept;

/// The clients selected for fedavg round `round` without an availability trace (ascending): a uniform sample of
/// m = clients_per_round of the n clients drawn from derive_seed(seed, {"SLCT", round}); all n when
/// clients_per_round is 0. With a trace the clock samples among the online clients (FederatedClock::sample_round).
std::vector<int> selected_clients(const FederatedOptions& options, int clients, std::int64_t round);

/// The virtual clock's complete state between updates, for checkpoints.
struct ClockState {
  std::int64_t index = 0;              ///< updates produced so far
  std::vector<std::int64_t> version;   ///< per client: the model version it is working from
  std::vector<double> sent, returns;   ///< per client: when it received that model, when it returns
  double round_end = 0;                ///< participation: when the last round ended
};

/// The virtual clock: which clients each server update aggregates and with which weights. It depends on the
/// rule, the durations, c and dt only (never on data or ranks), so every rank replays the same schedule.
class FederatedClock {
public:
  /// Throws std::invalid_argument (check_federated_options) for unusable options; options.durations.size()
  /// is the number of clients.
  explicit FederatedClock(const FederatedOptions& options);
  /// The next server update. All clients receive theta^0 at time 0; the clients of an update receive its
  /// result at its time. std::logic_error if the options select clients by their losses (use next(selected)).
  ServerUpdate next();
  /// The next fedavg round with participation, training the clients `selected` (ascending, distinct, at least
  /// one): a selection rule chose them. std::invalid_argument for another rule or an invalid list.
  ServerUpdate next(std::span<const int> selected);
  /// Number of clients.
  int clients() const noexcept { return static_cast<int>(tau_.size()); }
  /// With participation: when the next round starts, the first time at or after the last round's end at which
  /// a client is online. decent::input_error if the availability trace has no client online again.
  double round_start() const;
  /// With participation: the clients online when the next round starts (ascending; all without a trace).
  std::vector<int> online() const;
  /// With participation: the next round's uniform sample, min(m, online) of the online clients drawn with the
  /// stream of selected_clients (the same clients when everyone is online).
  std::vector<int> sample_round() const;
  /// The state after the updates produced so far (checkpoints).
  ClockState state() const;
  /// Continues from `state` (of a clock with the same options); std::invalid_argument if its sizes differ.
  void restore(const ClockState& state);

private:
  ServerUpdate participation_round(std::vector<int> selected);

  AggregationRule rule_;
  std::vector<double> tau_;
  int buffer_;
  double dt_;
  std::int64_t index_ = 0;
  std::vector<std::int64_t> version_;   // model version each client is working from
  std::vector<double> sent_, returns_;  // when it received it, when it returns
  std::vector<std::int64_t> windows_;   // fedfix: windows a job spans, ceil(tau_i / dt)
  double async_scale_ = 0;              // async-fedavg: sum_j 1/tau_j
  FederatedOptions options_;            // participation: the sample, dropout and deadline
  double round_end_ = 0;                // participation: when the last round ended
};

/// The number of server updates at virtual times <= `time` (drives a run by a virtual-time budget).
/// Throws std::invalid_argument if time is not finite and >= 0, if more than 10^8 updates would fit, or if a
/// selection rule reads losses (then a round's length depends on the clients the data selects).
std::int64_t federated_updates_within(const FederatedOptions& options, double time);

/// Logical bytes a run of options.steps updates moves between server and clients: every job's model
/// download and every contribution's upload, parameter_count floats each; with a loss-reading selection also
/// a download to every client scored but not selected and one float per loss a client reports. An upper bound
/// (every selected client returns) when federated_bytes_exact is false.
std::uint64_t federated_bytes(const FederatedOptions& options, Eigen::Index parameter_count);
/// False if a loss-reading selection meets dropout or a deadline: who returns then depends on the data.
bool federated_bytes_exact(const FederatedOptions& options) noexcept;

/// The server's initial model theta^0: model.initialize with the stream derive_seed(seed, {"INIT"}).
Eigen::VectorXf federated_initial_parameters(const Model& model, std::uint64_t seed);
/// Client i's Sampler seed, derive_seed(seed, {"SMPL", i}) (the stream train() gives node i).
std::uint64_t federated_sampler_seed(std::uint64_t seed, int client);

/// The seed of client i's curriculum in its job from theta^version (with FederatedOptions::curriculum):
/// derive_seed(seed, {"CURR", i, version}), given to local_curriculum_sampler.
std::uint64_t federated_curriculum_seed(std::uint64_t seed, int client, std::int64_t version);

/// What a federated run achieved, besides the TrainResult fields (merged_* describe the server model,
/// local_accuracy the clients' last returned models, merged_params the final theta).
struct FederatedResult {
  TrainResult train;
  double virtual_time = 0;          ///< of the last server update
  std::int64_t updates = 0, contributions = 0;
  double mean_staleness = 0;
  std::int64_t max_staleness = 0;
};

/// Trains with a server holding theta and one client per node (hosted by the node's rank, sampling its
/// shard with its own stream). Every rank replays the clock; a client's job runs on its rank from the model
/// it received; the contributions of an update are all-gathered and summed on every rank in the clock's order
/// in double, so theta and every recorded number are bitwise independent of the rank count.
/// Collective over `comm`. Throws divergence_error for a NaN/inf loss (detected at the next eval). With a stop
/// request it writes a checkpoint and returns with train.stopped; a resumed run continues bitwise as the
/// uninterrupted one (checkpoint_error if the checkpoint does not fit).
FederatedResult train_federated(const Comm& comm, const Placement& placement, const FederatedOptions& options,
                                const Model& model, const Dataset& train_data,
                                const std::vector<std::vector<Eigen::Index>>& local_shards, const Dataset& test_data,
                                const Sgd& sgd, const LrSchedule& lr, Recorder* recorder,
                                const std::function<void(const TrainProgress&)>& progress = {});

}  // namespace decent
