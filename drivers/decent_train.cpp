// decent-train: decentralized training of n nodes on the MPI ranks, recorded to one HDF5 file.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <map>
#include <cmath>
#include <iomanip>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <new>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <thread>

#include "config.hpp"
#include "failure.hpp"
#include "decent/algo/expert.hpp"
#include "decent/algo/federated.hpp"
#include "decent/algo/local_curriculum.hpp"
#include "decent/algo/node_curriculum.hpp"
#include "decent/algo/train.hpp"
#include "decent/algo/zo.hpp"
#include "decent/compress/compressor.hpp"
#include "decent/core/version.hpp"
#include "decent/data/problem.hpp"
#include "decent/io/checkpoint.hpp"
#include "decent/io/recorder.hpp"
#include "decent/model/factory.hpp"
#include "decent/model/gemm.hpp"
#include "decent/model/spec.hpp"
#include "decent/mpi/environment.hpp"
#include "decent/topology/file.hpp"
#include "decent/topology/spectral.hpp"
#include "decent/probe/landscape.hpp"

using namespace decent;
using driver::TrainConfig;

namespace {

// Bad configuration or input exits with driver::exit_bad_input (2), see failure.hpp.
constexpr int exit_diverged = 3;   // the run diverged (NaN/inf loss); the file says finished = 0
constexpr int exit_stopped = 5;   // stopped on SIGTERM/SIGUSR1/SIGINT after writing a checkpoint (resume it)
constexpr int exit_drift = 4;      // zo-shared-seed: the ranks' copies of the model differ (a bug; finished = 0)

/// The data keys as the library's options.
DataOptions data_options(const TrainConfig& c) {
  DataOptions o;
  o.dataset = c.dataset;
  o.data_dir = c.data_dir;
  o.train_file = c.train_file;
  o.test_file = c.test_file;
  o.regression = c.model == "linear";
  o.synthetic_classes = c.synthetic_classes;
  o.synthetic_dim = c.synthetic_dim;
  o.synthetic_samples = c.synthetic_samples;
  o.synthetic_separation = c.synthetic_separation;
  o.synthetic_heterogeneity = c.synthetic_heterogeneity;
  o.nodes = c.nodes;
  o.eval_samples = c.eval_samples;
  o.seed = c.seed;
  o.sensitive.group_file = c.group_file;
  o.sensitive.sensitive = c.sensitive;
  o.sensitive.correlation = c.sensitive_correlation;
  o.sensitive.seed = c.seed;
  return o;
}

/// The partition keys as the library's options.
PartitionOptions partition_options(const TrainConfig& c) {
  PartitionOptions o;
  o.partition = c.partition;
  o.alpha = c.alpha;
  o.per_node = c.per_node;
  o.split_min_size = c.split_min_size;
  o.shards_per_node = c.shards_per_node;
  o.positive = c.positive_class;
  o.nodes = c.nodes;
  o.seed = c.seed;
  return o;
}

ScheduleOptions schedule_options(const TrainConfig& c, Algorithm algorithm) {
  ScheduleOptions s;
  s.steps = c.steps;
  s.gossip_every = c.gossip_every;
  s.rounds = c.rounds;
  s.profile = c.budget_profile;
  s.profile_target = c.budget_target;
  s.r_start = c.r;
  s.r_end = c.r_end;
  s.point = c.budget_point;
  s.window = c.budget_window;
  s.paper_last_round = c.budget_paper_last_round;
  s.final_merge = c.final_merge;
  s.merge_every = c.merge_every;
  s.post_merge_rounds = c.post_merge_rounds;
  if (algorithm == Algorithm::server) {  // gradients are averaged every step; nothing else to schedule
    s.rounds = 0;
    s.profile.clear();
    s.final_merge = false;
    s.merge_every = 0;
    s.post_merge_rounds = 0;
  } else if (algorithm == Algorithm::local_sgd) {  // exact averages every gossip-every steps, no gossip
    s.rounds = 0;
    s.profile.clear();
    s.merge_every = c.gossip_every;
    s.final_merge = true;
  }
  return s;
}

/// A number as %g would print it.
std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string fixed4(double value) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(4) << value;
  return out.str();
}

std::string megabytes(std::uint64_t bytes) {
  std::ostringstream out;
  out.precision(4);
  out << static_cast<double>(bytes) / 1e6 << " MB";
  return out.str();
}

std::string command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) line += (i ? " " : "") + std::string(argv[i]);
  return line;
}

LandscapeOptions landscape_options(const TrainConfig& c) {
  LandscapeOptions o;
  o.interp_points = c.interp_points;
  o.grid = c.landscape_grid;
  o.extent = c.landscape_extent;
  const auto ids = [&](const std::string& key, const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
      std::size_t used = 0;
      int id = -1;
      try {
        id = std::stoi(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != item.size() || id < 0 || id >= c.nodes)
        throw driver::config_error(key + ": '" + item + "' is not a node id in 0.." + std::to_string(c.nodes - 1));
      out.push_back(id);
    }
    return out;
  };
  if (c.probe_nodes.find(',') == std::string::npos) {
    std::size_t used = 0;
    int count = -1;
    try {
      count = std::stoi(c.probe_nodes, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != c.probe_nodes.size() || count < 0)
      throw driver::config_error("probe-nodes: '" + c.probe_nodes + "' is neither a count nor a comma list of node ids");
    o.probe_nodes = spread_nodes(c.nodes, count);
  } else {
    o.probe_nodes = ids("probe-nodes", c.probe_nodes);
    std::sort(o.probe_nodes.begin(), o.probe_nodes.end());
    o.probe_nodes.erase(std::unique(o.probe_nodes.begin(), o.probe_nodes.end()), o.probe_nodes.end());
  }
  if (c.plane != "pca") {
    const std::vector<int> three = ids("plane", c.plane.substr(6));
    if (three.size() != 3) throw driver::config_error("plane: nodes:I,J,K needs exactly three node ids");
    o.plane_through = std::array<int, 3>{three[0], three[1], three[2]};
  }
  return o;
}

/// The probes' fixed test subset: a seeded choice of probe-samples samples of the eval set.
Dataset probe_subset(const TrainConfig& c, const Dataset& test) {
  return seeded_subset(test, c.probe_samples, derive_seed(c.seed, {0x50524F42 /* "PROB" */}), "probe subset");
}

/// Why rank 0 cannot create the output file `out`, or "" if it can (as far as can be told beforehand).
std::string output_problem(const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path(out);
  if (fs::is_directory(path, ec)) return "it is a directory";
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::exists(dir, ec)) return "directory '" + dir.string() + "' does not exist";
  if (!fs::is_directory(dir, ec)) return "'" + dir.string() + "' is not a directory";
  if (::access(dir.c_str(), W_OK) != 0) return "directory '" + dir.string() + "': " + std::strerror(errno);
  if (fs::exists(path, ec) && ::access(path.c_str(), W_OK) != 0) return std::strerror(errno);
  return "";
}

