#include "decent/algo/train.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "decent/core/random.hpp"
#include "decent/gossip/choco.hpp"
#include "decent/gossip/compressed_server.hpp"
#include "decent/gossip/gossip.hpp"
#include "decent/io/recorder.hpp"
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

constexpr std::uint64_t init_stream = 0x494E4954;     // "INIT"
constexpr std::uint64_t sampler_stream = 0x534D504C;  // "SMPL"

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
        profile_drives_budget_(schedule.profile().has_value() && schedule.options().profile_target == "budget") {
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
    g_storage_ = Eigen::MatrixXf::Zero(padded, count);
    Eigen::VectorXf initial(static_cast<Eigen::Index>(dim_));
    check_compression(options);
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
    }
  }

  TrainResult run(const std::function<void(const TrainProgress&)>& progress) {
    const std::int64_t steps = schedule_.options().steps;
    const double start = MPI_Wtime();
    TrainProgress report;
    report.steps = steps;
    for (std::int64_t t = 0; t < steps; ++t) {
      const Action action = schedule_.at(t);
      std::uint64_t bytes = 0;
      const float lr = lr_.at(t);
      compute_gradients(t);
      switch (options_.algorithm) {
        case Algorithm::server:
          bytes += server_step(t);
          local_steps(lr);
          break;
        case Algorithm::dpsgd:
          if (action.kind == ActionKind::gossip) bytes += gossip_rounds(action, t);
          local_steps(lr);
          break;
        case Algorithm::dsgd:
        case Algorithm::local_sgd:
        case Algorithm::choco:
          local_steps(lr);
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
      if (progress && options_.progress_every > 0 && ((t + 1) % options_.progress_every == 0 || last)) {
        double sum = 0;
        for (float l : losses_) sum += l;
        report.step = t + 1;
        report.mean_loss = comm_.allreduce(sum, ReduceOp::sum) / placement_.nodes();
        report.seconds = MPI_Wtime() - start;
        progress(report);
      }
    }
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

  void compute_gradients(std::int64_t t) {
    for (std::size_t k = 0; k < samplers_.size(); ++k) {
      samplers_[k].next(train_, batches_[k]);
      const auto col = static_cast<Eigen::Index>(k);
      losses_[k] = model_.loss_and_gradient(x().col(col), batches_[k], g().col(col));
      if (!std::isfinite(losses_[k]) && first_bad_step_ < 0) {
        first_bad_step_ = t;
        first_bad_node_ = gossip_.first_node() + static_cast<int>(k);
        bad_value_ = losses_[k];
      }
    }
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
    check_divergence();
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

  void check_divergence() {
    // The earliest (step, node) with a non-finite loss on any rank, encoded to one number for a min-reduction.
    const std::int64_t none = std::numeric_limits<std::int64_t>::max();
    const std::int64_t mine = first_bad_step_ < 0 ? none : first_bad_step_ * placement_.nodes() + first_bad_node_;
    const std::int64_t first = comm_.allreduce(mine, ReduceOp::min);
    if (first == none) return;
    const std::int64_t step = first / placement_.nodes();
    const int node = static_cast<int>(first % placement_.nodes());
    throw divergence_error("training diverged: the loss of node " + std::to_string(node) + " became " +
                           (mine == first ? std::to_string(bad_value_) : std::string("non-finite")) + " at step " +
                           std::to_string(step) + " (lower lr, or clip gradients with clip-value / clip-norm)");
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
  Eigen::MatrixXf x_storage_, g_storage_;  // padded: dim rows used, columns 64-byte aligned
  std::vector<SgdState> states_;
  std::vector<Sampler> samplers_;
  std::vector<Batch> batches_;
  std::vector<float> losses_;
  std::int64_t round_ = 0, merges_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::int64_t first_bad_step_ = -1;
  int first_bad_node_ = -1;
  float bad_value_ = 0;
  TrainResult result_;
};

}  // namespace

TrainResult train(const Comm& comm, const Placement& placement, const TrainOptions& options, const Model& model,
                  const Dataset& train_data, const std::vector<std::vector<Eigen::Index>>& local_shards,
                  const Dataset& test_data, const Topology& topology, const Schedule& schedule, const Sgd& sgd,
                  const LrSchedule& lr, Recorder* recorder, const std::function<void(const TrainProgress&)>& progress) {
  if (options.eval_every < 1) throw std::invalid_argument("train: eval-every must be >= 1");
  Loop loop(comm, placement, options, model, train_data, local_shards, test_data, topology, schedule, sgd, lr, recorder);
  return loop.run(progress);
}

}  // namespace decent
