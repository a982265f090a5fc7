#include "decent/algo/train.hpp"

#include "algo/denormals.hpp"
#include "algo/progress.hpp"
#include "algo/stop_agreement.hpp"
#include "io/checkpoint_rows.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "decent/algo/node_curriculum.hpp"
#include "decent/core/random.hpp"
#include "decent/core/version.hpp"
#include "decent/gossip/choco.hpp"
#include "decent/gossip/compressed_server.hpp"
#include "decent/gossip/gossip.hpp"
#include "decent/io/checkpoint.hpp"
#include "decent/io/recorder.hpp"
#include "decent/model/gemm.hpp"
#include "decent/probe/consensus.hpp"

namespace decent {

Algorithm parse_algorithm(std::string_view name) {
  if (name == "dsgd") return Algorithm::dsgd;
  if (name == "dpsgd") return Algorithm::dpsgd;
  if (name == "server") return Algorithm::server;
  if (name == "local-sgd") return Algorithm::local_sgd;
  if (name == "choco") return Algorithm::choco;
  throw std::invalid_argument("unknown algorithm '" + std::string(name) +
                              "' (allowed: dsgd, dpsgd, server, local-sgd, choco)");
}

std::string to_string(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::dsgd: return "dsgd";
    case Algorithm::dpsgd: return "dpsgd";
    case Algorithm::server: return "server";
    case Algorithm::local_sgd: return "local-sgd";
    case Algorithm::choco: return "choco";
  }
  return "?";
}

std::uint64_t gossip_bytes(const MixingMatrix& w, std::size_t dim) {
  std::uint64_t off_diagonal = 0;
  for (int i = 0; i < w.sparse().outerSize(); ++i)
    for (MixingMatrix::Sparse::InnerIterator it(w.sparse(), i); it; ++it) off_diagonal += it.col() != i;
  return off_diagonal * dim * sizeof(float);
}

std::uint64_t merge_bytes(int nodes, std::size_t dim) {
  return nodes < 2 ? 0 : static_cast<std::uint64_t>(2) * static_cast<std::uint64_t>(nodes - 1) * dim * sizeof(float);
}

std::uint64_t planned_bytes(const TrainOptions& options, const Schedule& schedule, const Topology& topology,
                            const Model& model) {
  const int n = topology.nodes();
  const auto dim = static_cast<std::size_t>(model.parameter_count());
  const std::int64_t steps = schedule.options().steps, warmup = options.compress_warmup;
  const SchedulePlan plan = schedule.plan();
  const auto message_bytes = [&](const std::string& spec) -> std::uint64_t {
    return make_compressor(spec, model.matrix_blocks())->message_bytes(static_cast<Eigen::Index>(dim));
  };
  if (options.algorithm == Algorithm::server) {
    if (!compressed_server(options)) return static_cast<std::uint64_t>(steps) * merge_bytes(n, dim);
    const std::uint64_t message = message_bytes(options.compressor);
    const std::int64_t exact = std::min(warmup, steps);
    return static_cast<std::uint64_t>(exact) * merge_bytes(n, dim) +
           static_cast<std::uint64_t>(steps - exact) * static_cast<std::uint64_t>(n) *
               static_cast<std::uint64_t>(n - 1) * message;
  }
  std::uint64_t bytes = static_cast<std::uint64_t>(plan.merges) * merge_bytes(n, dim);
  if (options.algorithm == Algorithm::choco) {
    std::uint64_t readers = 0;
    for (const auto& r : choco_readers(topology)) readers += r.size();
    const std::uint64_t compressed = readers * message_bytes(options.compressor), exact = readers * message_bytes("none");
    for (std::size_t k = 0; k < plan.comm_steps.size(); ++k)
      bytes += static_cast<std::uint64_t>(plan.comm_rounds[k]) * (plan.comm_steps[k] < warmup ? exact : compressed);
    return bytes + static_cast<std::uint64_t>(plan.post_merge_rounds) * (steps - 1 < warmup ? exact : compressed);
  }
  const auto* random = dynamic_cast<const RandomTopology*>(&topology);
  const bool by_budget = schedule.profile().has_value() && schedule.options().profile_target == "budget";
  for (std::int64_t round = 0; round < plan.total_gossip_rounds(); ++round) {
    const MixingMatrix w = by_budget && random ? random->with_budget(round, plan.round_budgets[static_cast<std::size_t>(round)])
                                               : topology.mixing_matrix(round);
    bytes += gossip_bytes(w, dim);
  }
  return bytes;
}

bool compressed_server(const TrainOptions& options) {
  return options.algorithm == Algorithm::server &&
         (options.compressor != "none" || options.feedback.rule != ErrorFeedback::none);
}