/// Collective: rank 0 (the one that writes) checks the output file before anything is loaded; every rank
/// throws config_error if it cannot be created, so a typo in `out` never costs a data load.
void check_output(const std::string& out, const Comm& world) {
  std::string problem = world.rank() == 0 ? output_problem(out) : "";
  int length = static_cast<int>(problem.size());
  world.broadcast(std::span<int>(&length, 1), 0);
  problem.resize(static_cast<std::size_t>(length));
  world.broadcast(std::span<char>(problem.data(), problem.size()), 0);
  if (!problem.empty()) throw driver::config_error("out: cannot create '" + out + "': " + problem);
}

/// Test-only failure injection (tests/e2e/rank_failure_test.sh): DECENT_TEST_FAIL=RANK:input throws a
/// data_error on rank RANK before the run (a file only that rank cannot read); DECENT_TEST_FAIL=RANK:STEP
/// throws a runtime_error on rank RANK at the first progress report at or after step STEP.
struct InjectedFailure {
  int rank = -1;
  bool input = false;
  std::int64_t step = 0;

  static InjectedFailure from_environment() {
    InjectedFailure f;
    const char* text = std::getenv("DECENT_TEST_FAIL");
    if (text == nullptr) return f;
    const std::string spec(text);
    const auto colon = spec.find(':');
    if (colon == std::string::npos) return f;
    f.rank = std::atoi(spec.substr(0, colon).c_str());
    f.input = spec.substr(colon + 1) == "input";
    f.step = std::atoll(spec.substr(colon + 1).c_str());
    return f;
  }
};

/// The progress display: bar, log or off (auto is bar on a terminal, else log).
std::string progress_mode(const TrainConfig& c) {
  if (c.progress != "auto") return c.progress;
  return ::isatty(STDOUT_FILENO) ? "bar" : "log";
}

/// Steps between progress reports: 200 updates of a bar, 10 log lines, none when off.
std::int64_t progress_every(const std::string& mode, std::int64_t steps) {
  if (mode == "off") return 0;
  return std::max<std::int64_t>(1, steps / (mode == "bar" ? 200 : 10));
}

/// The block placement of c.nodes on the ranks; config_error if there are fewer nodes than ranks.
Placement placement_of(const TrainConfig& c, const Comm& world) {
  if (c.nodes < world.size())
    throw driver::config_error("nodes: " + std::to_string(c.nodes) + " nodes cannot run on " +
                               std::to_string(world.size()) + " ranks (every rank needs a node; use nodes >= ranks)");
  return Placement(c.nodes, world.size());
}

/// What every algorithm trains on: the data, this rank's nodes' shards and the model.
struct Problem {
  LoadedData data;
  std::vector<std::vector<Eigen::Index>> local;  // this rank's nodes' sample indices
  std::unique_ptr<Model> model;
  std::optional<Expert> expert;  // when driver::needs_expert: the curricula paper's expert (docs/curricula.md)
};

/// The expert-* keys as the library's options.
ExpertOptions expert_options(const TrainConfig& c) {
  ExpertOptions o;
  o.epochs = c.expert_epochs;
  o.batch = c.expert_batch;
  o.lr = static_cast<float>(c.expert_lr);
  o.seed = c.seed;
  return o;
}

/// Loads the data, partitions it, checks that model and batch fit it, and makes the model.
Problem load_problem(const TrainConfig& c, const Comm& world, const Placement& placement) {
  Problem p;
  p.data = load_data(data_options(c));
  const LoadedData& data = p.data;
  if (c.model == "linear" && data.train.classification())
    throw driver::config_error("model: linear is a regression model, but the dataset has class labels");
  if (c.model != "linear" && !data.train.classification())
    throw driver::config_error("model: " + c.model + " needs class labels; use model = linear for regression data");
  ModelOptions model;
  model.name = c.model;
  model.layers = c.layers;
  model.input = c.input_shape.empty() ? data.train.shape() : parse_tensor_shape(c.input_shape);
  if (model.input.size() != data.train.dim())
    throw driver::config_error("input-shape: " + model.input.to_string() + " has " + std::to_string(model.input.size()) +
                               " values, but the data has " + std::to_string(data.train.dim()) + " features per sample");
  model.classes = std::max(1, data.train.classes);
  model.hidden = c.model == "mlp" ? c.hidden : std::vector<int>{};
  model.label_smoothing = static_cast<float>(c.label_smoothing);
  try {
    p.model = make_model(model);
  } catch (const spec_error& e) {
    // A preset's problem names the model and its input instead of the layers key.
    if (c.model == "layers") throw;
    throw driver::config_error("model: " + c.model + " on input " + model.input.to_string() + ": " + e.problem());
  }
  PartitionOptions parts = partition_options(c);
  if (driver::needs_expert(c)) {  // every rank trains it alike: a pure function, the same bits everywhere
    p.expert = train_expert(*p.model, data.train, expert_options(c));
    if (c.partition.rfind("difficulty:", 0) == 0) {  // graded by the expert's loss
      std::vector<Eigen::Index> all(static_cast<std::size_t>(data.train.size()));
      for (std::size_t j = 0; j < all.size(); ++j) all[j] = static_cast<Eigen::Index>(j);
      parts.difficulty = curriculum_scores(*p.model, p.expert->params, data.train, all, CurriculumMetric::loss);
    }
  }
  const auto partition = partition_data(data, parts);
  for (int node = 0; node < c.nodes; ++node)
    if (static_cast<Eigen::Index>(partition[static_cast<std::size_t>(node)].size()) < c.batch)
      throw driver::config_error("batch: " + std::to_string(c.batch) + " is larger than node " + std::to_string(node) +
                                 "'s shard of " + std::to_string(partition[static_cast<std::size_t>(node)].size()) +
                                 " samples");
  p.local.assign(partition.begin() + placement.first(world.rank()),
                 partition.begin() + placement.first(world.rank()) + placement.count(world.rank()));
  return p;
}

