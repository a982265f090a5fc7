#include "decent/algo/zo.hpp"

#include "algo/denormals.hpp"
#include "algo/progress.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <span>

#include "decent/core/random.hpp"
#include "decent/io/recorder.hpp"

namespace decent {

ZoScalar parse_zo_scalar(std::string_view name) {
  if (name == "float") return ZoScalar::float32;
  if (name == "byte") return ZoScalar::byte;
  throw std::invalid_argument("unknown zo-scalar '" + std::string(name) + "' (allowed: float, byte)");
}

std::string to_string(ZoScalar scalar) { return scalar == ZoScalar::byte ? "byte" : "float"; }

std::size_t zo_scalar_bytes(ZoScalar scalar) noexcept { return scalar == ZoScalar::byte ? 1 : sizeof(float); }

namespace {

constexpr int zo_power_limit = 63;  // |p| <= 63: the 127 nonzero magnitude codes c = p + 64

/// round(16 ln|g|) in double (half away from zero), for a finite nonzero g.
double zo_power(float g) { return std::round(16.0 * std::log(std::fabs(static_cast<double>(g)))); }

const std::array<float, 128>& zo_magnitudes() {
  static const std::array<float, 128> table = [] {
    std::array<float, 128> t{};
    for (int c = 1; c < 128; ++c) t[static_cast<std::size_t>(c)] = static_cast<float>(std::exp((c - 64) / 16.0));
    return t;
  }();
  return table;
}

}  // namespace

std::uint8_t encode_zo_byte(float g) noexcept {
  if (!std::isfinite(g)) return zo_byte_nonfinite;
  if (g == 0) return 0;
  const double p = zo_power(g);
  if (p < -zo_power_limit) return 0;
  const int c = static_cast<int>(std::min<double>(p, zo_power_limit)) + 64;
  return static_cast<std::uint8_t>((g < 0 ? 0x80 : 0) | c);
}

float decode_zo_byte(std::uint8_t code) noexcept {
  if (code == zo_byte_nonfinite) return std::numeric_limits<float>::quiet_NaN();
  const float magnitude = zo_magnitudes()[code & 0x7F];
  return (code & 0x80) ? -magnitude : magnitude;
}

std::uint64_t zo_seed(std::uint64_t seed, std::int64_t step, int node, Eigen::Index sample) noexcept {
  constexpr std::uint64_t zo_stream = 0x5A4F5054;  // "ZOPT"
  return derive_seed(seed, {zo_stream, static_cast<std::uint64_t>(step), static_cast<std::uint64_t>(node),
                            static_cast<std::uint64_t>(sample)});
}

void zo_perturbation(std::uint64_t stream_seed, Eigen::Ref<Eigen::VectorXf> z) {
  Rng rng(stream_seed);
  for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = static_cast<float>(rng.normal());
}

ZoLosses zo_walk(Eigen::Ref<Eigen::VectorXf> theta, const Eigen::Ref<const Eigen::VectorXf>& z, float eps,
                 const std::function<float(const Eigen::Ref<const Eigen::VectorXf>&)>& loss) {
  if (theta.size() != z.size())
    throw std::invalid_argument("zo_walk: theta has " + std::to_string(theta.size()) + " entries, z " +
                                std::to_string(z.size()));
  // The same three expressions on every rank: whoever evaluates, the rounding of theta is identical.
  ZoLosses losses;
  theta += eps * z;
  if (loss) losses.plus = loss(theta);
  theta -= (2 * eps) * z;
  if (loss) losses.minus = loss(theta);
  theta += eps * z;
  return losses;
}

std::uint64_t parameter_hash(const Eigen::Ref<const Eigen::VectorXf>& params) noexcept {
  std::uint64_t h = splitmix64(static_cast<std::uint64_t>(params.size()));
  for (Eigen::Index i = 0; i < params.size(); ++i) {
    h = splitmix64(h ^ std::bit_cast<std::uint32_t>(params[i]));
  }
  return h;
}

std::uint64_t zo_step_bytes(int nodes, Eigen::Index batch, ZoScalar scalar) noexcept {
  if (nodes < 2) return 0;
  return static_cast<std::uint64_t>(nodes) * static_cast<std::uint64_t>(nodes - 1) *
         static_cast<std::uint64_t>(batch) * zo_scalar_bytes(scalar);
}

namespace {

/// The loop's state on this rank: one parameter copy standing for all of this rank's nodes.
class ZoLoop {
public:
  ZoLoop(const Comm& comm, const Placement& placement, const ZoOptions& options, const Model& model,
         const Dataset& train_data, const std::vector<std::vector<Eigen::Index>>& shards, const Dataset& test_data,
         const LrSchedule& lr, Recorder* recorder)
      : comm_(comm), placement_(placement), options_(options), model_(model), train_(train_data), test_(test_data),
        lr_(lr), recorder_(recorder), first_(placement.first(comm.rank())), count_(placement.count(comm.rank())) {
    if (placement.ranks() != comm.size())
      throw std::invalid_argument("train_zo: the placement is for " + std::to_string(placement.ranks()) +
                                  " ranks, the communicator has " + std::to_string(comm.size()));
    if (static_cast<int>(shards.size()) != count_)
      throw std::invalid_argument("train_zo: " + std::to_string(shards.size()) + " shards for " +
                                  std::to_string(count_) + " local nodes");
    if (train_.dim() != model.input_dim() || test_.dim() != model.input_dim())
      throw std::invalid_argument("train_zo: data has " + std::to_string(train_.dim()) +
                                  " features, the model expects " + std::to_string(model.input_dim()));
    if (options.steps < 1) throw std::invalid_argument("train_zo: steps must be >= 1");
    if (options.eval_every < 1) throw std::invalid_argument("train_zo: eval-every must be >= 1");
    if (options.verify_every < 0) throw std::invalid_argument("zo-verify-every must be >= 0");
    if (!(options.eps > 0 && std::isfinite(options.eps)))
      throw std::invalid_argument("zo-eps must be finite and > 0, got " + std::to_string(options.eps));
    if (lr.total_steps() != options.steps)
      throw std::invalid_argument("train_zo: the lr schedule covers " + std::to_string(lr.total_steps()) +
                                  " steps, the run " + std::to_string(options.steps));
    const Eigen::Index dim = model.parameter_count();
    theta_.resize(dim);
    z_.resize(dim);
    Rng rng(derive_seed(options.seed, {init_stream}));
    model.initialize(theta_, rng);
    for (int k = 0; k < count_; ++k)
      samplers_.emplace_back(shards[static_cast<std::size_t>(k)], options.batch, options.sampling,
                             derive_seed(options.seed, {sampler_stream, static_cast<std::uint64_t>(first_ + k)}));
    batches_.resize(static_cast<std::size_t>(count_));
    losses_.resize(static_cast<std::size_t>(count_));
    const auto per_rank = static_cast<std::size_t>(count_ * options.batch);
    local_float_.resize(per_rank);
    local_byte_.resize(per_rank);
    received_.resize(static_cast<std::size_t>(placement.nodes() * options.batch));
  }