namespace {

/// Refuses options that mix compression with algorithms that do not use it.
void check_compression(const TrainOptions& o) {
  const bool compresses = o.compressor != "none";
  if (o.feedback.rule != ErrorFeedback::none && o.algorithm != Algorithm::server)
    throw std::invalid_argument("error-feedback = " + to_string(o.feedback.rule) + " applies to algorithm = server, not " +
                                to_string(o.algorithm) + " (CHOCO keeps its own memory, the public copies)");
  if (compresses && o.algorithm != Algorithm::server && o.algorithm != Algorithm::choco)
    throw std::invalid_argument("compressor = " + o.compressor + " needs algorithm = server (compressed gradients) or "
                                "choco (compressed gossip); " + to_string(o.algorithm) + " sends exact parameters");
  if (!(o.choco_gamma > 0 && o.choco_gamma <= 1))
    throw std::invalid_argument("choco-gamma must be in (0, 1], got " + std::to_string(o.choco_gamma));
  if (o.compress_warmup < 0)
    throw std::invalid_argument("compress-warmup must be >= 0, got " + std::to_string(o.compress_warmup));
}

/// Steps between two stop agreements: a stop request is acted on within two of these periods, and the
/// agreement's cost (an all-reduce wait) is spread over them.
constexpr std::int64_t stop_check_every = 8;

/// Version of the checkpoint layout written by Loop::save (docs/reliability.md).
constexpr std::int64_t checkpoint_format = 3;  // 2: with the `gemm` attribute; 3: with `dropout_rng`


/// The loop's state on this rank and the operations on it.
class Loop {
public:
  Loop(const Comm& comm, const Placement& placement, const TrainOptions& options, const Model& model,
       const Dataset& train_data, const std::vector<std::vector<Eigen::Index>>& shards, const Dataset& test_data,
       const Topology& topology, const Schedule& schedule, const Sgd& sgd, const LrSchedule& lr, Recorder* recorder)
      : comm_(comm), placement_(placement), options_(options), model_(model), train_(train_data), test_(test_data),
        topology_(topology), schedule_(schedule), sgd_(sgd), lr_(lr), recorder_(recorder),
        dim_(static_cast<std::size_t>(model.parameter_count())),
        gossip_(comm, placement, dim_),
        random_(dynamic_cast<const RandomTopology*>(&topology)),
        profile_drives_budget_(schedule.profile().has_value() && schedule.options().profile_target == "budget"),
        stop_(comm, options.stop_flag) {
    const int count = gossip_.local_count();
    if (static_cast<int>(shards.size()) != count)
      throw std::invalid_argument("train: " + std::to_string(shards.size()) + " shards for " + std::to_string(count) +
                                  " local nodes");
    if (topology.nodes() != placement.nodes())
      throw std::invalid_argument("train: topology has " + std::to_string(topology.nodes()) + " nodes, placement " +
                                  std::to_string(placement.nodes()));
    if (profile_drives_budget_ && !random_)
      throw std::invalid_argument("budget-profile with budget-target = budget needs the random topology, not '" +
                                  topology.name() + "' (use budget-target = rounds for other graphs)");
    if (train_.dim() != model.input_dim() || test_.dim() != model.input_dim())
      throw std::invalid_argument("train: data has " + std::to_string(train_.dim()) + " features, the model expects " +
                                  std::to_string(model.input_dim()));
    // Every node's column starts on a 64-byte boundary: Eigen's vectorized kernels round differently
    // depending on alignment, and a node's vector must compute the same wherever it is placed.
    const Eigen::Index padded = (static_cast<Eigen::Index>(dim_) + 15) / 16 * 16;
    x_storage_ = Eigen::MatrixXf::Zero(padded, count);
    // Only server and D-PSGD use every node's gradient after all are computed; the others take each node's
    // step right after its gradient, through one scratch column (a third less memory per node).
    keep_gradients_ = options.algorithm == Algorithm::server || options.algorithm == Algorithm::dpsgd;
    g_storage_ = Eigen::MatrixXf::Zero(padded, keep_gradients_ ? count : 1);
    Eigen::VectorXf initial(static_cast<Eigen::Index>(dim_));
    check_compression(options);
    detail::check_checkpoint_options(options.checkpoint_every, options.checkpoint_path, options.stop_flag, "train");
    if (compressed_server(options)) {
      server_ = std::make_unique<CompressedServer>(
          comm, placement, dim_, make_compressor(options.compressor, model.matrix_blocks()), options.feedback, options.seed);
      direction_.resize(static_cast<Eigen::Index>(dim_));
    }
    if (options.algorithm == Algorithm::choco)
      choco_ = std::make_unique<ChocoGossip>(comm, placement, dim_, choco_readers(topology),
                                             make_compressor(options.compressor, model.matrix_blocks()), options.seed);
    Rng rng(derive_seed(options.seed, {init_stream}));
    model.initialize(initial, rng);
    x().colwise() = initial;
    states_.resize(static_cast<std::size_t>(count));
    batches_.resize(static_cast<std::size_t>(count));
    losses_.resize(static_cast<std::size_t>(count));
    for (int k = 0; k < count; ++k) {
      const auto node = static_cast<std::uint64_t>(gossip_.first_node() + k);
      samplers_.emplace_back(shards[static_cast<std::size_t>(k)], options.batch, options.sampling,
                             derive_seed(options.seed, {sampler_stream, node}));
      dropout_.emplace_back(derive_seed(options.seed, {dropout_stream, node}));
    }
    make_curricula(shards);
    if (options.resume) load(*options.resume);
  }

  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  TrainResult run(const std::function<void(const TrainProgress&)>& progress) {
    const std::int64_t steps = schedule_.options().steps;
    const double start = MPI_Wtime() - elapsed_before_;  // a resumed run's clock goes on
    TrainProgress report;
    report.steps = steps;
    report.merged_accuracy = result_.merged_accuracy;
    report.local_accuracy = result_.local_accuracy;
    if (recorder_ && first_step_ == 0 && !curricula_.empty()) describe_curriculum();
    for (std::int64_t t = first_step_; t < steps; ++t) {
      const Action action = schedule_.at(t);
      std::uint64_t bytes = 0;
      const float lr = lr_.at(t);
      switch (options_.algorithm) {
        case Algorithm::server:
          compute_gradients(t);
          bytes += server_step(t);
          local_steps(lr);
          break;
        case Algorithm::dpsgd:
          compute_gradients(t);
          if (action.kind == ActionKind::gossip) bytes += gossip_rounds(action, t);
          local_steps(lr);
          break;
        case Algorithm::dsgd:
        case Algorithm::local_sgd:
        case Algorithm::choco:
          compute_gradients(t, lr);
          if (action.kind == ActionKind::gossip) bytes += gossip_rounds(action, t);
          break;
      }
      const bool last = t + 1 == steps;
      if (last) bytes += gossip_rounds(schedule_.after_training(), t);
      const bool merge = action.kind == ActionKind::merge && options_.algorithm != Algorithm::server;
      if (merge) bytes += merge_bytes(placement_.nodes(), dim_);
      total_bytes_ += bytes;
      if (recorder_) recorder_->record_step(t, lr, losses_, bytes, MPI_Wtime() - start);
      const bool probe = options_.landscape_every >= 0 &&
                         (last || (options_.landscape_every > 0 && (t + 1) % options_.landscape_every == 0));
      if ((t + 1) % options_.eval_every == 0 || last || probe) evaluate(t, report, probe);
      if (merge) {
        gossip_.merge(x());
        if (choco_) choco_->synchronize(x().col(0));  // every node knows the merged model
        ++merges_;
      }
      detail::report_progress(comm_, placement_.nodes(), losses_, t, last, options_.progress_every, start, report,
                              progress);
      if (last) break;
      const bool stop = (t + 1) % stop_check_every == 0 && stop_agreed();
      if (stop || (options_.checkpoint_every > 0 && (t + 1) % options_.checkpoint_every == 0))
        save(t + 1, MPI_Wtime() - start);
      if (stop) {
        result_.stopped = true;
        result_.steps_done = t + 1;
        result_.bytes = total_bytes_;
        result_.gossip_rounds = round_;
        result_.merges = merges_;
        result_.seconds = MPI_Wtime() - start;
        return result_;
      }
    }
    stop_.finish();
    result_.steps_done = steps;
    const Consensus final_state = consensus(comm_, placement_.nodes(), x());
    result_.merged_params = final_state.mean.cast<float>();
    result_.bytes = total_bytes_;
    result_.gossip_rounds = round_;
    result_.merges = merges_;
    result_.seconds = MPI_Wtime() - start;
    if (recorder_) recorder_->finish(std::span<const float>(result_.merged_params.data(), dim_));
    return result_;
  }

private:
  Eigen::Block<Eigen::MatrixXf> x() { return x_storage_.topRows(static_cast<Eigen::Index>(dim_)); }
  Eigen::Block<Eigen::MatrixXf> g() { return g_storage_.topRows(static_cast<Eigen::Index>(dim_)); }

