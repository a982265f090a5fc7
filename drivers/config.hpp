#pragma once
// decent-train's configuration: one typed struct, read from the command line and an INI file with the
// same key names (the command line wins), validated once with messages that name the key.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "decent/core/error.hpp"
#include "decent/optim/server_optimizer.hpp"

namespace decent::driver {

/// A bad configuration: what() names the key and what is allowed. Drivers exit with code 2.
class config_error : public input_error {
public:
  using input_error::input_error;
};

struct TrainConfig {
  // run
  int nodes = 16;
  std::int64_t steps = 600;
  std::uint64_t seed = 1;
  std::string out = "decent-run.h5";
  std::int64_t checkpoint_every = 0;  // checkpoints to OUT.ckpt every K steps (0: only on a signal)
  std::string resume;                 // a checkpoint file, "auto" (OUT.ckpt if present) or empty
  double write_budget = 30;           // Recorder::set_write_budget (0: the file is written at every eval)
  int eval_every = 100;
  int eval_samples = 2000;
  std::string progress = "auto";  // auto | bar | log | off
  // landscape probes
  std::int64_t landscape_every = 0;  // -1 never, 0 at the last step, K every K steps and the last
  std::string probe_nodes = "8";     // a count (spread evenly) or a comma list of node ids
  int interp_points = 11;
  int landscape_grid = 11;
  double landscape_extent = 1.25;
  int probe_samples = 200;
  std::string plane = "pca";         // pca | nodes:i,j,k
  // data
  std::string dataset = "auto";   // auto | fashion-mnist | libsvm | synthetic
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string train_file, test_file;
  std::string partition = "dirichlet";  // iid | dirichlet | dirichlet-split | shards
  double alpha = 0.1;
  std::int64_t per_node = 0;      // dirichlet: samples per node (0 = train size / nodes)
  std::int64_t split_min_size = 10;  // dirichlet-split: redraw until every node has this many samples
  std::string group_file, sensitive;  // the sensitive attribute Z: a 0/1 file, or classes:LIST
  double sensitive_correlation = 0.95;  // classes rule and synthetic-fair: P(Z = 1 | Y = 1)
  int positive_class = 1;             // fairness: Yhat = 1[prediction == this class]; fair-* splits: Y likewise
  int shards_per_node = 2;
  std::int64_t expert_epochs = 10;  // the expert (partition = difficulty:*, curriculum-score = expert): epochs,
  int expert_batch = 10;            // batch and constant lr of its central SGD (docs/curricula.md#the-expert)
  double expert_lr = 0.01;
  std::string sampling = "shuffled";  // shuffled | with-replacement
  int synthetic_classes = 10, synthetic_dim = 32;
  std::int64_t synthetic_samples = 20000;
  double synthetic_separation = 3.0;
  double synthetic_heterogeneity = 0;  // model = linear: > 0 gives node i its own teacher (docs/compression.md)
  // model
  std::string model = "mlp";      // softmax | linear | mlp | layers | lenet5 | cnn-small | resnet8-gn
  std::string layers;             // model = layers: the layer spec (docs/models.md)
  std::string input_shape;        // CxHxW or N; empty: the data set's
  std::vector<int> hidden{128};
  bool hidden_given = false;  // hidden was set explicitly (it applies to mlp only)
  double label_smoothing = 0;
  // algorithm and communication
  std::string algorithm = "dsgd";  // dsgd | dpsgd | server | local-sgd | choco
  std::string topology = "ring";
  std::string weights;             // empty = the topology's default
  std::int64_t gossip_every = 1;
  int rounds = 1;
  double r = 1.0, r_end = -1;      // r_end < 0: same as r
  bool r_given = false;            // r was set explicitly
  std::string budget_profile;      // empty | fixed | linear | cosine | slow-decrease | slow-grow | late-switch | dense-window
  std::string budget_target = "budget";  // budget | rounds
  double budget_point = 0.5, budget_window = 0.05;
  bool budget_paper_last_round = false;
  bool final_merge = true;
  std::int64_t merge_every = 0;
  int post_merge_rounds = 0;
  // compression (docs/compression.md)
  std::string compressor = "none";       // a make_compressor spec
  std::string error_feedback = "none";   // none | ef | ef21 | ef21-sgdm | econtrol (algorithm = server)
  double econtrol_eta = 0.01;
  double ef21_sgdm_eta = 0.1;
  double choco_gamma = 0.5;
  std::int64_t compress_warmup = 0;
  // shared-seed zeroth order (algorithm = zo-shared-seed, docs/zeroth-order.md)
  double zo_eps = 1e-3;              // perturbation scale
  std::string zo_scalar = "float";   // float | byte
  std::int64_t zo_verify_every = 10; // drift guard period in steps (0 = after the last step only)
  // asynchronous aggregation (algorithm = fedavg | async-fedavg | fedbuff | fedfix, docs/federated.md)
  std::int64_t local_steps = 1;      // SGD steps per client job
  double server_lr = 1;              // lr_g
  std::string server_optimizer = "sgd";        // sgd | momentum | adam | adamw (FedOpt)
  std::string server_lr_schedule = "constant"; // constant | linear (decay to 0)
  double server_momentum = 0.9, server_dampening = 0;
  std::vector<double> server_betas{0.9, 0.999};
  double server_eps = 1e-8, server_weight_decay = 0;
  std::vector<double> client_times;  // job duration per client (empty: from speed-spread)
  double speed_spread = 0;           // P of the F-P scenario: tau_i = 1 - i (P/100)/(n-1)
  int buffer_size = 0;               // fedbuff: c (0 = not given: max(1, nodes / 2))
  double fedfix_dt = 0.5;            // fedfix: window length
  int clients_per_round = 0;         // fedavg: m clients sampled per round (0 = all)
  double dropout = 0;                // fedavg: probability that a selected client fails to return
  double deadline = 0;               // fedavg: clients slower than this do not return in time (0 = none)
  std::string availability;          // fedavg: a trace of each client's on-intervals (docs/federated.md#availability)
  std::string client_selection = "uniform";  // fedavg: uniform | power-of-choice:D | high-loss:T | curriculum
  std::string client_curriculum = "curr";    // client-selection = curriculum: curr | anti | rand
  std::string client_pacing = "linear";
  double client_pacing_a = 0.8, client_pacing_b = 0.2;
  double virtual_time = 0;           // > 0: run the server updates up to this virtual time (instead of steps)
  bool eval_clients = true;          // federated: evaluate every client's last model at each eval too
  std::string curriculum = "none";        // federated: none (off) | curr | anti | rand (docs/curricula.md)
  std::string curriculum_score = "global";  // global | local | both | expert: the scoring model
  std::string curriculum_metric = "loss";   // loss | error
  std::string pacing = "linear";          // linear | quad | sqrt | step | exp | log
  double pacing_a = 0.8, pacing_b = 0.2;  // the pool is full after a fraction a of a job; it starts at b
  std::int64_t curriculum_window = 0;     // decentralized: steps per curriculum window; 0: one epoch of a shard
  // optimizer
  double lr = 0.05;
  std::string lr_schedule = "constant";  // constant | step | cosine | constant-then-zero
  std::int64_t warmup_steps = 0;
  double warmup_start_factor = 0;
  std::vector<std::int64_t> lr_milestones;
  double lr_gamma = 0.1, lr_min = 0;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0;
  double clip_value = 0, clip_norm = 0;
  int batch = 32;
  bool flush_denormals = true;  // FTZ/DAZ while training (docs/performance.md)

  std::string config_file;  // where values came from, if a file was used
  std::string ini;          // every key = value, as an INI text (recorded in the HDF5 file)
};

/// The server-* keys as the library's server optimizer options (input_error for an unknown name).
ServerOptimizerOptions server_optimizer_options(const TrainConfig& c);

/// True if the run trains the curricula paper's expert first (partition = difficulty:*, or a curr or anti
/// curriculum scored by curriculum-score = expert).
bool needs_expert(const TrainConfig& c);

/// Parses argv (and --config FILE). Returns nothing when --help was printed (to `help_out` if non-null).
/// Throws config_error for unknown keys, malformed values and values outside their allowed range.
std::optional<TrainConfig> parse_train_config(int argc, const char* const* argv, std::string* help_out);

}  // namespace decent::driver