/// The run header's data line, and the expert's line if the run trained one.
void print_data_lines(const TrainConfig& c, const Problem& p) {
  std::printf("  data      %s: %lld train, %lld eval samples, %s partition\n", p.data.source.c_str(),
              static_cast<long long>(p.data.train.size()), static_cast<long long>(p.data.test.size()),
              c.partition.c_str());
  if (p.expert)
    std::printf("  expert    trained centrally on the %lld training samples, %s\n",
                static_cast<long long>(p.data.train.size()), describe(expert_options(c), *p.expert).c_str());
}

/// The expert's training and result as attributes of /expert, if the run trained one. Collective.
void record_expert(Recorder& recorder, const TrainConfig& c, const Problem& p) {
  if (!p.expert) return;
  recorder.write_group_attribute("expert", "epochs", static_cast<double>(c.expert_epochs));
  recorder.write_group_attribute("expert", "batch", static_cast<double>(c.expert_batch));
  recorder.write_group_attribute("expert", "lr", c.expert_lr);
  recorder.write_group_attribute("expert", "steps", static_cast<double>(p.expert->steps));
  recorder.write_group_attribute("expert", "train_loss", p.expert->train_loss);
  recorder.write_group_attribute("expert", "train_accuracy", p.expert->train_accuracy);
  recorder.write_group_attribute("expert", "seconds", p.expert->seconds);
}

/// The learning-rate schedule of the lr-* keys over `steps` steps.
LrSchedule lr_schedule_of(const TrainConfig& c, std::int64_t steps) {
  LrScheduleOptions lr_options;
  lr_options.warmup_steps = c.warmup_steps;
  lr_options.warmup_start_factor = static_cast<float>(c.warmup_start_factor);
  lr_options.milestones = c.lr_milestones;
  lr_options.gamma = static_cast<float>(c.lr_gamma);
  lr_options.lr_min = static_cast<float>(c.lr_min);
  return make_lr_schedule(c.lr_schedule, static_cast<float>(c.lr), steps, lr_options);
}

/// SGD with the momentum, nesterov, weight-decay and clip-* keys.
Sgd sgd_of(const TrainConfig& c) {
  SgdOptions sgd_options;
  sgd_options.momentum = static_cast<float>(c.momentum);
  sgd_options.nesterov = c.nesterov;
  sgd_options.weight_decay = static_cast<float>(c.weight_decay);
  sgd_options.clip_value = static_cast<float>(c.clip_value);
  sgd_options.clip_norm = static_cast<float>(c.clip_norm);
  return Sgd(sgd_options);
}