  /// Every local node's loss and gradient at step t; with `step_lr`, each node's SGD step follows its own
  /// gradient at once (one scratch column), otherwise the gradients are kept for the algorithm.
  void compute_gradients(std::int64_t t, std::optional<float> step_lr = std::nullopt) {
    for (std::size_t k = 0; k < samplers_.size(); ++k) {
      const auto col = static_cast<Eigen::Index>(k);
      if (curricula_.empty()) samplers_[k].next(train_, batches_[k]);
      else gather_batch(train_, curricula_[k].next([&] { return curriculum_scores_of(k); }), batches_[k]);
      const Eigen::Index g_col = keep_gradients_ ? col : 0;
      losses_[k] = model_.loss_and_gradient(x().col(col), batches_[k].x, objective_of(batches_[k], &dropout_[k]),
                                            g().col(g_col));
      if (!std::isfinite(losses_[k]) && first_bad_step_ < 0) {
        first_bad_step_ = t;
        first_bad_node_ = gossip_.first_node() + static_cast<int>(k);
        bad_value_ = losses_[k];
      }
      if (step_lr) sgd_.step(x().col(col), g().col(g_col), states_[k], *step_lr);
    }
  }

  /// Checks the curriculum options and gives every local node its NodeCurriculum (none when it is off).
  void make_curricula(const std::vector<std::vector<Eigen::Index>>& shards) {
    const LocalCurriculum& c = options_.curriculum;
    check_node_curriculum(c, options_.curriculum_window);
    if (!c.enabled) return;
    const bool scored = c.order == CurriculumOrder::curr || c.order == CurriculumOrder::anti;
    if (scored && !train_.classification())
      throw std::invalid_argument("curriculum = " + to_string(c.order) + ": scoring samples needs class labels; data "
                                  "set '" + train_.name + "' is a regression task");
    if (scored && c.scorer == CurriculumScorer::expert && options_.expert.size() != static_cast<Eigen::Index>(dim_))
      throw std::invalid_argument("curriculum-score = expert: the expert has " + std::to_string(options_.expert.size()) +
                                  " parameters, the model " + std::to_string(dim_) + " (TrainOptions::expert)");
    Eigen::Index widest = 0;
    for (std::size_t k = 0; k < shards.size(); ++k) {
      const auto node = static_cast<std::uint64_t>(gossip_.first_node()) + k;
      const auto size = static_cast<Eigen::Index>(shards[k].size());
      if (options_.batch > size)
        throw std::invalid_argument("curriculum: node " + std::to_string(node) + " holds " + std::to_string(size) +
                                    " samples, fewer than batch = " + std::to_string(options_.batch));
      curricula_.emplace_back(c, shards[k], options_.batch, curriculum_window(options_.curriculum_window, size, options_.batch),
                              derive_seed(options_.seed, {curriculum_stream, node}));
      widest = std::max(widest, size);
    }
    curriculum_width_ = static_cast<std::size_t>(comm_.allreduce<std::int64_t>(widest, ReduceOp::max));
  }

