#include "decent/algo/federated.hpp"
#include "core/number_text.hpp"

#include "algo/denormals.hpp"
#include "algo/stop_agreement.hpp"
#include "io/checkpoint_rows.hpp"
#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "decent/core/error.hpp"
#include "decent/core/random.hpp"
#include "decent/core/version.hpp"
#include "decent/io/checkpoint.hpp"
#include "decent/model/gemm.hpp"
#include "decent/io/recorder.hpp"
#include "decent/probe/fairness.hpp"

namespace decent {

using detail::number_text;

namespace {

constexpr std::int64_t max_updates = 100'000'000;     // federated_updates_within refuses more
/// Version of the federated checkpoint layout (FederatedLoop::save; docs/reliability.md).
constexpr std::int64_t federated_checkpoint_format = 1;
constexpr std::uint64_t fail_stream = 0x4641494C;     // "FAIL": whether a selected client fails to return
constexpr std::int64_t max_windows = 1'000'000'000;   // FedFix windows one job may span


/// FedFix: the windows a job of duration tau spans, the smallest j >= 1 with tau <= j dt (= ceil(tau / dt),
/// decided by the same comparison the clock would make, so the weight and the schedule never disagree).
std::int64_t windows_spanned(double tau, double dt) {
  const double estimate = std::ceil(tau / dt);
  if (!(estimate <= static_cast<double>(max_windows)))
    throw std::invalid_argument("fedfix-dt: " + number_text(dt) + " is too small for a job of duration " +
                                number_text(tau) +
                                " (more than 10^9 windows per job)");
  auto j = std::max<std::int64_t>(1, static_cast<std::int64_t>(estimate));
  while (j > 1 && tau <= static_cast<double>(j - 1) * dt) --j;
  while (tau > static_cast<double>(j) * dt) ++j;
  return j;
}

/// Bytes of a round with a loss-reading selection: the model to every client scored or selected, one float per
/// loss a client reports (scored before the selection, or refreshed after it), an upload per returned client.
std::uint64_t selection_bytes(const std::vector<int>& scored, const std::vector<int>& selected, std::size_t refreshed,
                              std::size_t returned, std::uint64_t message) {
  std::vector<int> reached;
  std::set_union(scored.begin(), scored.end(), selected.begin(), selected.end(), std::back_inserter(reached));
  return (reached.size() + returned) * message + (scored.size() + refreshed) * sizeof(float);
}

/// The planned bytes of the next round of `selector`, replayed on zero losses (the counts do not depend on them),
/// with every selected client returning.
std::uint64_t selection_round_bytes(ClientSelector& selector, std::uint64_t message) {
  const std::vector<int> scored = selector.wanted();
  const std::vector<int> selected = selector.select(std::vector<double>(scored.size(), 0.0));
  const std::size_t refreshed = selector.refreshed().size();
  selector.refresh(std::vector<double>(refreshed, 0.0));
  return selection_bytes(scored, selected, refreshed, selected.size(), message);
}

bool by_return(const Contribution& a, const Contribution& b) {
  return a.return_time != b.return_time ? a.return_time < b.return_time : a.client < b.client;
}

}  // namespace

AggregationRule parse_aggregation_rule(std::string_view name) {
  if (name == "fedavg") return AggregationRule::fedavg;
  if (name == "async-fedavg") return AggregationRule::async_fedavg;
  if (name == "fedbuff") return AggregationRule::fedbuff;
  if (name == "fedfix") return AggregationRule::fedfix;
  throw std::invalid_argument("unknown aggregation rule '" + std::string(name) +
                              "' (allowed: fedavg, async-fedavg, fedbuff, fedfix)");
}

std::string to_string(AggregationRule rule) {
  switch (rule) {
    case AggregationRule::fedavg: return "fedavg";
    case AggregationRule::async_fedavg: return "async-fedavg";
    case AggregationRule::fedbuff: return "fedbuff";
    case AggregationRule::fedfix: return "fedfix";
  }
  return "?";
}

bool is_aggregation_rule(std::string_view name) {
  return name == "fedavg" || name == "async-fedavg" || name == "fedbuff" || name == "fedfix";
}

std::vector<double> spread_durations(int clients, double spread_percent) {
  if (clients < 1) throw std::invalid_argument("speed-spread: needs at least one client, got " + std::to_string(clients));
  if (!(spread_percent >= 0 && spread_percent < 100))
    throw std::invalid_argument("speed-spread: " + number_text(spread_percent) + " is outside [0, 100)");
  std::vector<double> tau(static_cast<std::size_t>(clients), 1.0);
  // The reference code's expression and order of operations: 1 - i * P / 100 / (M - 1).
  for (int i = 1; i < clients; ++i)
    tau[static_cast<std::size_t>(i)] = 1.0 - static_cast<double>(i) * spread_percent / 100.0 / (clients - 1);
  return tau;
}

void check_federated_options(const FederatedOptions& o, int clients) {
  if (clients < 1) throw std::invalid_argument("federated: needs at least one client");
  if (static_cast<int>(o.durations.size()) != clients)
    throw std::invalid_argument("client-times: " + std::to_string(o.durations.size()) + " durations for " +
                                std::to_string(clients) + " clients (one per node)");
  for (std::size_t i = 0; i < o.durations.size(); ++i)
    if (!(o.durations[i] > 0 && std::isfinite(o.durations[i])))
      throw std::invalid_argument("client-times: client " + std::to_string(i) + "'s duration " +
                                  number_text(o.durations[i]) +
                                  " is not a finite number > 0");
  if (o.local_steps < 1) throw std::invalid_argument("local-steps: must be >= 1, got " + std::to_string(o.local_steps));
  check_server_optimizer(o.server_optimizer, o.server_lr);
  check_local_curriculum(o.curriculum);
  check_client_selection(o.selection, clients, o.clients_per_round);
  if (o.rule == AggregationRule::fedbuff && (o.buffer_size < 1 || o.buffer_size > clients))
    throw std::invalid_argument("buffer-size: " + std::to_string(o.buffer_size) + " is outside [1, " +
                                std::to_string(clients) + "] (c clients of " + std::to_string(clients) + ")");
  if (o.rule == AggregationRule::fedfix) {
    if (!(o.fedfix_dt > 0 && std::isfinite(o.fedfix_dt)))
      throw std::invalid_argument("fedfix-dt: must be a finite number > 0, got " + number_text(o.fedfix_dt));
    for (double tau : o.durations) windows_spanned(tau, o.fedfix_dt);
  }
  if (uses_participation(o) && o.rule != AggregationRule::fedavg)
    throw std::invalid_argument("clients-per-round, dropout, deadline and availability apply to algorithm = fedavg "
                                "(the synchronous rule), not " + to_string(o.rule));
  if (!o.availability.always()) {
    if (o.availability.clients() != clients)
      throw std::invalid_argument("availability: the trace covers " + std::to_string(o.availability.clients()) +
                                  " clients, the run has " + std::to_string(clients));
    if (o.selection.rule == SelectionRule::curriculum)
      throw std::invalid_argument("availability: does not combine with client-selection = curriculum (its pools "
                                  "are passes over every client); use uniform, power-of-choice:D or high-loss:T");
  }
  if (o.clients_per_round < 0 || o.clients_per_round > clients)
    throw std::invalid_argument("clients-per-round: " + std::to_string(o.clients_per_round) + " is outside [1, " +
                                std::to_string(clients) + "] (the number of clients, nodes)");
  if (!(o.dropout >= 0 && o.dropout < 1))
    throw std::invalid_argument("dropout: " + number_text(o.dropout) + " is outside [0, 1)");
  if (!(o.deadline >= 0 && std::isfinite(o.deadline)))
    throw std::invalid_argument("deadline: must be a finite number >= 0 (0: none), got " + number_text(o.deadline));
  if (o.steps < 1) throw std::invalid_argument("steps: must be >= 1, got " + std::to_string(o.steps));
  if (o.batch < 1) throw std::invalid_argument("batch: must be >= 1, got " + std::to_string(o.batch));
  if (o.eval_every < 1) throw std::invalid_argument("eval-every: must be >= 1, got " + std::to_string(o.eval_every));
}

bool uses_participation(const FederatedOptions& o) noexcept {
  return o.clients_per_round > 0 || o.dropout > 0 || o.deadline > 0 || !o.availability.always();
}

std::vector<int> selected_clients(const FederatedOptions& options, int clients, std::int64_t round) {
  return uniform_round_clients(clients, options.clients_per_round, options.seed, round);
}

FederatedClock::FederatedClock(const FederatedOptions& options)
    : rule_(options.rule), tau_(options.durations), buffer_(options.buffer_size), dt_(options.fedfix_dt),
      options_(options) {
  check_federated_options(options, static_cast<int>(tau_.size()));
  const std::size_t n = tau_.size();
  version_.assign(n, 0);
  sent_.assign(n, 0.0);
  returns_ = tau_;
  if (rule_ == AggregationRule::fedfix)
    for (double tau : tau_) windows_.push_back(windows_spanned(tau, dt_));
  for (double tau : tau_) async_scale_ += 1.0 / tau;
}

ServerUpdate FederatedClock::next(std::span<const int> selected) {
  if (rule_ != AggregationRule::fedavg || !uses_participation(options_))
    throw std::invalid_argument("FederatedClock::next(selected): the clients of a round are chosen only by fedavg "
                                "with participation (clients-per-round, client-selection)");
  if (selected.empty()) throw std::invalid_argument("FederatedClock::next(selected): no client selected");
  const double start = round_start();
  for (std::size_t j = 0; j < selected.size(); ++j) {
    if (selected[j] < 0 || selected[j] >= clients() || (j > 0 && selected[j] <= selected[j - 1]))
      throw std::invalid_argument("FederatedClock::next(selected): client " + std::to_string(selected[j]) +
                                  " at position " + std::to_string(j) + " is not in [0, " +
                                  std::to_string(clients()) + ") or not ascending");
    if (!options_.availability.online(selected[j], start))
      throw std::invalid_argument("FederatedClock::next(selected): client " + std::to_string(selected[j]) +
                                  " is offline when round " + std::to_string(index_) + " starts at " +
                                  number_text(start));
  }
  return participation_round(std::vector<int>(selected.begin(), selected.end()));
}

ClockState FederatedClock::state() const { return {index_, version_, sent_, returns_, round_end_}; }

void FederatedClock::restore(const ClockState& state) {
  const std::size_t n = tau_.size();
  if (state.version.size() != n || state.sent.size() != n || state.returns.size() != n || state.index < 0)
    throw std::invalid_argument("FederatedClock::restore: a state of " + std::to_string(state.version.size()) +
                                " clients at update " + std::to_string(state.index) + " for a clock of " +
                                std::to_string(n) + " clients");
  index_ = state.index;
  version_ = state.version;
  sent_ = state.sent;
  returns_ = state.returns;
  round_end_ = state.round_end;
}

double FederatedClock::round_start() const {
  const Availability& trace = options_.availability;
  if (trace.always()) return round_end_;
  double start = std::numeric_limits<double>::infinity();
  for (int i = 0; i < clients(); ++i) start = std::min(start, trace.next_online(i, round_end_));
  if (!std::isfinite(start))
    throw input_error("availability: no client of '" + trace.source() + "' is online at or after virtual time " +
                      number_text(round_end_) + ", when round " + std::to_string(index_) +
                      " would start: extend the trace or lower steps");
  return start;
}

std::vector<int> FederatedClock::online() const {
  return options_.availability.online_at(clients(), round_start());
}

std::vector<int> FederatedClock::sample_round() const {
  const std::vector<int> candidates = online();
  const std::vector<int> picks = uniform_round_clients(static_cast<int>(candidates.size()),
                                                       options_.clients_per_round, options_.seed, index_);
  std::vector<int> sample;
  for (const int p : picks) sample.push_back(candidates[static_cast<std::size_t>(p)]);
  return sample;
}

ServerUpdate FederatedClock::participation_round(std::vector<int> selected) {
  // The selected clients start together; the server waits for the slowest of them, at most the deadline.
  // Weights 1/|returned| over the clients that returned in time, failed to return by chance (dropout), or
  // went offline before their job ended (availability).
  ServerUpdate update;
  update.index = index_;
  update.selected = std::move(selected);
  const double start = round_start();
  update.online = static_cast<int>(options_.availability.online_at(clients(), start).size());
  double wait = 0;
  std::vector<int> returned;
  for (const int i : update.selected) {
    const double tau = tau_[static_cast<std::size_t>(i)];
    wait = std::max(wait, options_.deadline > 0 ? std::min(tau, options_.deadline) : tau);
    const bool late = options_.deadline > 0 && tau > options_.deadline;
    const auto round = static_cast<std::uint64_t>(index_), client = static_cast<std::uint64_t>(i);
    Rng fate(derive_seed(options_.seed, {fail_stream, round, client}));
    const bool failed = options_.dropout > 0 && fate.uniform() < options_.dropout;
    const bool gone = !options_.availability.online_throughout(i, start, start + tau);
    if (late || failed || gone) update.dropped.push_back(i);
    else returned.push_back(i);
  }
  update.time = round_end_ = start + wait;
  for (const int i : returned)
    update.contributions.push_back({i, index_, 0, 1.0 / static_cast<double>(returned.size()), start,
                                    start + tau_[static_cast<std::size_t>(i)]});
  std::sort(update.contributions.begin(), update.contributions.end(), by_return);
  ++index_;
  return update;
}

ServerUpdate FederatedClock::next() {
  const int n = clients();
  const double p = 1.0 / n;  // uniform client importance
  ServerUpdate update;
  update.index = index_;
  switch (rule_) {
    case AggregationRule::fedavg: {
      if (uses_participation(options_)) {
        if (selection_reads_losses(options_.selection))
          throw std::logic_error("FederatedClock::next: client-selection = " + to_string(options_.selection) +
                                 " chooses a round's clients from their losses; call next(selected)");
        return participation_round(sample_round());
      }
      // Every round starts together and lasts as long as the slowest client; times are exact multiples.
      const double slowest = *std::max_element(tau_.begin(), tau_.end());
      const double start = static_cast<double>(index_) * slowest;
      update.time = static_cast<double>(index_ + 1) * slowest;
      for (int i = 0; i < n; ++i)
        update.contributions.push_back({i, index_, 0, p, start, start + tau_[static_cast<std::size_t>(i)]});
      break;
    }
    case AggregationRule::async_fedavg:
    case AggregationRule::fedbuff: {
      const int take = rule_ == AggregationRule::fedbuff ? buffer_ : 1;
      std::vector<int> order(static_cast<std::size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + take, order.end(), [&](int a, int b) {
        const double ra = returns_[static_cast<std::size_t>(a)], rb = returns_[static_cast<std::size_t>(b)];
        return ra != rb ? ra < rb : a < b;
      });
      update.time = returns_[static_cast<std::size_t>(order[static_cast<std::size_t>(take - 1)])];
      for (int k = 0; k < take; ++k) {
        const auto i = static_cast<std::size_t>(order[static_cast<std::size_t>(k)]);
        const double weight = rule_ == AggregationRule::fedbuff ? 1.0 / buffer_ : async_scale_ * tau_[i] * p;
        update.contributions.push_back({static_cast<int>(i), version_[i], index_ - version_[i], weight, sent_[i],
                                        returns_[i]});
        sent_[i] = update.time;
        returns_[i] = update.time + tau_[i];
        version_[i] = index_ + 1;
      }
      break;
    }
    case AggregationRule::fedfix: {
      // Window k ends at (k+1) dt; a client sent theta^v at v dt returns in window v + windows - 1.
      update.time = static_cast<double>(index_ + 1) * dt_;
      for (int i = 0; i < n; ++i) {
        const auto s = static_cast<std::size_t>(i);
        if (version_[s] + windows_[s] - 1 != index_) continue;
        const double sent = static_cast<double>(version_[s]) * dt_;
        update.contributions.push_back({i, version_[s], index_ - version_[s], static_cast<double>(windows_[s]) * p,
                                        sent, sent + tau_[s]});
        version_[s] = index_ + 1;
      }
      break;
    }
  }
  std::sort(update.contributions.begin(), update.contributions.end(), by_return);
  ++index_;
  return update;
}

std::int64_t federated_updates_within(const FederatedOptions& options, double time) {
  if (!(time >= 0 && std::isfinite(time)))
    throw std::invalid_argument("virtual-time: must be a finite number >= 0, got " + number_text(time));
  if (selection_reads_losses(options.selection))
    throw std::invalid_argument("virtual-time: cannot be planned with client-selection = " +
                                to_string(options.selection) + " (a round lasts as long as the slowest client the "
                                "losses select); give steps instead");
  FederatedClock clock(options);
  std::int64_t count = 0;
  while (clock.next().time <= time)
    if (++count > max_updates)
      throw std::invalid_argument("virtual-time: " + number_text(time) + " holds more than 10^8 server updates");
  return count;
}

bool federated_bytes_exact(const FederatedOptions& options) noexcept {
  return !selection_reads_losses(options.selection) ||
         (options.dropout == 0 && options.deadline == 0 && options.availability.always());
}

std::uint64_t federated_bytes(const FederatedOptions& options, Eigen::Index parameter_count) {
  const auto message = static_cast<std::uint64_t>(parameter_count) * sizeof(float);
  if (selection_reads_losses(options.selection)) {
    // How many clients a selector scores and picks does not depend on the losses: replay it on zeros.
    check_federated_options(options, static_cast<int>(options.durations.size()));
    const int n = static_cast<int>(options.durations.size());
    ClientSelector selector(options.selection, n, options.clients_per_round, options.steps, options.seed);
    std::uint64_t bytes = 0;
    for (std::int64_t u = 0; u < options.steps; ++u)
      bytes += selection_round_bytes(selector, message);
    return bytes;
  }
  FederatedClock clock(options);
  if (uses_participation(options)) {  // the model to every selected client, an upload from every returned one
    std::uint64_t messages = 0;
    for (std::int64_t u = 0; u < options.steps; ++u) {
      const ServerUpdate update = clock.next();
      messages += update.selected.size() + update.contributions.size();
    }
    return messages * message;
  }
  std::uint64_t messages = static_cast<std::uint64_t>(clock.clients());  // theta^0 to every client
  for (std::int64_t u = 0; u < options.steps; ++u) {
    const auto returned = static_cast<std::uint64_t>(clock.next().contributions.size());
    messages += returned;                               // uploads
    if (u + 1 < options.steps) messages += returned;    // the new model to the clients that start again
  }
  return messages * message;
}

Eigen::VectorXf federated_initial_parameters(const Model& model, std::uint64_t seed) {
  Eigen::VectorXf theta(model.parameter_count());
  Rng rng(derive_seed(seed, {init_stream}));
  model.initialize(theta, rng);
  return theta;
}

std::uint64_t federated_sampler_seed(std::uint64_t seed, int client) {
  return derive_seed(seed, {sampler_stream, static_cast<std::uint64_t>(client)});
}

std::uint64_t federated_curriculum_seed(std::uint64_t seed, int client, std::int64_t version) {
  const auto i = static_cast<std::uint64_t>(client), v = static_cast<std::uint64_t>(version);
  return derive_seed(seed, {curriculum_stream, i, v});
}

namespace {

/// The server and this rank's clients.
class FederatedLoop {
public:
  FederatedLoop(const Comm& comm, const Placement& placement, const FederatedOptions& options, const Model& model,
                const Dataset& train_data, const std::vector<std::vector<Eigen::Index>>& shards,
                const Dataset& test_data, const Sgd& sgd, const LrSchedule& lr, Recorder* recorder)
      : comm_(comm), placement_(placement), options_(options), model_(model), train_(train_data), test_(test_data),
        sgd_(sgd), lr_(lr), recorder_(recorder), dim_(model.parameter_count()), n_(placement.nodes()),
        first_(placement.first(comm.rank())), count_(placement.count(comm.rank())),
        server_((check_federated_options(options, n_), options.server_optimizer), options.server_lr, options.steps,
                model.parameter_count()),
        clock_(options), stop_(comm, options.stop_flag) {
    if (placement.ranks() != comm.size())
      throw std::invalid_argument("train_federated: placement is for " + std::to_string(placement.ranks()) +
                                  " ranks, not " + std::to_string(comm.size()));
    if (static_cast<int>(shards.size()) != count_)
      throw std::invalid_argument("train_federated: " + std::to_string(shards.size()) + " shards for " +
                                  std::to_string(count_) + " local clients");
    if (train_.dim() != model.input_dim() || test_.dim() != model.input_dim())
      throw std::invalid_argument("train_federated: data has " + std::to_string(train_.dim()) +
                                  " features, the model expects " + std::to_string(model.input_dim()));
    if (options.fairness_positive >= 0) {
      if (!train_.classification() || options.fairness_positive >= train_.classes)
        throw std::invalid_argument("positive-class: " + std::to_string(options.fairness_positive) +
                                    " is not a class of the training data (" + std::to_string(train_.classes) +
                                    " classes)");
      if (train_.groups.size() != static_cast<std::size_t>(train_.size()))
        throw std::invalid_argument("train_federated: fairness needs a sensitive attribute for every training "
                                    "sample (Dataset::groups)");
    }
    theta_ = federated_initial_parameters(model, options.seed);
    if (selection_reads_losses(options.selection))
      selector_.emplace(options.selection, n_, options.clients_per_round, options.steps, options.seed);
    for (int k = 0; k < count_; ++k) {
      samplers_.emplace_back(shards[static_cast<std::size_t>(k)], options.batch, options.sampling,
                             federated_sampler_seed(options.seed, first_ + k));
      dropout_.emplace_back(derive_seed(options.seed, {dropout_stream, static_cast<std::uint64_t>(first_ + k)}));
    }
    const auto local = static_cast<std::size_t>(count_);
    local_.assign(local, Eigen::VectorXf(dim_));
    delta_.assign(local, Eigen::VectorXf(dim_));
    returned_.assign(local, Eigen::VectorXf());
    job_loss_.assign(local, 0.0f);
    last_loss_.assign(static_cast<std::size_t>(n_), std::numeric_limits<float>::quiet_NaN());
    grad_.resize(dim_);
    contribution_.resize(dim_);
    sum_.resize(dim_);
    result_.train.merged_accuracy = result_.train.local_accuracy = std::numeric_limits<double>::quiet_NaN();
    detail::check_checkpoint_options(options.checkpoint_every, options.checkpoint_path, options.stop_flag,
                                     "train_federated");
    const LocalCurriculum& curriculum = options.curriculum;
    if (curriculum.enabled && curriculum.scorer == CurriculumScorer::expert &&
        (curriculum.order == CurriculumOrder::curr || curriculum.order == CurriculumOrder::anti) &&
        options.expert.size() != static_cast<Eigen::Index>(dim_))
      throw std::invalid_argument("curriculum-score = expert: the expert has " + std::to_string(options.expert.size()) +
                                  " parameters, the model " + std::to_string(dim_) + " (FederatedOptions::expert)");
    if (options.resume) load(*options.resume);
  }