  ZoResult run(const std::function<void(const TrainProgress&)>& progress) {
    const std::int64_t steps = options_.steps;
    const double start = MPI_Wtime();
    const std::uint64_t step_bytes = zo_step_bytes(placement_.nodes(), options_.batch, options_.scalar);
    TrainProgress report;
    report.steps = steps;
    for (std::int64_t t = 0; t < steps; ++t) {
      const float lr = lr_.at(t);
      estimate(t);
      exchange();
      check_scalars(t);
      update(t, lr);
      if (options_.after_update) options_.after_update(t, theta_);
      result_.bytes += step_bytes;
      if (recorder_) recorder_->record_step(t, lr, losses_, step_bytes, MPI_Wtime() - start);
      const bool last = t + 1 == steps;
      if (last || (options_.verify_every > 0 && (t + 1) % options_.verify_every == 0)) verify(t);
      if ((t + 1) % options_.eval_every == 0 || last) evaluate(t, report);
      detail::report_progress(comm_, placement_.nodes(), losses_, t, last, options_.progress_every, start, report,
                              progress);
    }
    std::uint64_t counts[2] = {saturated_, flushed_};
    comm_.allreduce(std::span<std::uint64_t>(counts, 2), ReduceOp::sum);
    result_.saturated = counts[0];
    result_.flushed = counts[1];
    result_.scalars = static_cast<std::uint64_t>(steps) * received_.size();
    result_.merged_params = theta_;
    result_.seconds = MPI_Wtime() - start;
    if (recorder_) recorder_->finish(std::span<const float>(theta_.data(), static_cast<std::size_t>(theta_.size())));
    return result_;
  }

private:
  /// Every node's walks in node-then-sample order; this rank evaluates only its own nodes' losses but moves
  /// theta through everyone's walks, so the rounding left by the walks is the same on every rank.
  void estimate(std::int64_t t) {
    for (int k = 0; k < count_; ++k) samplers_[static_cast<std::size_t>(k)].next(train_, batches_[static_cast<std::size_t>(k)]);
    const Eigen::Index batch = options_.batch;
    for (int node = 0; node < placement_.nodes(); ++node) {
      const int local = node - first_;
      const bool mine = local >= 0 && local < count_;
      double loss_sum = 0;
      for (Eigen::Index s = 0; s < batch; ++s) {
        zo_perturbation(zo_seed(options_.seed, t, node, s), z_);
        if (!mine) {
          zo_walk(theta_, z_, options_.eps, {});
          continue;
        }
        const Batch& b = batches_[static_cast<std::size_t>(local)];
        const auto labels = b.labels.empty() ? std::span<const int>{}
                                             : std::span<const int>(b.labels).subspan(static_cast<std::size_t>(s), 1);
        const Eigen::VectorXf target = b.targets.size() ? Eigen::VectorXf(b.targets.segment(s, 1)) : Eigen::VectorXf();
        const ZoLosses l = zo_walk(theta_, z_, options_.eps, [&](const Eigen::Ref<const Eigen::VectorXf>& at) {
          return model_.loss(at, b.x.col(s), labels, target);
        });
        loss_sum += 0.5 * (static_cast<double>(l.plus) + l.minus);
        const float g = l.projected_gradient(options_.eps);
        const auto slot = static_cast<std::size_t>(local * batch + s);
        local_float_[slot] = g;
        local_byte_[slot] = encode_zo_byte(g);
        if (options_.scalar == ZoScalar::byte && std::isfinite(g) && g != 0) {
          const double p = zo_power(g);
          saturated_ += p > zo_power_limit;
          flushed_ += p < -zo_power_limit;
        }
      }
      if (mine) losses_[static_cast<std::size_t>(local)] = static_cast<float>(loss_sum / static_cast<double>(batch));
    }
  }