  /// Node k's scores of its shard at the start of a curriculum window: under its own model or the expert.
  std::vector<float> curriculum_scores_of(std::size_t k) {
    const LocalCurriculum& c = options_.curriculum;
    const std::span<const Eigen::Index> shard = curricula_[k].shard();
    if (c.scorer == CurriculumScorer::expert) return curriculum_scores(model_, options_.expert, train_, shard, c.metric);
    return curriculum_scores(model_, x().col(static_cast<Eigen::Index>(k)), train_, shard, c.metric);
  }

  /// The /curriculum attributes of a fresh run (docs/hdf5.md).
  void describe_curriculum() {
    const LocalCurriculum& c = options_.curriculum;
    recorder_->write_group_attribute("curriculum", "curriculum", to_string(c.order));
    recorder_->write_group_attribute("curriculum", "curriculum_score", to_string(c.scorer));
    recorder_->write_group_attribute("curriculum", "curriculum_metric", to_string(c.metric));
    recorder_->write_group_attribute("curriculum", "pacing", to_string(c.pacing));
    recorder_->write_group_attribute("curriculum", "pacing_a", c.a);
    recorder_->write_group_attribute("curriculum", "pacing_b", c.b);
    recorder_->write_group_attribute("curriculum", "window", static_cast<double>(options_.curriculum_window));
  }

  void local_steps(float lr) {
    for (std::size_t k = 0; k < samplers_.size(); ++k) {
      const auto col = static_cast<Eigen::Index>(k);
      sgd_.step(x().col(col), g().col(col), states_[k], lr);
    }
  }

  std::uint64_t merge_gradients() {
    gossip_.merge(g());
    return merge_bytes(placement_.nodes(), dim_);
  }