  FederatedResult run(const std::function<void(const TrainProgress&)>& progress) {
    start_ = MPI_Wtime() - elapsed_before_;  // a resumed run's clock goes on
    const std::int64_t steps = options_.steps;
    const bool resumed = first_update_ > 0;  // then the jobs in flight and the file's header are restored
    if (recorder_ && !resumed) describe_run();
    const bool sampled = uses_participation(options_);
    const auto run_round_jobs = [&](std::int64_t round) {  // participation: the round's selected clients start
      select_round(round);
      for (const int client : next_selected_)
        if (placement_.owner(client) == comm_.rank()) run_job(client - first_, round);
    };
    if (!resumed) {
      if (sampled) run_round_jobs(0);
      else
        for (int k = 0; k < count_; ++k) run_job(k, 0);
    }
    const auto message = static_cast<std::uint64_t>(dim_) * sizeof(float);
    // theta^0 to every client; with participation every round counts its own downloads.
    std::uint64_t bytes = sampled || resumed ? 0 : static_cast<std::uint64_t>(n_) * message;
    FederatedClock& clock = clock_;
    TrainProgress report;
    report.steps = steps;
    std::int64_t& staleness_sum = staleness_sum_;
    for (std::int64_t u = first_update_; u < steps; ++u) {
      const ServerUpdate update = sampled ? clock.next(next_selected_) : clock.next();
      const std::vector<int> scored = std::move(round_scored_);  // before the next round's selection
      const std::size_t refreshed = round_refreshed_;
      aggregate(update);
      const bool more = u + 1 < steps;
      if (sampled && more) run_round_jobs(u + 1);
      for (const Contribution& c : update.contributions) {
        if (!sampled && more && placement_.owner(c.client) == comm_.rank()) run_job(c.client - first_, u + 1);
        staleness_sum += c.staleness;
        result_.max_staleness = std::max(result_.max_staleness, c.staleness);
        record_contribution(u, c);
      }
      const auto returned = static_cast<std::uint64_t>(update.contributions.size());
      if (sampled) {
        round_online_.push_back(update.online);
        bytes += selector_ ? selection_bytes(scored, update.selected, refreshed, returned, message)
                           : (update.selected.size() + returned) * message;
        for (const int client : update.selected) {
          p_update_.push_back(u);
          p_client_.push_back(client);
          const bool dropped = std::find(update.dropped.begin(), update.dropped.end(), client) != update.dropped.end();
          p_returned_.push_back(dropped ? 0 : 1);
        }
      } else {
        bytes += returned * message * (more ? 2 : 1);
      }
      result_.train.bytes += bytes;
      result_.contributions += static_cast<std::int64_t>(returned);
      result_.virtual_time = update.time;
      update_time_.push_back(update.time);
      update_size_.push_back(static_cast<std::int64_t>(returned));
      const double wall = MPI_Wtime() - start_;
      if (recorder_) {
        std::vector<float> local_loss(last_loss_.begin() + first_, last_loss_.begin() + first_ + count_);
        recorder_->record_step(u, lr_.at(u), local_loss, bytes, wall);
      }
      bytes = 0;
      const bool last = !more;
      if ((u + 1) % options_.eval_every == 0 || last) evaluate(u, update.time);
      if (progress && options_.progress_every > 0 && ((u + 1) % options_.progress_every == 0 || last)) {
        double sum = 0;
        int finite = 0;
        for (float l : last_loss_)
          if (std::isfinite(l)) sum += l, ++finite;
        report.step = u + 1;
        report.mean_loss = finite ? sum / finite : std::numeric_limits<double>::quiet_NaN();
        report.merged_accuracy = result_.train.merged_accuracy;
        report.local_accuracy = result_.train.local_accuracy;
        report.seconds = MPI_Wtime() - start_;
        progress(report);
      }
      if (last) break;
      const bool stop = stop_.agreed();
      if (stop || (options_.checkpoint_every > 0 && (u + 1) % options_.checkpoint_every == 0)) save(u + 1);
      if (stop) {
        result_.train.stopped = true;
        result_.train.steps_done = result_.updates = u + 1;
        result_.train.seconds = MPI_Wtime() - start_;
        return result_;
      }
    }
    stop_.finish();
    result_.train.steps_done = steps;
    result_.updates = steps;
    result_.mean_staleness =
        result_.contributions ? static_cast<double>(staleness_sum) / static_cast<double>(result_.contributions) : 0;
    result_.train.merged_params = theta_;
    result_.train.seconds = MPI_Wtime() - start_;
    if (recorder_) {
      write_series();
      recorder_->finish(std::span<const float>(theta_.data(), static_cast<std::size_t>(dim_)));
    }
    return result_;
  }

private:
  /// Client k (local index) trains from the current theta, received as version `version`.
  void run_job(int k, std::int64_t version) {
    const auto s = static_cast<std::size_t>(k);
    Eigen::VectorXf& x = local_[s];
    x = theta_;
    SgdState state;  // a fresh optimizer state per job, as FedAvg clients start one per round
    const float lr = lr_.at(version);
    double sum = 0;
    std::optional<PacedSampler> paced;
    if (options_.curriculum.enabled) paced.emplace(curriculum_sampler(k, version));
    for (std::int64_t step = 0; step < options_.local_steps; ++step) {
      if (paced) gather_batch(train_, paced->next_indices(), batch_);
      else samplers_[s].next(train_, batch_);
      const float loss = model_.loss_and_gradient(x, batch_.x, objective_of(batch_, &dropout_[s]), grad_);
      if (!std::isfinite(loss) && first_bad_version_ < 0) {
        first_bad_version_ = version;
        first_bad_client_ = first_ + k;
        bad_value_ = loss;
      }
      sgd_.step(x, grad_, state, lr);
      sum += loss;
    }
    delta_[s] = x - theta_;
    job_loss_[s] = static_cast<float>(sum / static_cast<double>(options_.local_steps));
  }