/// algorithm = zo-shared-seed (docs/zeroth-order.md): the nodes share one model and exchange one scalar
/// per sample; no topology, schedule or landscape probes.
int run_zo(const TrainConfig& c, const Comm& world, const std::string& command) {
  const bool root = world.rank() == 0;
  const Placement placement = placement_of(c, world);
  check_output(c.out, world);

  const Problem problem = load_problem(c, world, placement);
  const LoadedData& data = problem.data;
  const auto& local = problem.local;
  const auto& model = problem.model;
  const LrSchedule lr = lr_schedule_of(c, c.steps);

  ZoOptions options;
  options.steps = c.steps;
  options.batch = c.batch;
  options.sampling = c.sampling == "shuffled" ? SamplingMode::shuffled_epochs : SamplingMode::with_replacement;
  options.eps = static_cast<float>(c.zo_eps);
  options.scalar = parse_zo_scalar(c.zo_scalar);
  options.verify_every = c.zo_verify_every;
  options.eval_every = c.eval_every;
  options.seed = c.seed;
  options.flush_denormals = c.flush_denormals;
  const std::uint64_t step_bytes = zo_step_bytes(c.nodes, c.batch, options.scalar);
  const std::uint64_t announced = static_cast<std::uint64_t>(c.steps) * step_bytes;
  const long long scalars = static_cast<long long>(c.nodes) * c.batch;

  if (root) {
    std::printf("decent-train %s: zo-shared-seed, %d nodes on %d ranks (one shared model per rank)\n",
                decent::version().c_str(), c.nodes, world.size());
    print_data_lines(c, problem);
    std::printf("  model     %s, %lld parameters; %s\n", model->describe().c_str(),
                static_cast<long long>(model->parameter_count()), lr.describe().c_str());
    std::printf("  zo        %d samples per node per step, each its own perturbation (eps %g); N = %lld scalars per "
                "step sent as %s (%zu B); update lr/sqrt(N) sum g z; hash check every %lld steps and at the end\n",
                c.batch, c.zo_eps, scalars, c.zo_scalar.c_str(), zo_scalar_bytes(options.scalar),
                static_cast<long long>(c.zo_verify_every));
    std::printf("  plan      %lld steps, every node's scalars reach the other %d nodes each step (%llu bytes per step); "
                "will send %s in all\n",
                static_cast<long long>(c.steps), c.nodes - 1, static_cast<unsigned long long>(step_bytes),
                megabytes(announced).c_str());
    std::printf("  output    %s\n", c.out.c_str());
    std::fflush(stdout);
  }

  Recorder recorder(world, placement, c.out, {c.ini, command, c.seed});
  recorder.set_write_budget(c.write_budget);
  record_expert(recorder, c, problem);
  const std::string mode = progress_mode(c);
  options.progress_every = progress_every(mode, c.steps);
  auto report = [&](const TrainProgress& p) {
    if (!root) return;
    const double rate = p.seconds > 0 ? static_cast<double>(p.step) / p.seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(p.steps - p.step) / rate : 0;
    std::printf(mode == "bar" ? "\r  step %lld/%lld  loss %.4f  test acc %.4f  %.1f steps/s  ETA %.0f s   "
                              : "  step %lld/%lld  loss %.4f  test acc %.4f  %.1f steps/s  ETA %.0f s\n",
                static_cast<long long>(p.step), static_cast<long long>(p.steps), p.mean_loss, p.merged_accuracy, rate,
                eta);
    std::fflush(stdout);
  };
  const ZoResult result = train_zo(world, placement, options, *model, data.train, local, data.test, lr, &recorder, report);
  if (root) {
    if (mode == "bar") std::printf("\n");
    std::printf("done in %.1f s: shared model test accuracy %.4f (loss %.4f); every rank's copy verified identical\n",
                result.seconds, result.merged_accuracy, result.merged_loss);
    std::printf("sent %s as %llu scalars", megabytes(result.bytes).c_str(), static_cast<unsigned long long>(result.scalars));
    if (options.scalar == ZoScalar::byte)
      std::printf(" (byte code: %llu saturated at exp(63/16), %llu flushed to 0)",
                  static_cast<unsigned long long>(result.saturated), static_cast<unsigned long long>(result.flushed));
    std::printf(" (announced %s); wrote %s\n", megabytes(announced).c_str(), c.out.c_str());
  }
  if (result.bytes != announced)
    throw std::logic_error("bytes sent (" + std::to_string(result.bytes) + ") differ from the plan (" +
                           std::to_string(announced) + ")");
  return 0;
}

/// Set by the stop signals (SIGTERM, SIGUSR1, SIGINT); train() agrees on a step and checkpoints.
volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int signal) { stop_signal = signal; }

/// The first stop signal asks for a checkpoint; the handler is then reset, so a second one acts as usual.
void watch_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGTERM, SIGUSR1, SIGINT}) sigaction(signal, &action, nullptr);
}

/// The keys of an INI text (key = value lines) with their values.
std::map<std::string, std::string> ini_values(const std::string& ini) {
  std::map<std::string, std::string> values;
  std::istringstream in(ini);
  for (std::string line; std::getline(in, line);)
    if (const auto eq = line.find(" = "); eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 3);
  return values;
}

/// Refuses a checkpoint of another version or configuration, naming the first key that differs. Keys
/// that only say how this run is started and watched may differ.
void check_resume(const CheckpointReader& checkpoint, const TrainConfig& c, const Comm& world) {
  const std::string& file = checkpoint.path();
  if (checkpoint.string_attribute("decent_version") != decent::version())
    throw driver::config_error("resume: checkpoint '" + file + "' was written by decent " +
                               checkpoint.string_attribute("decent_version") + ", this is " + decent::version());
  const auto then = ini_values(checkpoint.string_attribute("config")), now = ini_values(c.ini);
  for (const auto& [key, value] : now) {
    if (key == "resume" || key == "checkpoint-every" || key == "progress" || key == "write-budget") continue;
    const auto it = then.find(key);
    const std::string old = it == then.end() ? "(unset)" : it->second;
    if (old != value)
      throw driver::config_error("resume: checkpoint '" + file + "' was written with " + key + " = " + old +
                                 ", this run has " + key + " = " + value + " (resume with the same configuration)");
  }
  if (world.rank() == 0 && checkpoint.string_attribute("gemm") != gemm_info().description)
    std::printf("note: the checkpoint's matrix products ran on %s, this run's on %s: the results agree with an "
                "uninterrupted run to float rounding, not bitwise\n",
                checkpoint.string_attribute("gemm").c_str(), gemm_info().description.c_str());
  if (world.rank() == 0 && checkpoint.int_attribute("n_ranks") != world.size())
    std::printf("note: the checkpoint was written on %lld ranks, this run has %d: the results agree with an "
                "uninterrupted run to float rounding, not bitwise\n",
                static_cast<long long>(checkpoint.int_attribute("n_ranks")), world.size());
}

/// Where a run starts: the checkpoint it resumes from (`resume = FILE`, or `auto`: OUT.ckpt if it exists),
/// checked against this configuration, or none.
struct ResumePoint {
  /// Finds and checks the checkpoint of the run configured by `c` (collective: every rank opens it).
  ResumePoint(const TrainConfig& c, const Comm& world);
  std::string checkpoint_path;               ///< where this run writes its checkpoints: OUT.ckpt
  std::optional<CheckpointReader> checkpoint;
  bool nothing_to_do = false;                ///< resume = auto, no checkpoint, and OUT says finished = 1
};

ResumePoint::ResumePoint(const TrainConfig& c, const Comm& world) : checkpoint_path(c.out + ".ckpt") {
  std::string file = c.resume;
  if (c.resume == "auto") {
    file = std::filesystem::exists(checkpoint_path) ? checkpoint_path : "";
    if (file.empty() && run_finished(c.out)) {
      if (world.rank() == 0)
        std::printf("decent-train: %s already says finished = 1 and has no checkpoint: nothing to do\n", c.out.c_str());
      nothing_to_do = true;
      return;
    }
  }
  if (!file.empty()) {
    checkpoint.emplace(file, c.nodes);
    check_resume(*checkpoint, c, world);
  }
}