  /// The server's step: all-reduced gradients, or the compressed server's direction (exact during warm-up).
  std::uint64_t server_step(std::int64_t t) {
    if (!server_) return merge_gradients();
    const std::uint64_t bytes =
        t < options_.compress_warmup ? server_->exact_step(g(), direction_) : server_->step(g(), direction_);
    g().colwise() = direction_;
    return bytes;
  }

  /// The action's gossip rounds after step t: plain, or CHOCO's (exact during the compression warm-up).
  std::uint64_t gossip_rounds(const Action& action, std::int64_t t) {
    std::uint64_t bytes = 0;
    const bool exact = t < options_.compress_warmup;
    for (int r = 0; r < action.rounds; ++r, ++round_) {
      const MixingMatrix w = profile_drives_budget_ ? random_->with_budget(round_, action.budget)
                                                    : topology_.mixing_matrix(round_);
      if (choco_) {
        choco_->round(w, x(), exact ? 1.0f : options_.choco_gamma, exact);
        bytes += choco_->round_bytes(exact);
      } else {
        gossip_.round(w, x());
        bytes += gossip_bytes(w, dim_);
      }
    }
    return bytes;
  }

  /// Collective: consensus, merged-model and local-model test metrics; throws on divergence.
  void evaluate(std::int64_t t, TrainProgress& report, bool probe) {
    check_divergence(t);
    const Consensus c = consensus(comm_, placement_.nodes(), x());
    const Eigen::VectorXf merged = c.mean.cast<float>();
    // The merged model's test set is split over the ranks and the sums combined.
    const Eigen::Index n_test = test_.size();
    const Eigen::Index lo = n_test * comm_.rank() / comm_.size(), hi = n_test * (comm_.rank() + 1) / comm_.size();
    double sums[2] = {0, 0};
    if (hi > lo) {
      const Evaluation e = evaluate_on(merged, lo, hi - lo);
      sums[0] = e.loss * static_cast<double>(hi - lo);
      sums[1] = e.accuracy * static_cast<double>(hi - lo);
    }
    comm_.allreduce(std::span<double>(sums, 2), ReduceOp::sum);
    std::vector<double> local_loss, local_accuracy;
    double local_accuracy_sum = 0;
    for (Eigen::Index k = 0; k < x_storage_.cols(); ++k) {
      const Evaluation e = evaluate_on(x().col(k), 0, n_test);
      local_loss.push_back(e.loss);
      local_accuracy.push_back(e.accuracy);
      local_accuracy_sum += std::isnan(e.accuracy) ? 0 : e.accuracy;
    }
    result_.merged_loss = sums[0] / static_cast<double>(n_test);
    result_.merged_accuracy = model_.classification() ? sums[1] / static_cast<double>(n_test)
                                                      : std::numeric_limits<double>::quiet_NaN();
    result_.local_accuracy = model_.classification()
                                 ? comm_.allreduce(local_accuracy_sum, ReduceOp::sum) / placement_.nodes()
                                 : std::numeric_limits<double>::quiet_NaN();
    result_.consensus_distance = c.distance;
    report.merged_accuracy = result_.merged_accuracy;
    report.local_accuracy = result_.local_accuracy;
    if (recorder_)
      recorder_->record_eval({t, result_.merged_loss, result_.merged_accuracy, local_loss, local_accuracy, c.distance,
                              c.distance_to_mean});
    if (probe) {
      const LandscapeProbe landscape = probe_landscape(comm_, placement_, model_, x(), merged,
                                                       options_.probe_data ? *options_.probe_data : test_,
                                                       options_.landscape);
      result_.probe_seconds += landscape.seconds;
      if (recorder_) recorder_->record_landscape(t, interpolation_alphas(options_.landscape.interp_points), landscape);
    }
  }

  Evaluation evaluate_on(const Eigen::Ref<const Eigen::VectorXf>& params, Eigen::Index first, Eigen::Index count) const {
    const std::span<const int> labels =
        test_.labels.empty() ? std::span<const int>{}
                             : std::span<const int>(test_.labels).subspan(static_cast<std::size_t>(first),
                                                                         static_cast<std::size_t>(count));
    const Eigen::VectorXf targets =
        test_.targets.size() ? Eigen::VectorXf(test_.targets.segment(first, count)) : Eigen::VectorXf();
    return model_.evaluate(params, test_.features.middleCols(first, count), labels, targets);
  }