  /// Chooses round `round`'s clients into next_selected_: uniformly, or (collective) by the losses a selection
  /// rule asks for, measured under the current theta and recorded.
  void select_round(std::int64_t round) {
    if (!selector_) {
      next_selected_ = clock_.sample_round();
      return;
    }
    if (!options_.availability.always()) selector_->offer(clock_.online());
    round_scored_ = selector_->wanted();
    const std::vector<double> losses = client_losses(round, round_scored_);
    next_selected_ = selector_->select(losses);
    const std::vector<int> fresh = selector_->refreshed();
    selector_->refresh(client_losses(round, fresh));
    round_refreshed_ = fresh.size();
  }

  /// Collective: the mean training loss under theta of each of `clients` (every rank computes its own, rounded to
  /// the float a client would send), recorded under /federated/selection_*.
  std::vector<double> client_losses(std::int64_t round, const std::vector<int>& clients) {
    std::vector<double> losses(clients.size(), 0.0);
    for (std::size_t j = 0; j < clients.size(); ++j) {
      if (placement_.owner(clients[j]) != comm_.rank()) continue;
      const std::span<const Eigen::Index> shard = samplers_[static_cast<std::size_t>(clients[j] - first_)].indices();
      const std::vector<float> each = curriculum_scores(model_, theta_, train_, shard, CurriculumMetric::loss);
      double sum = 0;
      for (float l : each) sum += l;
      losses[j] = static_cast<float>(sum / static_cast<double>(each.size()));
    }
    if (comm_.size() > 1 && !clients.empty()) comm_.allreduce(std::span<double>(losses), ReduceOp::sum);
    for (std::size_t j = 0; j < clients.size(); ++j) {
      if (!std::isfinite(losses[j]))
        throw divergence_error("training diverged: client " + std::to_string(clients[j]) + "'s loss under the "
                               "server model is " + number_text(losses[j]) + " when round " + std::to_string(round) +
                               " selects its clients (lower lr or server-lr)");
      s_update_.push_back(round);
      s_client_.push_back(clients[j]);
      s_loss_.push_back(losses[j]);
    }
    return losses;
  }