  /// All-gathers the scalars (rank order is node order) and decodes them; the sender uses the decoded
  /// values too, so every rank applies the same numbers.
  void exchange() {
    if (options_.scalar == ZoScalar::float32) {
      const std::vector<float> all = comm_.allgatherv(std::span<const float>(local_float_));
      std::copy(all.begin(), all.end(), received_.begin());
    } else {
      const std::vector<std::uint8_t> all = comm_.allgatherv(std::span<const std::uint8_t>(local_byte_));
      for (std::size_t i = 0; i < all.size(); ++i) received_[i] = decode_zo_byte(all[i]);
    }
  }

  /// Every rank sees every scalar, so all of them throw together for a non-finite one.
  void check_scalars(std::int64_t t) const {
    for (std::size_t i = 0; i < received_.size(); ++i) {
      if (std::isfinite(received_[i])) continue;
      const auto batch = static_cast<std::size_t>(options_.batch);
      throw divergence_error("training diverged: the projected gradient of node " + std::to_string(i / batch) +
                             " (sample " + std::to_string(i % batch) + ") became non-finite at step " +
                             std::to_string(t) + " (lower lr or zo-eps)");
    }
  }

  /// theta -= lr g_{m,k} z_{m,k} / sqrt(N) for every (m, k) in order, regenerating each z.
  void update(std::int64_t t, float lr) {
    const float scale = lr / std::sqrt(static_cast<float>(received_.size()));
    const Eigen::Index batch = options_.batch;
    for (std::size_t i = 0; i < received_.size(); ++i) {
      if (received_[i] == 0) continue;  // nothing to add (every rank skips the same ones)
      zo_perturbation(zo_seed(options_.seed, t, static_cast<int>(i / static_cast<std::size_t>(batch)),
                              static_cast<Eigen::Index>(i % static_cast<std::size_t>(batch))),
                      z_);
      theta_ -= (scale * received_[i]) * z_;
    }
  }