/// The recorder of a run into `recorder`: a new file, or the run's file reopened at the checkpoint's position.
void open_recorder(std::optional<Recorder>& recorder, const ResumePoint& point, const TrainConfig& c,
                   const Comm& world, const Placement& placement, const std::string& command) {
  if (!point.checkpoint) {
    recorder.emplace(world, placement, c.out, RunInfo{c.ini, command, c.seed});
    return;
  }
  const CheckpointReader& r = *point.checkpoint;
  recorder.emplace(world, placement, c.out,
                   RecorderPosition{r.int_attribute("recorder_steps"), r.int_attribute("recorder_evals"),
                                    r.int_attribute("recorder_landscapes")});
}

/// Test-only (tests/e2e/conformance_test.sh): DECENT_TEST_STOP_AFTER=K raises the stop flag on every rank at
/// the first progress report at or after step K, as a signal would: a deterministic stop and checkpoint. 0: off.
long long test_stop_after() {
  const char* text = std::getenv("DECENT_TEST_STOP_AFTER");
  return text ? std::atoll(text) : 0;
}

/// What a run stopped by a signal prints: where its checkpoint is and how to continue.
void report_stopped(const ResumePoint& point, const TrainConfig& c, const std::string& mode, std::int64_t done,
                    std::int64_t planned, const char* unit) {
  std::printf("%sstopped by signal %d after %s %lld of %lld: checkpoint %s written, %s says finished = 0; continue "
              "with the same options and --resume %s\n",
              mode == "bar" ? "\n" : "", static_cast<int>(stop_signal), unit, static_cast<long long>(done),
              static_cast<long long>(planned), point.checkpoint_path.c_str(), c.out.c_str(),
              point.checkpoint_path.c_str());
}