  /// Client k's curriculum for its job from theta^version: its shard scored by the scoring model (the received
  /// theta, its last returned model, both, or the expert), ordered and paced over the job's local steps.
  PacedSampler curriculum_sampler(int k, std::int64_t version) const {
    const LocalCurriculum& c = options_.curriculum;
    const auto s = static_cast<std::size_t>(k);
    const std::span<const Eigen::Index> shard = samplers_[s].indices();
    std::vector<float> scores;
    if (c.order != CurriculumOrder::curr && c.order != CurriculumOrder::anti) {
      scores.assign(shard.size(), 0.0f);  // rand and none do not read scores
    } else if (c.scorer == CurriculumScorer::expert) {
      scores = curriculum_scores(model_, options_.expert, train_, shard, c.metric);
    } else {
      const bool has_local = returned_[s].size() > 0;
      const bool global = c.scorer != CurriculumScorer::local || !has_local;
      if (global) scores = curriculum_scores(model_, theta_, train_, shard, c.metric);
      if (c.scorer != CurriculumScorer::global && has_local) {
        const std::vector<float> own = curriculum_scores(model_, returned_[s], train_, shard, c.metric);
        if (scores.empty()) scores = own;
        else
          for (std::size_t j = 0; j < scores.size(); ++j) scores[j] += own[j];
      }
    }
    return local_curriculum_sampler(c, shard, scores, options_.batch, options_.local_steps,
                                    federated_curriculum_seed(options_.seed, first_ + k, version));
  }