  /// The drift guard: every rank compares every rank's parameter hash after step t.
  void verify(std::int64_t t) const {
    const std::vector<std::uint64_t> hashes = comm_.allgather(parameter_hash(theta_));
    for (std::size_t r = 1; r < hashes.size(); ++r)
      if (hashes[r] != hashes[0])
        throw zo_drift_error("zo drift guard: the parameters of rank " + std::to_string(r) + " differ from rank 0's "
                             "after step " + std::to_string(t) + " (hashes " + std::to_string(hashes[r]) + " and " +
                             std::to_string(hashes[0]) + "); the shared-seed replay lost sync");
  }

  /// Collective: test loss and accuracy of the shared model, the test set split over the ranks.
  void evaluate(std::int64_t t, TrainProgress& report) {
    const Eigen::Index n_test = test_.size();
    const Eigen::Index lo = n_test * comm_.rank() / comm_.size(), hi = n_test * (comm_.rank() + 1) / comm_.size();
    double sums[2] = {0, 0};
    if (hi > lo) {
      const std::span<const int> labels =
          test_.labels.empty() ? std::span<const int>{}
                               : std::span<const int>(test_.labels).subspan(static_cast<std::size_t>(lo),
                                                                           static_cast<std::size_t>(hi - lo));
      const Eigen::VectorXf targets =
          test_.targets.size() ? Eigen::VectorXf(test_.targets.segment(lo, hi - lo)) : Eigen::VectorXf();
      const Evaluation e = model_.evaluate(theta_, test_.features.middleCols(lo, hi - lo), labels, targets);
      sums[0] = e.loss * static_cast<double>(hi - lo);
      sums[1] = e.accuracy * static_cast<double>(hi - lo);
    }
    comm_.allreduce(std::span<double>(sums, 2), ReduceOp::sum);
    result_.merged_loss = sums[0] / static_cast<double>(n_test);
    result_.merged_accuracy = model_.classification() ? sums[1] / static_cast<double>(n_test)
                                                      : std::numeric_limits<double>::quiet_NaN();
    result_.local_accuracy = result_.merged_accuracy;  // every node holds the shared model
    result_.consensus_distance = 0;
    report.merged_accuracy = result_.merged_accuracy;
    report.local_accuracy = result_.local_accuracy;
    if (recorder_) {
      const std::vector<double> loss(static_cast<std::size_t>(count_), result_.merged_loss),
          accuracy(static_cast<std::size_t>(count_), result_.merged_accuracy), distance(static_cast<std::size_t>(count_), 0.0);
      recorder_->record_eval({t, result_.merged_loss, result_.merged_accuracy, loss, accuracy, 0.0, distance});
    }
  }

  const Comm& comm_;
  const Placement& placement_;
  const ZoOptions& options_;
  const Model& model_;
  const Dataset& train_;
  const Dataset& test_;
  const LrSchedule& lr_;
  Recorder* recorder_;
  int first_, count_;                  // this rank's nodes
  Eigen::VectorXf theta_, z_;          // the shared model, and the current perturbation
  std::vector<Sampler> samplers_;
  std::vector<Batch> batches_;
  std::vector<float> losses_;          // per local node: mean over its samples of (L+ + L-) / 2
  std::vector<float> local_float_;     // this rank's scalars, node-then-sample order
  std::vector<std::uint8_t> local_byte_;
  std::vector<float> received_;        // every node's scalars as applied (decoded)
  std::uint64_t saturated_ = 0, flushed_ = 0;
  ZoResult result_;
};

}  // namespace

ZoResult train_zo(const Comm& comm, const Placement& placement, const ZoOptions& options, const Model& model,
                  const Dataset& train_data, const std::vector<std::vector<Eigen::Index>>& local_shards,
                  const Dataset& test_data, const LrSchedule& lr, Recorder* recorder,
                  const std::function<void(const TrainProgress&)>& progress) {
  const detail::FlushDenormals flush(options.flush_denormals);
  ZoLoop loop(comm, placement, options, model, train_data, local_shards, test_data, lr, recorder);
  return loop.run(progress);
}

}  // namespace decent