  /// Collective, after step t: throws divergence_error on every rank if a loss since the start or a
  /// parameter now is NaN or infinite, naming the earliest step and node and what became non-finite.
  void check_divergence(std::int64_t t) {
    if (first_bad_step_ < 0)
      for (Eigen::Index k = 0; k < x_storage_.cols(); ++k)
        if (!x().col(k).allFinite()) {
          first_bad_step_ = t;
          first_bad_node_ = gossip_.first_node() + static_cast<int>(k);
          bad_parameters_ = true;
          break;
        }
    // The earliest (step, node) on any rank, encoded to one number for a min-reduction.
    const std::int64_t none = std::numeric_limits<std::int64_t>::max();
    const std::int64_t mine = first_bad_step_ < 0 ? none : first_bad_step_ * placement_.nodes() + first_bad_node_;
    const std::int64_t first = comm_.allreduce(mine, ReduceOp::min);
    if (first == none) return;
    const std::int64_t step = first / placement_.nodes();
    const int node = static_cast<int>(first % placement_.nodes());
    // The owner of that node says what it saw.
    double what[2] = {bad_parameters_ ? 1.0 : 0.0, static_cast<double>(bad_value_)};
    comm_.broadcast(std::span<double>(what, 2), placement_.owner(node));
    const std::string hint = " (lower lr, or clip gradients with clip-value / clip-norm)";
    if (what[0] != 0)
      throw divergence_error("training diverged: the parameters of node " + std::to_string(node) +
                             " hold NaN or inf after step " + std::to_string(step) + hint);
    throw divergence_error("training diverged: the loss of node " + std::to_string(node) + " became " +
                           std::to_string(static_cast<float>(what[1])) + " at step " + std::to_string(step) + hint);
  }

  /// Collective (when a stop flag is watched), every stop_check_every steps: true if some rank's flag was set
  /// when the previous agreement was posted (detail::StopAgreement).
  bool stop_agreed() { return stop_.agreed(); }

  template <class Get>
  void save_vectors(CheckpointWriter& w, const std::string& name, Get&& get) const {
    detail::save_vectors(w, name, samplers_.size(), dim_, get);
  }
  template <class Get>
  void save_rngs(CheckpointWriter& w, const std::string& name, Get&& rng) const {
    detail::save_rngs(w, name, samplers_.size(), rng);
  }
  /// Collective: writes the complete state before step `next` (docs/reliability.md) after checking it is
  /// finite, with the recorder flushed so the file holds exactly the steps before `next`.
  void save(std::int64_t next, double elapsed) {
    check_divergence(next - 1);
    if (recorder_) recorder_->flush();
    const RecorderPosition at = recorder_ ? recorder_->position() : RecorderPosition{};
    CheckpointWriter w(comm_, placement_, options_.checkpoint_path);
    detail::write_header(w, {checkpoint_format, options_.checkpoint_config, to_string(options_.algorithm),
                             placement_.nodes(), placement_.ranks(), static_cast<std::int64_t>(dim_), next});
    w.attribute("gossip_rounds", round_);
    w.attribute("merges", merges_);
    w.attribute("bytes", static_cast<std::int64_t>(total_bytes_));
    w.attribute("elapsed_seconds", elapsed);
    w.attribute("merged_loss", result_.merged_loss);
    w.attribute("merged_accuracy", result_.merged_accuracy);
    w.attribute("local_accuracy", result_.local_accuracy);
    w.attribute("consensus_distance", result_.consensus_distance);
    w.attribute("probe_seconds", result_.probe_seconds);
    w.attribute("recorder_steps", at.steps);
    w.attribute("recorder_evals", at.evals);
    w.attribute("recorder_landscapes", at.landscapes);
    const auto count = static_cast<Eigen::Index>(samplers_.size());
    Eigen::MatrixXf x_rows = x();  // dim x count, contiguous: node k's row is column k
    w.node_rows<float>("x", dim_, std::span<const float>(x_rows.data(), static_cast<std::size_t>(x_rows.size())));
    std::vector<std::int64_t> sgd_steps;
    std::vector<std::uint64_t> batches;
    for (Eigen::Index k = 0; k < count; ++k) {
      sgd_steps.push_back(states_[static_cast<std::size_t>(k)].steps);
      batches.push_back(samplers_[static_cast<std::size_t>(k)].state().batches);
    }
    w.node_rows<std::int64_t>("sgd_steps", 1, sgd_steps);
    save_vectors(w, "sgd_momentum", [&](int k) -> const Eigen::VectorXf& { return states_[static_cast<std::size_t>(k)].momentum; });
    w.node_rows<std::uint64_t>("sampler_batches", 1, batches);
    save_rngs(w, "dropout_rng", [&](int k) -> const Rng& { return dropout_[static_cast<std::size_t>(k)]; });
    if (server_) {
      std::vector<std::int64_t> steps;
      for (int k = 0; k < count; ++k) steps.push_back(server_->state(k).steps);
      w.node_rows<std::int64_t>("feedback_steps", 1, steps);
      save_vectors(w, "feedback_error", [&](int k) -> const Eigen::VectorXf& { return server_->state(k).error; });
      save_vectors(w, "feedback_estimate", [&](int k) -> const Eigen::VectorXf& { return server_->state(k).estimate; });
      save_vectors(w, "feedback_momentum", [&](int k) -> const Eigen::VectorXf& { return server_->state(k).momentum; });
      save_rngs(w, "feedback_rng", [&](int k) -> Rng& { return server_->rng(k); });
      const Eigen::VectorXd& estimate = server_->server_estimate();
      w.shared<double>("server_estimate", std::span<const double>(estimate.data(), static_cast<std::size_t>(estimate.size())));
    }
    if (!curricula_.empty()) save_curricula(w);
    if (choco_) {
      Eigen::MatrixXf copies(static_cast<Eigen::Index>(dim_), count);
      for (int k = 0; k < count; ++k) copies.col(k) = choco_->public_copy(gossip_.first_node() + k);
      w.node_rows<float>("choco_public", dim_, std::span<const float>(copies.data(), static_cast<std::size_t>(copies.size())));
      save_rngs(w, "choco_rng", [&](int k) -> Rng& { return choco_->rng(k); });
    }
    w.commit();
  }