  /// Collective: theta += lr_g sum d_i delta_i over the update's contributions, in their order, in double.
  void aggregate(const ServerUpdate& update) {
    const auto& cs = update.contributions;
    if (cs.empty()) return;
    // This rank's contributions, each delta followed by its job's mean loss, then everyone's in rank order.
    const auto block = static_cast<std::size_t>(dim_) + 1;
    const int rank = comm_.rank();
    std::vector<float> mine;
    for (const Contribution& c : cs) {
      if (placement_.owner(c.client) != rank) continue;
      const auto k = static_cast<std::size_t>(c.client - first_);
      mine.insert(mine.end(), delta_[k].data(), delta_[k].data() + dim_);
      mine.push_back(job_loss_[k]);
      returned_[k].swap(local_[k]);  // the model it returned, for the local-model evals
    }
    const std::vector<float> all = comm_.size() > 1 ? comm_.allgatherv(std::span<const float>(mine)) : mine;
    std::vector<std::size_t> offset(cs.size());
    std::size_t position = 0;
    for (int r = 0; r < comm_.size(); ++r)
      for (std::size_t j = 0; j < cs.size(); ++j)
        if (placement_.owner(cs[j].client) == r) {
          offset[j] = position;
          position += block;
        }
    sum_.setZero();
    for (std::size_t j = 0; j < cs.size(); ++j) {
      // An aligned copy: every rank count runs the same kernel on the same memory layout.
      contribution_ = Eigen::Map<const Eigen::VectorXf>(all.data() + offset[j], dim_);
      sum_ += cs[j].weight * contribution_.cast<double>();
      last_loss_[static_cast<std::size_t>(cs[j].client)] = all[offset[j] + static_cast<std::size_t>(dim_)];
    }
    server_.apply(theta_, sum_, update.index);
  }

  void record_contribution(std::int64_t u, const Contribution& c) {
    c_update_.push_back(u);
    c_client_.push_back(c.client);
    c_version_.push_back(c.version);
    c_staleness_.push_back(c.staleness);
    c_weight_.push_back(c.weight);
    c_sent_.push_back(c.sent_time);
    c_return_.push_back(c.return_time);
  }

  /// Collective: /federated's attributes and the clients' durations.
  void describe_run() {
    recorder_->write_group_attribute("federated", "rule", to_string(options_.rule));
    recorder_->write_group_attribute("federated", "server_lr", options_.server_lr);
    const ServerOptimizerOptions& so = options_.server_optimizer;
    recorder_->write_group_attribute("federated", "server_optimizer", to_string(so.kind));
    recorder_->write_group_attribute("federated", "server_lr_schedule", to_string(so.schedule));
    recorder_->write_group_attribute("federated", "server_momentum", so.momentum);
    recorder_->write_group_attribute("federated", "server_dampening", so.dampening);
    recorder_->write_group_attribute("federated", "server_beta1", so.beta1);
    recorder_->write_group_attribute("federated", "server_beta2", so.beta2);
    recorder_->write_group_attribute("federated", "server_eps", so.eps);
    recorder_->write_group_attribute("federated", "server_weight_decay", so.weight_decay);
    recorder_->write_group_attribute("federated", "local_steps", static_cast<double>(options_.local_steps));
    recorder_->write_group_attribute("federated", "buffer_size", static_cast<double>(options_.buffer_size));
    recorder_->write_group_attribute("federated", "fedfix_dt", options_.fedfix_dt);
    if (uses_participation(options_)) {
      const auto per_round = static_cast<double>(options_.clients_per_round);
      recorder_->write_group_attribute("federated", "clients_per_round", per_round);
      recorder_->write_group_attribute("federated", "dropout", options_.dropout);
      recorder_->write_group_attribute("federated", "deadline", options_.deadline);
      recorder_->write_group_attribute("federated", "client_selection", to_string(options_.selection));
      if (!options_.availability.always())
        recorder_->write_group_attribute("federated", "availability", options_.availability.source());
    }
    if (options_.fairness_positive >= 0) {
      recorder_->write_group_attribute("fairness", "positive_class", static_cast<double>(options_.fairness_positive));
      recorder_->write_group_attribute("fairness", "clients", static_cast<double>(n_));
    }
    if (options_.curriculum.enabled) {
      const LocalCurriculum& c = options_.curriculum;
      recorder_->write_group_attribute("federated", "curriculum", to_string(c.order));
      recorder_->write_group_attribute("federated", "curriculum_score", to_string(c.scorer));
      recorder_->write_group_attribute("federated", "curriculum_metric", to_string(c.metric));
      recorder_->write_group_attribute("federated", "pacing", to_string(c.pacing));
      recorder_->write_group_attribute("federated", "pacing_a", c.a);
      recorder_->write_group_attribute("federated", "pacing_b", c.b);
    }
    recorder_->append_series("federated", "client_time", std::span<const double>(options_.durations));
    written_["federated/client_time"] = static_cast<std::int64_t>(options_.durations.size());
  }