/// algorithm = fedavg | async-fedavg | fedbuff | fedfix (docs/federated.md): a server and one client per node
/// on a virtual clock; no topology, schedule or landscape probes.
int run_federated(const TrainConfig& c, const Comm& world, const std::string& command) {
  const bool root = world.rank() == 0;
  const Placement placement = placement_of(c, world);
  FederatedOptions options;
  options.rule = parse_aggregation_rule(c.algorithm);
  options.durations = c.client_times.empty() ? spread_durations(c.nodes, c.speed_spread) : c.client_times;
  options.local_steps = c.local_steps;
  options.server_lr = c.server_lr;
  options.server_optimizer = driver::server_optimizer_options(c);
  options.clients_per_round = c.clients_per_round;
  options.dropout = c.dropout;
  options.deadline = c.deadline;
  if (!c.availability.empty()) options.availability = read_availability(c.availability, c.nodes);
  options.selection = parse_client_selection(c.client_selection);
  options.selection.order = parse_curriculum_order(c.client_curriculum);
  options.selection.pacing = parse_pacing(c.client_pacing);
  options.selection.a = c.client_pacing_a;
  options.selection.b = c.client_pacing_b;
  options.curriculum = make_local_curriculum(c.curriculum, c.curriculum_score, c.curriculum_metric, c.pacing,
                                             c.pacing_a, c.pacing_b);
  options.buffer_size = c.buffer_size > 0 ? c.buffer_size : std::max(1, c.nodes / 2);
  options.fedfix_dt = c.fedfix_dt;
  options.seed = c.seed;  // before the clock is replayed: the participants are drawn from it
  options.steps = c.steps;
  if (c.virtual_time > 0) {
    options.steps = federated_updates_within(options, c.virtual_time);
    if (options.steps < 1)
      throw driver::config_error("virtual-time: " + std::to_string(c.virtual_time) +
                                 " ends before the first server update");
  }
  check_federated_options(options, c.nodes);
  check_output(c.out, world);
  const ResumePoint point(c, world);
  if (point.nothing_to_do) return 0;
  watch_stop_signals();

  const Problem problem = load_problem(c, world, placement);
  const LoadedData& data = problem.data;
  const auto& local = problem.local;
  const auto& model = problem.model;
  const Sgd sgd = sgd_of(c);
  const LrSchedule lr = lr_schedule_of(c, options.steps);
  if (!data.train.groups.empty()) options.fairness_positive = c.positive_class;
  if (options.curriculum.scorer == CurriculumScorer::expert && problem.expert) options.expert = problem.expert->params;
  options.batch = c.batch;
  options.sampling = c.sampling == "shuffled" ? SamplingMode::shuffled_epochs : SamplingMode::with_replacement;
  options.eval_every = c.eval_every;
  options.evaluate_clients = c.eval_clients;
  options.flush_denormals = c.flush_denormals;
  const std::uint64_t announced = federated_bytes(options, model->parameter_count());

  if (root) {
    const auto [fastest, slowest] = std::minmax_element(options.durations.begin(), options.durations.end());
    std::printf("decent-train %s: %s, a server and %d clients on %d ranks (the server replicated on every rank)\n",
                decent::version().c_str(), c.algorithm.c_str(), c.nodes, world.size());
    print_data_lines(c, problem);
    std::printf("  model     %s, %lld parameters; batch %d, %s\n", model->describe().c_str(),
                static_cast<long long>(model->parameter_count()), c.batch, lr.describe().c_str());
    std::printf("  clients   a job is %lld SGD steps from the received model; durations %.4g (fastest) to %.4g "
                "(slowest) virtual time units",
                static_cast<long long>(c.local_steps), *fastest, *slowest);
    if (c.client_times.empty()) std::printf(", speed spread %g%%", c.speed_spread);
    std::printf("\n");
    std::string rule;
    switch (options.rule) {
      case AggregationRule::fedavg: rule = "synchronous FedAvg: every client, d_i = 1/n"; break;
      case AggregationRule::async_fedavg: rule = "async FedAvg: each return alone, d_i = (sum_j 1/tau_j) tau_i / n"; break;
      case AggregationRule::fedbuff:
        rule = "FedBuff: the first " + std::to_string(options.buffer_size) + " returns, d_i = 1/" +
               std::to_string(options.buffer_size);
        break;
      case AggregationRule::fedfix:
        rule = "FedFix: every " + std::to_string(c.fedfix_dt) + " time units, d_i = ceil(tau_i/dt) / n";
        break;
    }
    std::printf("  server    %s; server optimizer %s, lr %g (%s)\n", rule.c_str(), c.server_optimizer.c_str(),
                c.server_lr, c.server_lr_schedule.c_str());
    if (uses_participation(options))
      std::printf("  rounds    %d of %d clients per round (%s), dropout %g, deadline %s\n",
                  c.clients_per_round > 0 ? c.clients_per_round : c.nodes, c.nodes,
                  describe(options.selection).c_str(), c.dropout,
                  c.deadline > 0 ? number_text(c.deadline).c_str() : "none");
    if (!options.availability.always()) std::printf("  online    %s\n", describe(options.availability).c_str());
    if (options.fairness_positive >= 0)
      std::printf("  fairness  every eval: the PID of (Z, Yhat = 1[class %d], client) over the clients' training "
                  "shards (/fairness)\n",
                  options.fairness_positive);
    if (options.curriculum.enabled) std::printf("  curriculum %s\n", describe(options.curriculum).c_str());
    if (selection_reads_losses(options.selection)) {  // the rounds' lengths depend on whom the losses select
      std::printf("  plan      %lld server updates; will send %s%s\n", static_cast<long long>(options.steps),
                  federated_bytes_exact(options) ? "" : "at most ", megabytes(announced).c_str());
    } else {
      FederatedClock clock(options);
      double end = 0;
      for (std::int64_t u = 0; u < options.steps; ++u) end = clock.next().time;
      std::printf("  plan      %lld server updates up to virtual time %.4g; will send %s in all\n",
                  static_cast<long long>(options.steps), end, megabytes(announced).c_str());
    }
    std::printf("  output    %s\n", c.out.c_str());
    std::fflush(stdout);
  }

  std::optional<Recorder> recorder;
  open_recorder(recorder, point, c, world, placement, command);
  record_expert(*recorder, c, problem);
  recorder->set_write_budget(c.write_budget);
  options.checkpoint_every = c.checkpoint_every;
  options.checkpoint_path = point.checkpoint_path;
  options.checkpoint_config = c.ini;
  options.stop_flag = &stop_signal;
  options.resume = point.checkpoint ? &*point.checkpoint : nullptr;
  const std::string mode = progress_mode(c);
  options.progress_every = progress_every(mode, options.steps);
  const long long stop_after = test_stop_after();
  auto report = [&](const TrainProgress& p) {
    if (stop_after > 0 && p.step >= stop_after && !point.checkpoint) stop_signal = SIGTERM;
    if (!root) return;
    const double rate = p.seconds > 0 ? static_cast<double>(p.step) / p.seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(p.steps - p.step) / rate : 0;
    std::printf(mode == "bar" ? "\r  update %lld/%lld  loss %.4f  server acc %.4f  client acc %.4f  %.1f updates/s  ETA %.0f s   "
                              : "  update %lld/%lld  loss %.4f  server acc %.4f  client acc %.4f  %.1f updates/s  ETA %.0f s\n",
                static_cast<long long>(p.step), static_cast<long long>(p.steps), p.mean_loss, p.merged_accuracy,
                p.local_accuracy, rate, eta);
    std::fflush(stdout);
  };
  if (root && point.checkpoint)
    std::printf("  resume    from %s at server update %lld\n", point.checkpoint->path().c_str(),
                static_cast<long long>(point.checkpoint->int_attribute("step")));
  const FederatedResult result = train_federated(world, placement, options, *model, data.train, local, data.test, sgd,
                                                 lr, &*recorder, report);
  if (result.train.stopped) {
    if (root) report_stopped(point, c, mode, result.updates, options.steps, "server update");
    return exit_stopped;
  }
  if (root) {
    std::error_code ec;  // the run is complete: its checkpoint is stale
    std::filesystem::remove(point.checkpoint_path, ec);
    if (mode == "bar") std::printf("\n");
    // With eval-clients = false the clients' models are not evaluated (local_accuracy is NaN): say so.
    const std::string clients_line =
        std::isnan(result.train.local_accuracy) ? std::string("clients' models not evaluated (eval-clients false)")
                                                : "clients' last models " + fixed4(result.train.local_accuracy);
    std::printf("done in %.1f s: server model test accuracy %.4f (loss %.4f) at virtual time %.4g; %s\n",
                result.train.seconds, result.train.merged_accuracy, result.train.merged_loss, result.virtual_time,
                clients_line.c_str());
    std::printf("%lld contributions in %lld server updates, staleness mean %.3g, max %lld; sent %s (announced %s); "
                "wrote %s\n",
                static_cast<long long>(result.contributions), static_cast<long long>(result.updates),
                result.mean_staleness, static_cast<long long>(result.max_staleness),
                megabytes(result.train.bytes).c_str(), megabytes(announced).c_str(), c.out.c_str());
  }
  const bool exact = federated_bytes_exact(options);
  if (exact ? result.train.bytes != announced : result.train.bytes > announced)
    throw std::logic_error("bytes sent (" + std::to_string(result.train.bytes) + ") " +
                           (exact ? "differ from" : "exceed") + " the plan (" + std::to_string(announced) + ")");
  return 0;
}