  /// Every node's curriculum: windows begun, its sampler's state and its order (padded with -1 to the widest shard).
  void save_curricula(CheckpointWriter& w) const {
    std::vector<std::uint64_t> windows;
    std::vector<std::int64_t> sampler, order;
    for (const NodeCurriculum& curriculum : curricula_) {
      const NodeCurriculumState s = curriculum.state();
      windows.push_back(s.windows);
      sampler.insert(sampler.end(), {s.sampler.step, static_cast<std::int64_t>(s.sampler.pass), s.sampler.pool,
                                     s.sampler.position});
      std::vector<std::int64_t> row(curriculum_width_, -1);
      std::copy(s.order.begin(), s.order.end(), row.begin());
      order.insert(order.end(), row.begin(), row.end());
    }
    w.node_rows<std::uint64_t>("curriculum_windows", 1, windows);
    w.node_rows<std::int64_t>("curriculum_sampler", 4, sampler);
    w.node_rows<std::int64_t>("curriculum_order", curriculum_width_, order);
  }

  void load_curricula(const CheckpointReader& r) {
    for (std::size_t k = 0; k < curricula_.size(); ++k) {
      const int node = gossip_.first_node() + static_cast<int>(k);
      NodeCurriculumState s;
      s.windows = r.node_row<std::uint64_t>("curriculum_windows", node, 1)[0];
      const std::vector<std::int64_t> sampler = r.node_row<std::int64_t>("curriculum_sampler", node, 4);
      s.sampler = {sampler[0], static_cast<std::uint64_t>(sampler[1]), sampler[2], sampler[3]};
      const std::vector<std::int64_t> row = r.node_row<std::int64_t>("curriculum_order", node, curriculum_width_);
      if (s.windows > 0) s.order.assign(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(curricula_[k].shard().size()));
      try {
        curricula_[k].restore(s);
      } catch (const std::invalid_argument& e) {
        throw checkpoint_error("checkpoint '" + r.path() + "': node " + std::to_string(node) + "'s curriculum: " +
                               e.what());
      }
    }
  }