  /// Collective: appends the buffered per-update, per-contribution and per-eval series under /federated.
  void write_series() {
    const auto ints = [&](const char* name, std::vector<std::int64_t>& v) {
      recorder_->append_series("federated", name, std::span<const std::int64_t>(v));
      written_[std::string("federated/") + name] += static_cast<std::int64_t>(v.size());
      v.clear();
    };
    const auto doubles = [&](const char* name, std::vector<double>& v) {
      recorder_->append_series("federated", name, std::span<const double>(v));
      written_[std::string("federated/") + name] += static_cast<std::int64_t>(v.size());
      v.clear();
    };
    doubles("time", update_time_);
    ints("contributions", update_size_);
    ints("update", c_update_);
    ints("client", c_client_);
    ints("version", c_version_);
    ints("staleness", c_staleness_);
    doubles("weight", c_weight_);
    doubles("sent_time", c_sent_);
    doubles("return_time", c_return_);
    if (uses_participation(options_)) {
      ints("participant_update", p_update_);
      ints("participant_client", p_client_);
      ints("participant_returned", p_returned_);
      if (!options_.availability.always()) ints("online", round_online_);
    }
    if (selector_) {
      ints("selection_update", s_update_);
      ints("selection_client", s_client_);
      doubles("selection_loss", s_loss_);
    }
    doubles("eval_time", eval_time_);
    doubles("eval_wall_s", eval_wall_);
    if (options_.fairness_positive >= 0) {
      recorder_->append_series("fairness", "step", std::span<const std::int64_t>(f_step_));
      written_["fairness/step"] += static_cast<std::int64_t>(f_step_.size());
      f_step_.clear();
      for (const auto& [name, series] :
           {std::pair{"unique", &f_unique_}, {"redundant", &f_redundant_}, {"synergistic", &f_synergistic_},
            {"unique_client", &f_unique_client_}, {"mi_global", &f_mi_global_}, {"mi_local", &f_mi_local_},
            {"mi_client", &f_mi_client_}, {"statistical_parity", &f_parity_}, {"local_parity", &f_local_parity_},
            {"counts", &f_counts_}}) {
        recorder_->append_series("fairness", name, std::span<const double>(*series));
        written_[std::string("fairness/") + name] += static_cast<std::int64_t>(series->size());
        series->clear();
      }
    }
  }