int run(const TrainConfig& c, const Comm& world, const std::string& command) {
  if (c.algorithm == "zo-shared-seed") return run_zo(c, world, command);
  if (is_aggregation_rule(c.algorithm)) return run_federated(c, world, command);
  const bool root = world.rank() == 0;
  const Algorithm algorithm = parse_algorithm(c.algorithm);
  const Placement placement = placement_of(c, world);
  // Checked before the data loads (and an expert trains), as train() would refuse them.
  const LocalCurriculum curriculum = make_local_curriculum(c.curriculum, c.curriculum_score, c.curriculum_metric,
                                                           c.pacing, c.pacing_a, c.pacing_b);
  check_node_curriculum(curriculum, c.curriculum_window);
  check_output(c.out, world);
  const ResumePoint point(c, world);
  if (point.nothing_to_do) return 0;
  const std::string& checkpoint_path = point.checkpoint_path;
  const std::optional<CheckpointReader>& checkpoint = point.checkpoint;
  watch_stop_signals();

  const Problem problem = load_problem(c, world, placement);
  const LoadedData& data = problem.data;
  const auto& local = problem.local;
  const auto& model = problem.model;
  TopologyOptions topology_options;
  topology_options.seed = c.seed;
  if (!c.weights.empty()) topology_options.weights = parse_weight_scheme(c.weights);
  const auto topology = make_topology(c.topology, c.nodes, topology_options);
  const Schedule schedule(schedule_options(c, algorithm));
  // Checked here too (train() would refuse it) so that bad configuration never leaves an output file.
  if (schedule.profile() && c.budget_target == "budget" && !dynamic_cast<const RandomTopology*>(topology.get()))
    throw driver::config_error("budget-profile: with budget-target = budget the profile sets r of the random topology, "
                               "but topology = " + c.topology + " (use topology = random, or budget-target = rounds)");
  const SchedulePlan plan = schedule.plan();
  const Sgd sgd = sgd_of(c);
  const LrSchedule lr = lr_schedule_of(c, c.steps);
  const auto dim = static_cast<std::size_t>(model->parameter_count());

  TrainOptions options;
  options.algorithm = algorithm;
  options.compressor = c.compressor;
  options.feedback.rule = parse_error_feedback(c.error_feedback);
  options.feedback.econtrol_eta = static_cast<float>(c.econtrol_eta);
  options.feedback.sgdm_eta = static_cast<float>(c.ef21_sgdm_eta);
  options.choco_gamma = static_cast<float>(c.choco_gamma);
  options.compress_warmup = c.compress_warmup;
  options.curriculum = curriculum;
  options.curriculum_window = c.curriculum_window;
  if (curriculum.scorer == CurriculumScorer::expert && problem.expert) options.expert = problem.expert->params;
  const std::uint64_t announced = planned_bytes(options, schedule, *topology, *model);

  if (root) {
    std::printf("decent-train %s: %s, %d nodes on %d ranks\n", decent::version().c_str(), to_string(algorithm).c_str(),
                c.nodes, world.size());
    print_data_lines(c, problem);
    std::printf("  model     %s, %zu parameters; batch %d, %s\n", model->describe().c_str(), dim, c.batch,
                lr.describe().c_str());
    std::printf("  products  %s\n", gemm_info().description.c_str());
    std::printf("  cpu       %s\n", gemm_info().cpu.c_str());
    // A random graph's single round says little (its ||W - J|| can exceed 1): report its measured rate.
    if (algorithm != Algorithm::server && topology->period() >= 1)
      std::printf("  topology  %s (%s weights), spectral gap %.4g\n", topology->name().c_str(),
                  topology->weights().c_str(), spectral_gap(topology->period_product()));
    else if (algorithm != Algorithm::server)
      std::printf("  topology  %s (%s weights), consensus rate %.4g per round (measured)\n", topology->name().c_str(),
                  topology->weights().c_str(), consensus_rate(*topology));
    std::printf("  %s\n", algorithm == Algorithm::server ? (compressed_server(options)
                                                                 ? "schedule: compressed gradients all-gathered every step"
                                                                 : "schedule: gradients all-reduced every step")
                                                          : schedule.describe().c_str());
    if (compressed_server(options) || algorithm == Algorithm::choco) {
      const auto compressor = make_compressor(c.compressor, model->matrix_blocks());
      const auto d = static_cast<Eigen::Index>(dim);
      std::printf("  compress  %s: %zu bytes per message (dense %zu), delta %.3g; %s%s\n", compressor->name().c_str(),
                  compressor->message_bytes(d), dim * sizeof(float), compressor->delta(d),
                  algorithm == Algorithm::choco ? ("CHOCO gamma " + std::to_string(c.choco_gamma)).c_str()
                                                : ("error feedback " + c.error_feedback).c_str(),
                  c.compress_warmup > 0 ? (", first " + std::to_string(c.compress_warmup) + " steps exact").c_str() : "");
    }
    if (curriculum.enabled) std::printf("  curriculum %s\n", describe_node_curriculum(curriculum, c.curriculum_window).c_str());
    std::printf("  plan      %lld steps, %lld gossip rounds, %lld merges; will send %s in all\n",
                static_cast<long long>(c.steps), static_cast<long long>(plan.total_gossip_rounds()),
                static_cast<long long>(plan.merges), megabytes(announced).c_str());
    std::printf("  output    %s\n", c.out.c_str());
    std::fflush(stdout);
  }

  std::optional<Recorder> recorder;
  open_recorder(recorder, point, c, world, placement, command);
  record_expert(*recorder, c, problem);
  if (!checkpoint) {
    recorder->write_topology(*topology);
    std::vector<std::int32_t> rounds(plan.comm_rounds.begin(), plan.comm_rounds.end());
    recorder->write_schedule(plan.comm_steps, rounds, plan.merge_steps, schedule.describe());
  }
  recorder->set_write_budget(c.write_budget);
  options.checkpoint_every = c.checkpoint_every;
  options.checkpoint_path = checkpoint_path;
  options.checkpoint_config = c.ini;
  options.stop_flag = &stop_signal;
  options.resume = checkpoint ? &*checkpoint : nullptr;

  options.landscape_every = c.landscape_every;
  options.landscape = landscape_options(c);
  const Dataset probe_data = probe_subset(c, data.test);
  options.probe_data = &probe_data;
  options.batch = c.batch;
  options.sampling = c.sampling == "shuffled" ? SamplingMode::shuffled_epochs : SamplingMode::with_replacement;
  options.eval_every = c.eval_every;
  options.seed = c.seed;
  options.flush_denormals = c.flush_denormals;
  const std::string mode = progress_mode(c);
  options.progress_every = progress_every(mode, c.steps);
  const InjectedFailure injected = InjectedFailure::from_environment();
  // Test-only (tests/e2e/resume_test.sh): DECENT_TEST_STEP_SLEEP_US=U sleeps U microseconds per step, at
  // each progress report, so a run lasts long enough to be signalled however fast the machine is.
  const char* sleep_text = std::getenv("DECENT_TEST_STEP_SLEEP_US");
  const long sleep_us = sleep_text ? std::max(0L, std::atol(sleep_text)) : 0;
  const long long stop_after = test_stop_after();
  auto report = [&](const TrainProgress& p) {
    if (stop_after > 0 && p.step >= stop_after && !checkpoint) stop_signal = SIGTERM;
    if (!injected.input && injected.rank == world.rank() && p.step >= injected.step)
      throw std::runtime_error("injected failure at step " + std::to_string(p.step) + " (DECENT_TEST_FAIL)");
    if (sleep_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us * options.progress_every));
    if (!root) return;
    const double rate = p.seconds > 0 ? static_cast<double>(p.step) / p.seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(p.steps - p.step) / rate : 0;
    std::printf(mode == "bar" ? "\r  step %lld/%lld  loss %.4f  merged acc %.4f  local acc %.4f  %.1f steps/s  ETA %.0f s   "
                              : "  step %lld/%lld  loss %.4f  merged acc %.4f  local acc %.4f  %.1f steps/s  ETA %.0f s\n",
                static_cast<long long>(p.step), static_cast<long long>(p.steps), p.mean_loss, p.merged_accuracy,
                p.local_accuracy, rate, eta);
    std::fflush(stdout);
  };
  if (root && checkpoint)
    std::printf("  resume    from %s at step %lld\n", checkpoint->path().c_str(),
                static_cast<long long>(checkpoint->int_attribute("step")));
  const TrainResult result = train(world, placement, options, *model, data.train, local, data.test, *topology, schedule,
                                   sgd, lr, &*recorder, report);
  if (result.stopped) {
    if (root) report_stopped(point, c, mode, result.steps_done, c.steps, "step");
    return exit_stopped;
  }
  if (root) {
    std::error_code ec;  // the run is complete: its checkpoint is stale
    std::filesystem::remove(checkpoint_path, ec);
    if (mode == "bar") std::printf("\n");
    std::printf("done in %.1f s: merged model test accuracy %.4f (loss %.4f), mean local accuracy %.4f before the "
                "final communication, consensus distance %.4g\n",
                result.seconds, result.merged_accuracy, result.merged_loss, result.local_accuracy,
                result.consensus_distance);
    if (c.landscape_every >= 0)
      std::printf("landscape probes took %.2f s (%.1f%% of the run)\n", result.probe_seconds,
                  100.0 * result.probe_seconds / std::max(result.seconds, 1e-9));
    std::printf("sent %s in %lld gossip rounds and %lld merges (announced %s); wrote %s\n", megabytes(result.bytes).c_str(),
                static_cast<long long>(result.gossip_rounds), static_cast<long long>(result.merges),
                megabytes(announced).c_str(), c.out.c_str());
  }
  if (result.bytes != announced)
    throw std::logic_error("bytes sent (" + std::to_string(result.bytes) + ") differ from the plan (" +
                           std::to_string(announced) + ")");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Environment environment(argc, argv);
  const Comm world = Comm::world();
  const Comm errors = world.dup();
  const bool root = world.rank() == 0;
  try {
    std::string help;
    std::optional<TrainConfig> config;
    try {
      config = driver::parse_train_config(argc, argv, &help);
    } catch (const driver::config_error&) {
      throw;
    } catch (const std::exception& e) {
      // Parsing sees the same arguments and file on every rank: whatever it throws is bad configuration.
      throw driver::config_error(e.what());
    }
    if (!config) {
      if (root) std::cout << help;
      return 0;
    }
    try {
      (void)gemm_info();  // the products' backend, chosen now: a bad DECENT_GEMM is bad input, reported before any work
    } catch (const std::exception& e) {
      throw driver::config_error(e.what());
    }
    if (const InjectedFailure f = InjectedFailure::from_environment(); f.input && f.rank == world.rank())
      throw data_error("injected input failure on rank " + std::to_string(f.rank) + " (DECENT_TEST_FAIL)");
    return run(*config, world, command_line(argc, argv));
  } catch (const divergence_error& e) {
    if (root) std::cerr << "decent-train: " << e.what() << "; the output file is marked finished = 0\n";
    return exit_diverged;
  } catch (const zo_drift_error& e) {  // thrown on every rank alike
    if (root) std::cerr << "decent-train: " << e.what() << "; the output file is marked finished = 0\n";
    return exit_drift;
  } catch (const std::invalid_argument& e) {
    // The input-error branch (decent/core/error.hpp): configuration, data, topology and checkpoint files,
    // model specs, and values a library function refuses.
    return driver::bad_input("decent-train", e, errors);
  } catch (const std::bad_alloc&) {
    // Sizes come from the options, so this is normally every rank's failure too.
    return driver::bad_input("decent-train", std::invalid_argument("out of memory: the sizes asked for do not fit (std::bad_alloc)"),
                             errors);
  } catch (const std::exception& e) {
    driver::rank_failure("decent-train", e, world.rank());
  }
}