  /// Restores the state a checkpoint saved (every rank reads its own nodes' rows).
  void load(const CheckpointReader& r) {
    const auto fail = [&](const std::string& what) { throw checkpoint_error("checkpoint '" + r.path() + "': " + what); };
    first_step_ = detail::check_header(r, {checkpoint_format, "", to_string(options_.algorithm), placement_.nodes(), 0,
                                           static_cast<std::int64_t>(dim_), schedule_.options().steps},
                                       "nodes", "step");
    round_ = r.int_attribute("gossip_rounds");
    merges_ = r.int_attribute("merges");
    total_bytes_ = static_cast<std::uint64_t>(r.int_attribute("bytes"));
    elapsed_before_ = r.double_attribute("elapsed_seconds");
    result_.merged_loss = r.double_attribute("merged_loss");
    result_.merged_accuracy = r.double_attribute("merged_accuracy");
    result_.local_accuracy = r.double_attribute("local_accuracy");
    result_.consensus_distance = r.double_attribute("consensus_distance");
    result_.probe_seconds = r.double_attribute("probe_seconds");
    const int first = gossip_.first_node();
    for (std::size_t k = 0; k < samplers_.size(); ++k) {
      const int node = first + static_cast<int>(k);
      const auto col = static_cast<Eigen::Index>(k);
      const std::vector<float> row = r.node_row<float>("x", node, dim_);
      x().col(col) = Eigen::Map<const Eigen::VectorXf>(row.data(), static_cast<Eigen::Index>(dim_));
      states_[k].steps = r.node_row<std::int64_t>("sgd_steps", node, 1)[0];
      detail::load_vector(r, "sgd_momentum", node, dim_, states_[k].momentum);
      samplers_[k].restore({r.node_row<std::uint64_t>("sampler_batches", node, 1)[0]});
      detail::load_rng(r, "dropout_rng", node, dropout_[k]);
      if (server_) {
        FeedbackState& state = server_->state(static_cast<int>(k));
        state.steps = r.node_row<std::int64_t>("feedback_steps", node, 1)[0];
        detail::load_vector(r, "feedback_error", node, dim_, state.error);
        detail::load_vector(r, "feedback_estimate", node, dim_, state.estimate);
        detail::load_vector(r, "feedback_momentum", node, dim_, state.momentum);
        detail::load_rng(r, "feedback_rng", node, server_->rng(static_cast<int>(k)));
      }
      if (choco_) detail::load_rng(r, "choco_rng", node, choco_->rng(static_cast<int>(k)));
    }
    if (server_) {
      const std::vector<double> estimate = r.shared<double>("server_estimate");
      if (estimate.size() != dim_) fail("server_estimate has " + std::to_string(estimate.size()) + " entries");
      server_->server_estimate() = Eigen::Map<const Eigen::VectorXd>(estimate.data(), static_cast<Eigen::Index>(dim_));
    }
    if (!curricula_.empty()) load_curricula(r);
    if (choco_)
      for (int node : choco_->held_nodes()) {
        const std::vector<float> row = r.node_row<float>("choco_public", node, dim_);
        choco_->set_public_copy(node, Eigen::Map<const Eigen::VectorXf>(row.data(), static_cast<Eigen::Index>(dim_)));
      }
  }

  const Comm& comm_;
  const Placement& placement_;
  const TrainOptions& options_;
  const Model& model_;
  const Dataset& train_;
  const Dataset& test_;
  const Topology& topology_;
  const Schedule& schedule_;
  const Sgd& sgd_;
  const LrSchedule& lr_;
  Recorder* recorder_;
  std::size_t dim_;
  Gossip gossip_;
  std::unique_ptr<CompressedServer> server_;  // server with compression or error feedback
  std::unique_ptr<ChocoGossip> choco_;        // algorithm choco
  Eigen::VectorXf direction_;                 // the compressed server's direction
  const RandomTopology* random_;
  bool profile_drives_budget_;
  bool keep_gradients_ = true;             // g holds every local node's gradient (server, dpsgd), else one
  Eigen::MatrixXf x_storage_, g_storage_;  // padded: dim rows used, columns 64-byte aligned
  std::vector<SgdState> states_;
  std::vector<Sampler> samplers_;
  std::vector<Rng> dropout_;  // each node's stream for stochastic layers
  std::vector<NodeCurriculum> curricula_;  // each local node's curriculum (empty: off)
  std::size_t curriculum_width_ = 0;       // the widest shard of all nodes: the checkpoint's order rows
  std::vector<Batch> batches_;
  std::vector<float> losses_;
  std::int64_t round_ = 0, merges_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::int64_t first_bad_step_ = -1;
  int first_bad_node_ = -1;
  float bad_value_ = 0;
  bool bad_parameters_ = false;    // the first bad value found was a parameter, not a loss
  std::int64_t first_step_ = 0;    // > 0 when resumed from a checkpoint
  double elapsed_before_ = 0;      // seconds the run had taken before the checkpoint
  detail::StopAgreement stop_;     // the ranks' agreement to stop on a signal
  TrainResult result_;
};

}  // namespace

TrainResult train(const Comm& comm, const Placement& placement, const TrainOptions& options, const Model& model,
                  const Dataset& train_data, const std::vector<std::vector<Eigen::Index>>& local_shards,
                  const Dataset& test_data, const Topology& topology, const Schedule& schedule, const Sgd& sgd,
                  const LrSchedule& lr, Recorder* recorder, const std::function<void(const TrainProgress&)>& progress) {
  if (options.eval_every < 1) throw std::invalid_argument("train: eval-every must be >= 1");
  const detail::FlushDenormals flush(options.flush_denormals);
  Loop loop(comm, placement, options, model, train_data, local_shards, test_data, topology, schedule, sgd, lr, recorder);
  return loop.run(progress);
}

}  // namespace decent