  /// Collective: the server model on the test set, the clients' last returned models, their distances to it.
  void evaluate(std::int64_t u, double time) {
    check_divergence();
    // The test set is cut into one chunk per client, evaluated by the client's rank and summed in client
    // order, so the sums do not depend on the rank count.
    const Eigen::Index n_test = test_.size();
    std::vector<double> sums(2 * static_cast<std::size_t>(count_), 0.0);
    for (int k = 0; k < count_; ++k) {
      const Eigen::Index node = first_ + k, lo = n_test * node / n_, hi = n_test * (node + 1) / n_;
      if (hi == lo) continue;
      const Evaluation e = evaluate_on(theta_, lo, hi - lo);
      sums[2 * static_cast<std::size_t>(k)] = e.loss * static_cast<double>(hi - lo);
      sums[2 * static_cast<std::size_t>(k) + 1] = e.accuracy * static_cast<double>(hi - lo);
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> local_loss(static_cast<std::size_t>(count_), nan), local_accuracy = local_loss,
                        distance = local_loss;
    for (int k = 0; k < count_; ++k) {
      const auto s = static_cast<std::size_t>(k);
      if (returned_[s].size() == 0) continue;  // not returned yet
      distance[s] = (returned_[s] - theta_).cast<double>().squaredNorm();
      if (!options_.evaluate_clients) continue;  // local_* stay NaN
      const Evaluation e = evaluate_on(returned_[s], 0, n_test);
      local_loss[s] = e.loss;
      local_accuracy[s] = e.accuracy;
    }
    const std::vector<double> all_sums = gather(sums), all_accuracy = gather(local_accuracy),
                              all_distance = gather(distance);
    double loss = 0, accuracy = 0;
    for (std::size_t j = 0; j < all_sums.size(); j += 2) {
      loss += all_sums[j];
      accuracy += all_sums[j + 1];
    }
    TrainResult& r = result_.train;
    r.merged_loss = loss / static_cast<double>(n_test);
    r.merged_accuracy = model_.classification() ? accuracy / static_cast<double>(n_test) : nan;
    r.local_accuracy = finite_mean(all_accuracy);
    r.consensus_distance = finite_mean(all_distance);
    eval_time_.push_back(time);
    eval_wall_.push_back(MPI_Wtime() - start_);
    if (options_.fairness_positive >= 0) measure_fairness(u);
    if (recorder_) {
      write_series();
      recorder_->record_eval({u, r.merged_loss, r.merged_accuracy, local_loss, local_accuracy, r.consensus_distance,
                              distance});
    }
  }

  /// Collective: the (client, Z, Yhat) histogram of the server model's predictions on every client's shard, with
  /// Yhat = 1[predicted class == fairness_positive] (each client sends its 4 counts), and its information terms.
  void measure_fairness(std::int64_t u) {
    const auto positive = options_.fairness_positive;
    std::vector<double> counts(static_cast<std::size_t>(4 * n_), 0.0);
    Batch batch;
    std::vector<int> predicted;
    constexpr std::size_t chunk = 1024;
    for (int k = 0; k < count_; ++k) {
      const std::span<const Eigen::Index> shard = samplers_[static_cast<std::size_t>(k)].indices();
      for (std::size_t first = 0; first < shard.size(); first += chunk) {
        const std::span<const Eigen::Index> part = shard.subspan(first, std::min(chunk, shard.size() - first));
        gather_batch(train_, part, batch);
        model_.predict(theta_, batch.x, predicted);
        for (std::size_t j = 0; j < part.size(); ++j) {
          const int z = train_.groups[static_cast<std::size_t>(part[j])];
          const int yhat = predicted[j] == positive ? 1 : 0;
          counts[static_cast<std::size_t>(((first_ + k) * 2 + z) * 2 + yhat)] += 1;
        }
      }
    }
    if (comm_.size() > 1) comm_.allreduce(std::span<double>(counts), ReduceOp::sum);
    FairnessCounts histogram(n_);
    for (int client = 0; client < n_; ++client)
      for (int z = 0; z < 2; ++z)
        for (int yhat = 0; yhat < 2; ++yhat)
          histogram.add(client, z, yhat, counts[static_cast<std::size_t>((client * 2 + z) * 2 + yhat)]);
    const PidTerms pid = partial_information_decomposition(histogram);
    const std::vector<double> local = local_statistical_parity(histogram);
    f_step_.push_back(u);
    for (const auto& [series, value] :
         {std::pair{&f_unique_, pid.unique}, {&f_redundant_, pid.redundant}, {&f_synergistic_, pid.synergistic},
          {&f_unique_client_, pid.unique_client}, {&f_mi_global_, pid.mi_global}, {&f_mi_local_, pid.mi_local},
          {&f_mi_client_, pid.mi_client}, {&f_parity_, statistical_parity(histogram)}})
      series->push_back(value);
    f_local_parity_.insert(f_local_parity_.end(), local.begin(), local.end());
    f_counts_.insert(f_counts_.end(), counts.begin(), counts.end());
  }

  /// Collective: the complete state before update `next` (docs/reliability.md), after checking the jobs were
  /// finite, with every buffered series written and the file flushed, so it holds exactly the updates before it.
  void save(std::int64_t next) {
    check_divergence();
    if (recorder_) {
      write_series();
      recorder_->flush();
    }
    const RecorderPosition at = recorder_ ? recorder_->position() : RecorderPosition{};
    CheckpointWriter w(comm_, placement_, options_.checkpoint_path);
    detail::write_header(w, {federated_checkpoint_format, options_.checkpoint_config, to_string(options_.rule), n_,
                             placement_.ranks(), static_cast<std::int64_t>(dim_), next});
    w.attribute("elapsed_seconds", MPI_Wtime() - start_);
    const TrainResult& r = result_.train;
    w.attribute("bytes", static_cast<std::int64_t>(r.bytes));
    w.attribute("merged_loss", r.merged_loss);
    w.attribute("merged_accuracy", r.merged_accuracy);
    w.attribute("local_accuracy", r.local_accuracy);
    w.attribute("consensus_distance", r.consensus_distance);
    w.attribute("contributions", result_.contributions);
    w.attribute("virtual_time", result_.virtual_time);
    w.attribute("max_staleness", result_.max_staleness);
    w.attribute("staleness_sum", staleness_sum_);
    w.attribute("recorder_steps", at.steps);
    w.attribute("recorder_evals", at.evals);
    w.attribute("recorder_landscapes", at.landscapes);
    // The file's series and their lengths, to cut them back to on resume.
    std::string names;
    std::vector<std::int64_t> rows;
    for (const auto& [name, count] : written_) {
      names += (names.empty() ? "" : "\n") + name;
      rows.push_back(count);
    }
    w.attribute("series", names);
    put(w, "series_rows", rows);
    // The server: its model, its optimizer, its clock and its selection.
    w.shared<float>("theta", std::span<const float>(theta_.data(), static_cast<std::size_t>(dim_)));
    const Eigen::VectorXd &m = server_.first_moment(), &v = server_.second_moment();
    put(w, "server_m", std::vector<double>(m.data(), m.data() + m.size()));
    put(w, "server_v", std::vector<double>(v.data(), v.data() + v.size()));
    w.attribute("server_steps", server_.steps());
    put(w, "last_loss", std::vector<double>(last_loss_.begin(), last_loss_.end()));
    const ClockState clock = clock_.state();
    w.attribute("clock_index", clock.index);
    w.attribute("clock_round_end", clock.round_end);
    put(w, "clock_version", clock.version);
    put(w, "clock_sent", clock.sent);
    put(w, "clock_returns", clock.returns);
    put(w, "next_selected", ints(next_selected_));
    put(w, "round_scored", ints(round_scored_));
    w.attribute("round_refreshed", static_cast<std::int64_t>(round_refreshed_));
    if (selector_) {
      const SelectorState state = selector_->state();
      w.attribute("selector_round", state.round);
      put(w, "selector_pool", ints(state.pool));
      put(w, "selector_last", ints(state.last));
      put(w, "selector_loss", state.loss);
      w.attribute("selector_passes", static_cast<std::int64_t>(state.pass.passes));
      w.attribute("selector_updates", static_cast<std::int64_t>(state.pass.updates));
      w.attribute("selector_position", static_cast<std::int64_t>(state.pass.position));
      put(w, "selector_pass_pool", ints(state.pass.pool));
    }
    // This rank's clients: the job in flight, the last returned model, the sampler and the dropout stream.
    const auto count = static_cast<std::size_t>(count_), dim = static_cast<std::size_t>(dim_);
    detail::save_vectors(w, "client_local", count, dim, [&](int k) -> const Eigen::VectorXf& { return local_[static_cast<std::size_t>(k)]; });
    detail::save_vectors(w, "client_delta", count, dim, [&](int k) -> const Eigen::VectorXf& { return delta_[static_cast<std::size_t>(k)]; });
    detail::save_vectors(w, "client_returned", count, dim, [&](int k) -> const Eigen::VectorXf& { return returned_[static_cast<std::size_t>(k)]; });
    w.node_rows<float>("client_job_loss", 1, job_loss_);
    std::vector<std::uint64_t> batches;
    for (const Sampler& sampler : samplers_) batches.push_back(sampler.state().batches);
    w.node_rows<std::uint64_t>("client_sampler_batches", 1, batches);
    detail::save_rngs(w, "client_dropout_rng", count, [&](int k) -> const Rng& { return dropout_[static_cast<std::size_t>(k)]; });
    w.commit();
  }

  /// Restores what save() wrote (every rank reads its own clients' rows) and cuts the file's series back.
  void load(const CheckpointReader& r) {
    const auto fail = [&](const std::string& what) { throw checkpoint_error("checkpoint '" + r.path() + "': " + what); };
    first_update_ = detail::check_header(r, {federated_checkpoint_format, "", to_string(options_.rule), n_, 0,
                                             static_cast<std::int64_t>(dim_), options_.steps},
                                         "clients", "update");
    elapsed_before_ = r.double_attribute("elapsed_seconds");
    TrainResult& t = result_.train;
    t.bytes = static_cast<std::uint64_t>(r.int_attribute("bytes"));
    t.merged_loss = r.double_attribute("merged_loss");
    t.merged_accuracy = r.double_attribute("merged_accuracy");
    t.local_accuracy = r.double_attribute("local_accuracy");
    t.consensus_distance = r.double_attribute("consensus_distance");
    result_.contributions = r.int_attribute("contributions");
    result_.virtual_time = r.double_attribute("virtual_time");
    result_.max_staleness = r.int_attribute("max_staleness");
    staleness_sum_ = r.int_attribute("staleness_sum");
    const std::vector<float> theta = r.shared<float>("theta");
    if (theta.size() != static_cast<std::size_t>(dim_)) fail("theta has " + std::to_string(theta.size()) + " entries");
    theta_ = Eigen::Map<const Eigen::VectorXf>(theta.data(), dim_);
    const std::vector<double> m = take<double>(r, "server_m"), v = take<double>(r, "server_v");
    try {
      server_.restore(Eigen::Map<const Eigen::VectorXd>(m.data(), static_cast<Eigen::Index>(m.size())),
                      Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size())),
                      r.int_attribute("server_steps"));
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
    const std::vector<double> last = take<double>(r, "last_loss");
    if (last.size() != last_loss_.size()) fail("last_loss has " + std::to_string(last.size()) + " entries");
    std::copy(last.begin(), last.end(), last_loss_.begin());
    try {
      clock_.restore({r.int_attribute("clock_index"), take<std::int64_t>(r, "clock_version"),
                      take<double>(r, "clock_sent"), take<double>(r, "clock_returns"),
                      r.double_attribute("clock_round_end")});
      next_selected_ = narrow(take<std::int64_t>(r, "next_selected"));
      round_scored_ = narrow(take<std::int64_t>(r, "round_scored"));
      round_refreshed_ = static_cast<std::size_t>(r.int_attribute("round_refreshed"));
      if (selector_) {
        SelectorState state;
        state.round = r.int_attribute("selector_round");
        state.pool = narrow(take<std::int64_t>(r, "selector_pool"));
        state.last = narrow(take<std::int64_t>(r, "selector_last"));
        state.loss = take<double>(r, "selector_loss");
        state.pass.passes = static_cast<std::uint64_t>(r.int_attribute("selector_passes"));
        state.pass.updates = static_cast<Eigen::Index>(r.int_attribute("selector_updates"));
        state.pass.position = static_cast<std::size_t>(r.int_attribute("selector_position"));
        state.pass.pool = narrow(take<std::int64_t>(r, "selector_pass_pool"));
        selector_->restore(state);
      }
    } catch (const checkpoint_error&) {
      throw;
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
    const auto dim = static_cast<std::size_t>(dim_);
    for (int k = 0; k < count_; ++k) {
      const auto s = static_cast<std::size_t>(k);
      const int client = first_ + k;
      detail::load_vector(r, "client_local", client, dim, local_[s]);
      detail::load_vector(r, "client_delta", client, dim, delta_[s]);
      detail::load_vector(r, "client_returned", client, dim, returned_[s]);
      job_loss_[s] = r.node_row<float>("client_job_loss", client, 1)[0];
      samplers_[s].restore({r.node_row<std::uint64_t>("client_sampler_batches", client, 1)[0]});
      detail::load_rng(r, "client_dropout_rng", client, dropout_[s]);
    }
    // The series, cut back to the checkpoint (a run that went on after it may have written more).
    const std::string names = r.string_attribute("series");
    const std::vector<std::int64_t> rows = take<std::int64_t>(r, "series_rows");
    std::size_t begin = 0, j = 0;
    while (begin < names.size() && j < rows.size()) {
      const std::size_t end = std::min(names.find('\n', begin), names.size());
      const std::string path = names.substr(begin, end - begin);
      const std::size_t slash = path.find('/');
      if (slash == std::string::npos) fail("series name '" + path + "' has no group");
      written_[path] = rows[j];
      if (recorder_) recorder_->cut_series(path.substr(0, slash), path.substr(slash + 1), rows[j]);
      begin = end + 1;
      ++j;
    }
    if (j != rows.size()) fail("names " + std::to_string(j) + " series for " + std::to_string(rows.size()) + " lengths");
  }

  /// A possibly empty vector as a shared dataset NAME with its length in the attribute NAME_size.
  template <class T>
  static void put(CheckpointWriter& w, const std::string& name, const std::vector<T>& values) {
    w.attribute(name + "_size", static_cast<std::int64_t>(values.size()));
    if (!values.empty()) w.shared<T>(name, std::span<const T>(values));
  }
  template <class T>
  static std::vector<T> take(const CheckpointReader& r, const std::string& name) {
    return r.int_attribute(name + "_size") == 0 ? std::vector<T>{} : r.shared<T>(name);
  }
  static std::vector<std::int64_t> ints(const std::vector<int>& values) {
    return std::vector<std::int64_t>(values.begin(), values.end());
  }
  static std::vector<int> narrow(const std::vector<std::int64_t>& values) {
    std::vector<int> out;
    for (const std::int64_t value : values) {
      if (value < 0 || value > std::numeric_limits<int>::max())
        throw std::invalid_argument("a client id " + std::to_string(value) + " out of range");
      out.push_back(static_cast<int>(value));
    }
    return out;
  }

  std::vector<double> gather(const std::vector<double>& mine) const {
    return comm_.size() > 1 ? comm_.allgatherv(std::span<const double>(mine)) : mine;
  }

  static double finite_mean(const std::vector<double>& values) {
    double sum = 0;
    int count = 0;
    for (double v : values)
      if (!std::isnan(v)) sum += v, ++count;
    return count ? sum / count : std::numeric_limits<double>::quiet_NaN();
  }

  Evaluation evaluate_on(const Eigen::Ref<const Eigen::VectorXf>& params, Eigen::Index first,
                         Eigen::Index count) const {
    const std::span<const int> labels =
        test_.labels.empty() ? std::span<const int>{}
                             : std::span<const int>(test_.labels).subspan(static_cast<std::size_t>(first),
                                                                         static_cast<std::size_t>(count));
    const Eigen::VectorXf targets =
        test_.targets.size() ? Eigen::VectorXf(test_.targets.segment(first, count)) : Eigen::VectorXf();
    return model_.evaluate(params, test_.features.middleCols(first, count), labels, targets);
  }

  void check_divergence() {
    // The earliest (version, client) with a non-finite loss on any rank, as one number for a min-reduction.
    const std::int64_t none = std::numeric_limits<std::int64_t>::max();
    const std::int64_t mine = first_bad_version_ < 0 ? none : first_bad_version_ * n_ + first_bad_client_;
    const std::int64_t first = comm_.allreduce(mine, ReduceOp::min);
    if (first == none) return;
    throw divergence_error("training diverged: the loss of client " + std::to_string(first % n_) + " became " +
                           (mine == first ? number_text(bad_value_) : std::string("non-finite")) +
                           " in its job from server model version " + std::to_string(first / n_) +
                           " (lower lr or server-lr, or clip gradients with clip-value / clip-norm)");
  }

  const Comm& comm_;
  const Placement& placement_;
  const FederatedOptions& options_;
  const Model& model_;
  const Dataset& train_;
  const Dataset& test_;
  const Sgd& sgd_;
  const LrSchedule& lr_;
  Recorder* recorder_;
  Eigen::Index dim_;
  int n_, first_, count_;
  ServerOptimizer server_;                  // applies the aggregated update to theta
  FederatedClock clock_;                    // which clients each update aggregates, and when
  double start_ = 0;
  Eigen::VectorXf theta_;                   // the server model, the same on every rank
  std::vector<Sampler> samplers_;           // this rank's clients
  std::vector<Rng> dropout_;                // their streams for stochastic layers
  std::vector<Eigen::VectorXf> local_, delta_, returned_;  // the job in flight: its model, its update; the last returned model
  std::vector<float> job_loss_;             // mean loss of the job in flight
  std::vector<float> last_loss_;            // every client: mean loss of its last aggregated job (NaN before)
  Batch batch_;
  Eigen::VectorXf grad_, contribution_;
  Eigen::VectorXd sum_;
  std::int64_t first_bad_version_ = -1;
  int first_bad_client_ = -1;
  float bad_value_ = 0;
  FederatedResult result_;
  // Buffered /federated series, written at every eval.
  std::vector<double> update_time_, c_weight_, c_sent_, c_return_, eval_time_, eval_wall_;
  std::vector<std::int64_t> update_size_, c_update_, c_client_, c_version_, c_staleness_;
  std::vector<std::int64_t> p_update_, p_client_, p_returned_;  // participation: every selected client per round
  std::vector<std::int64_t> round_online_;   // participation: clients online at each round's start
  std::vector<std::int64_t> s_update_, s_client_;  // every loss a selection rule read: its round and client
  std::vector<double> s_loss_;
  std::optional<ClientSelector> selector_;         // a loss-reading selection rule
  // Buffered /fairness series, one value per eval (local_parity: n per eval, counts: 4 n per eval).
  std::vector<std::int64_t> f_step_;
  std::vector<double> f_unique_, f_redundant_, f_synergistic_, f_unique_client_, f_mi_global_, f_mi_local_,
      f_mi_client_, f_parity_, f_local_parity_, f_counts_;
  std::vector<int> next_selected_;                 // the clients of the round about to be aggregated
  std::vector<int> round_scored_;                  // the clients that round scored before selecting
  std::size_t round_refreshed_ = 0;                // the losses it refreshed after selecting
  std::int64_t staleness_sum_ = 0;                 // over every contribution so far
  std::map<std::string, std::int64_t> written_;    // rows written to each /group/series (checkpoints)
  std::int64_t first_update_ = 0;                  // > 0 when resumed from a checkpoint
  double elapsed_before_ = 0;                      // seconds the run had taken before the checkpoint
  detail::StopAgreement stop_;                     // the ranks' agreement to stop on a signal
};

}  // namespace

FederatedResult train_federated(const Comm& comm, const Placement& placement, const FederatedOptions& options,
                                const Model& model, const Dataset& train_data,
                                const std::vector<std::vector<Eigen::Index>>& local_shards, const Dataset& test_data,
                                const Sgd& sgd, const LrSchedule& lr, Recorder* recorder,
                                const std::function<void(const TrainProgress&)>& progress) {
  const detail::FlushDenormals flush(options.flush_denormals);
  FederatedLoop loop(comm, placement, options, model, train_data, local_shards, test_data, sgd, lr, recorder);
  return loop.run(progress);
}

}  // namespace decent
