// Federated training on real ranks: the server update against a dense reference, FedBuff(c = all) against
// FedAvg, records that do not depend on the rank count, and training that learns.
#include "support/index_range.hpp"
#include "support/mpi_files.hpp"
#include "decent/algo/federated.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <optional>

#include "decent/data/dataset.hpp"
#include "decent/data/partition.hpp"
#include "decent/data/synthetic.hpp"
#include "decent/io/recorder.hpp"
#include "decent/model/factory.hpp"

using namespace decent;

namespace {

/// A Gaussian mixture split into train and test, 6 clients with skewed shards.
struct Problem {
  Dataset all = gaussian_mixture(4, 8, 800, 2.5, 3);
  Dataset train = subset(all, test::index_range(0, 600), "train");
  Dataset test = subset(all, test::index_range(600, 200), "test");
  int nodes = 6;
  Partition shards = partition_dirichlet(train.labels, 4, 6, 0.5, 80, 7);
  std::unique_ptr<Model> model = make_model("softmax", 8, 4, {}, 0.0f);
};

FederatedOptions options_for(AggregationRule rule, int nodes) {
  FederatedOptions o;
  o.rule = rule;
  o.durations = spread_durations(nodes, 80);  // 1, 0.84, 0.68, 0.52, 0.36, 0.2
  o.local_steps = 3;
  o.server_lr = 0.8;
  o.buffer_size = 3;
  o.fedfix_dt = 0.3;  // ceil(tau / dt) = 4, 3, 3, 2, 2, 1, none of them a tie
  o.steps = 24;
  o.batch = 8;
  o.eval_every = 5;
  o.seed = 13;
  return o;
}

Sgd sgd_with_momentum() {
  SgdOptions s;
  s.momentum = 0.5f;  // a fresh state per job: the reference below starts one for every job too
  s.weight_decay = 1e-3f;
  return Sgd(s);
}

FederatedResult run(const Comm& comm, const Problem& p, const FederatedOptions& o, Recorder* recorder = nullptr) {
  const Placement placement(p.nodes, comm.size());
  const std::vector<std::vector<Eigen::Index>> local(p.shards.begin() + placement.first(comm.rank()),
                                                     p.shards.begin() + placement.first(comm.rank()) +
                                                         placement.count(comm.rank()));
  return train_federated(comm, placement, o, *p.model, p.train, local, p.test, sgd_with_momentum(),
                         make_lr_schedule("cosine", 0.2f, o.steps), recorder);
}

/// A dense, serial re-computation of the whole run from the rule's definition: every server version is kept,
/// client i's job from theta^v is SGD from theta^v on its own sampler, and
/// theta^{u+1} = theta^u + lr_g D d with D the deltas as columns and d the rule's weights.
Eigen::VectorXf reference_run(const Problem& p, const FederatedOptions& o) {
  const int n = p.nodes;
  const Model& model = *p.model;
  const Sgd sgd = sgd_with_momentum();
  const LrSchedule lr = make_lr_schedule("cosine", 0.2f, o.steps);
  std::vector<Eigen::VectorXf> versions{federated_initial_parameters(model, o.seed)};
  std::vector<Sampler> samplers;
  for (int i = 0; i < n; ++i)
    samplers.emplace_back(p.shards[static_cast<std::size_t>(i)], o.batch, o.sampling, federated_sampler_seed(o.seed, i));
  double inverse_sum = 0;
  for (double tau : o.durations) inverse_sum += 1 / tau;
  const auto weight = [&](int i) {
    const double tau = o.durations[static_cast<std::size_t>(i)];
    switch (o.rule) {
      case AggregationRule::fedavg: return 1.0 / n;
      case AggregationRule::async_fedavg: return inverse_sum * tau / n;
      case AggregationRule::fedbuff: return 1.0 / o.buffer_size;
      case AggregationRule::fedfix: return std::ceil(tau / o.fedfix_dt) / n;
    }
    return 0.0;
  };
  FederatedClock clock(o);
  Batch batch;
  Eigen::VectorXf g(model.parameter_count());
  std::vector<Eigen::VectorXf> last(static_cast<std::size_t>(n));  // each client's last returned model
  // With a curriculum: the shard's per-sample losses under a model, in one pass over the whole shard.
  const auto shard_loss = [&](int client, const Eigen::VectorXf& params) {
    const auto& shard = p.shards[static_cast<std::size_t>(client)];
    const Dataset samples = subset(p.train, shard, "shard");
    Eigen::VectorXf loss;
    model.per_sample_loss(params, samples.features, samples.labels, loss);
    return loss;
  };
  for (std::int64_t u = 0; u < o.steps; ++u) {
    const ServerUpdate update = clock.next();
    const auto count = static_cast<Eigen::Index>(update.contributions.size());
    Eigen::MatrixXd deltas(model.parameter_count(), count);
    Eigen::VectorXd d(count);
    for (Eigen::Index j = 0; j < count; ++j) {
      const Contribution& c = update.contributions[static_cast<std::size_t>(j)];
      const Eigen::VectorXf& from = versions[static_cast<std::size_t>(c.version)];
      Eigen::VectorXf x = from;
      SgdState state;
      std::optional<PacedSampler> paced;
      if (o.curriculum.enabled) {
        const Eigen::VectorXf& own = last[static_cast<std::size_t>(c.client)];
        Eigen::VectorXf score = own.size() == 0 || o.curriculum.scorer != CurriculumScorer::local
                                    ? shard_loss(c.client, from)
                                    : Eigen::VectorXf::Zero(0);
        if (own.size() > 0 && o.curriculum.scorer != CurriculumScorer::global)
          score = score.size() ? Eigen::VectorXf(score + shard_loss(c.client, own)) : shard_loss(c.client, own);
        const std::vector<float> scores(score.data(), score.data() + score.size());
        paced.emplace(local_curriculum_sampler(o.curriculum, p.shards[static_cast<std::size_t>(c.client)], scores,
                                               o.batch, o.local_steps,
                                               federated_curriculum_seed(o.seed, c.client, c.version)));
      }
      for (std::int64_t s = 0; s < o.local_steps; ++s) {
        if (paced) gather_batch(p.train, paced->next_indices(), batch);
        else samplers[static_cast<std::size_t>(c.client)].next(p.train, batch);
        model.loss_and_gradient(x, batch, g);
        sgd.step(x, g, state, lr.at(c.version));
      }
      last[static_cast<std::size_t>(c.client)] = x;
      deltas.col(j) = (x - from).cast<double>();
      d(j) = weight(c.client);
    }
    const Eigen::VectorXd next = versions.back().cast<double>() + o.server_lr * (deltas * d);
    versions.push_back(next.cast<float>());
  }
  return versions.back();
}

std::string scratch(const Comm& comm, const std::string& name) { return test::scratch_h5(comm, "fed", name); }

using test::read_doubles;

/// Bitwise equality, NaN equal to NaN (clients that have not returned yet record NaN).
bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

constexpr AggregationRule all_rules[] = {AggregationRule::fedavg, AggregationRule::async_fedavg,
                                         AggregationRule::fedbuff, AggregationRule::fedfix};

}  // namespace

TEST_CASE("every rule's server updates match a dense reference computation", "[federated]") {
  const Comm world = Comm::world();
  const Problem p;
  for (AggregationRule rule : all_rules) {
    INFO(to_string(rule));
    const FederatedOptions o = options_for(rule, p.nodes);
    const FederatedResult result = run(world, p, o);
    const Eigen::VectorXf expected = reference_run(p, o);
    REQUIRE(result.train.merged_params.size() == expected.size());
    const double scale = expected.cwiseAbs().maxCoeff();
    UNSCOPED_INFO("max |theta - reference| = " << (result.train.merged_params - expected).cwiseAbs().maxCoeff()
                                               << " of max |theta| = " << scale);
    // The reference sums with a matrix-vector product (another order, maybe fused): agreement to float rounding.
    CHECK((result.train.merged_params - expected).cwiseAbs().maxCoeff() <= 1e-5 * scale);
    // And the theta moved: the check above is not satisfied by two untrained models.
    CHECK((expected - federated_initial_parameters(*p.model, o.seed)).cwiseAbs().maxCoeff() > 1e-2 * scale);
  }
}

TEST_CASE("a data curriculum orders every job by the scoring model's losses, bitwise on any rank count",
          "[federated][curriculum]") {
  const Comm world = Comm::world();
  const Problem p;
  for (AggregationRule rule : all_rules)
    for (const CurriculumScorer scorer : {CurriculumScorer::global, CurriculumScorer::local, CurriculumScorer::both}) {
      INFO(to_string(rule) << ", scorer " << to_string(scorer));
      FederatedOptions o = options_for(rule, p.nodes);
      o.local_steps = 6;
      o.curriculum.enabled = true;
      o.curriculum.order = scorer == CurriculumScorer::both ? CurriculumOrder::anti : CurriculumOrder::curr;
      o.curriculum.scorer = scorer;
      o.curriculum.pacing = Pacing::quad;
      o.curriculum.a = 0.5;
      o.curriculum.b = 0.2;
      const FederatedResult result = run(world, p, o);
      const Eigen::VectorXf expected = reference_run(p, o);
      const double scale = expected.cwiseAbs().maxCoeff();
      // Scores differ from the reference's by float rounding at most; a reordering would change theta by far more.
      CHECK((result.train.merged_params - expected).cwiseAbs().maxCoeff() <= 1e-5 * scale);
      FederatedOptions plain = o;
      plain.curriculum.enabled = false;
      CHECK((reference_run(p, plain) - expected).cwiseAbs().maxCoeff() > 1e-3 * scale);
      if (world.rank() == 0) {
        const Comm self = Comm::self();
        const FederatedResult single = run(self, p, o);
        CHECK(single.train.merged_params == result.train.merged_params);
      }
    }
}

TEST_CASE("with equal speeds and c = all, FedBuff is synchronous FedAvg, bitwise", "[federated]") {
  const Comm world = Comm::world();
  const Problem p;
  FederatedOptions avg = options_for(AggregationRule::fedavg, p.nodes);
  avg.durations.assign(static_cast<std::size_t>(p.nodes), 0.7);
  FederatedOptions buff = avg;
  buff.rule = AggregationRule::fedbuff;
  buff.buffer_size = p.nodes;
  const FederatedResult a = run(world, p, avg), b = run(world, p, buff);
  REQUIRE(a.train.merged_params.size() == b.train.merged_params.size());
  // Same contributions, same order, same weights 1.0 / n, same kernel: the same bits.
  CHECK((a.train.merged_params.array() == b.train.merged_params.array()).all());
  CHECK(a.train.merged_loss == b.train.merged_loss);
  CHECK(a.contributions == b.contributions);
  CHECK(b.max_staleness == 0);
  // Waiting for all n is synchronous whatever the speeds: everyone restarts together after every update.
  FederatedOptions avg_spread = avg, buff_spread = buff;
  avg_spread.durations = buff_spread.durations = spread_durations(p.nodes, 80);
  const FederatedResult d = run(world, p, avg_spread), e = run(world, p, buff_spread);
  CHECK((d.train.merged_params.array() == e.train.merged_params.array()).all());
  CHECK((a.train.merged_params.array() == d.train.merged_params.array()).all());  // speeds only move the clock
  CHECK(d.virtual_time == Approx(e.virtual_time).epsilon(1e-12));
  // A smaller buffer does not reproduce FedAvg: the comparisons above can fail.
  buff.buffer_size = p.nodes / 2;
  const FederatedResult c = run(world, p, buff);
  CHECK((a.train.merged_params - c.train.merged_params).cwiseAbs().maxCoeff() > 1e-4);
  CHECK(c.max_staleness == 1);  // ties by client id: clients 0-2 go first, 3-5 wait one update
}

TEST_CASE("a federated run records the same bits on any number of ranks", "[federated]") {
  const Comm world = Comm::world();
  const Problem p;
  for (AggregationRule rule : all_rules) {
    INFO(to_string(rule));
    const FederatedOptions o = options_for(rule, p.nodes);
    const std::string distributed = scratch(world, "all_" + to_string(rule));
    const std::string single = scratch(world, "one_" + to_string(rule));
    {
      Recorder recorder(world, Placement(p.nodes, world.size()), distributed, {"", "", o.seed});
      run(world, p, o, &recorder);
    }
    if (world.rank() == 0) {
      const Comm self = Comm::self();
      Recorder recorder(self, Placement(p.nodes, 1), single, {"", "", o.seed});
      run(self, p, o, &recorder);
    }
    world.barrier();
    if (world.rank() == 0) {
      for (const char* name :
           {"/train/step", "/train/lr", "/train/loss", "/train/bytes_sent", "/eval/step", "/eval/merged_loss", "/eval/merged_acc",
            "/eval/local_loss", "/eval/local_acc", "/eval/consensus_distance", "/eval/distance_to_mean",
            "/final/merged_params", "/federated/time", "/federated/contributions", "/federated/update",
            "/federated/client", "/federated/version", "/federated/staleness", "/federated/weight",
            "/federated/sent_time", "/federated/return_time", "/federated/eval_time", "/federated/client_time"}) {
        INFO(name);
        CHECK(same(read_doubles(distributed, name), read_doubles(single, name)));
      }
      // The per-contribution records are the clock's, and add up.
      const auto time = read_doubles(distributed, "/federated/time");
      const auto counts = read_doubles(distributed, "/federated/contributions");
      const auto update = read_doubles(distributed, "/federated/update");
      const auto version = read_doubles(distributed, "/federated/version");
      const auto staleness = read_doubles(distributed, "/federated/staleness");
      CHECK(time.size() == static_cast<std::size_t>(o.steps));
      CHECK(std::accumulate(counts.begin(), counts.end(), 0.0) == static_cast<double>(update.size()));
      FederatedClock clock(o);
      std::size_t j = 0;
      for (std::int64_t u = 0; u < o.steps; ++u)
        for (const Contribution& c : clock.next().contributions) {
          REQUIRE(j < update.size());
          CHECK(update[j] == static_cast<double>(u));
          CHECK(version[j] == static_cast<double>(c.version));
          CHECK(staleness[j] == static_cast<double>(u - c.version));
          ++j;
        }
      CHECK(read_doubles(distributed, "/federated/eval_time").size() == read_doubles(distributed, "/eval/step").size());
      std::filesystem::remove(distributed);
      std::filesystem::remove(single);
    }
  }
}

TEST_CASE("every rule learns the synthetic problem, and a diverging run names the client", "[federated]") {
  const Comm world = Comm::world();
  const Problem p;
  const Evaluation initial = p.model->evaluate(federated_initial_parameters(*p.model, 13), p.test.features,
                                               p.test.labels, Eigen::VectorXf());
  for (AggregationRule rule : all_rules) {
    INFO(to_string(rule));
    FederatedOptions o = options_for(rule, p.nodes);
    o.steps = federated_updates_within(o, 12.0);  // the same virtual time for every rule
    const FederatedResult r = run(world, p, o);
    CHECK(r.train.merged_loss < 0.7 * initial.loss);
    CHECK(r.train.merged_accuracy > 0.6);  // 4 classes: chance is 0.25
    CHECK(r.virtual_time <= 12.0);
    CHECK(r.virtual_time > 10.0);
  }
  // Least squares with a step far above 2/L grows geometrically until the loss overflows to inf.
  const Dataset regression = teacher_student(8, 300, 0.1, 5);
  const Partition shards = partition_iid(300, p.nodes, 1);
  const auto linear = make_model("linear", 8, 1, {}, 0.0f);
  FederatedOptions o = options_for(AggregationRule::async_fedavg, p.nodes);
  o.steps = 200;
  o.eval_every = 100;
  const Placement placement(p.nodes, world.size());
  const std::vector<std::vector<Eigen::Index>> local(shards.begin() + placement.first(world.rank()),
                                                     shards.begin() + placement.first(world.rank()) +
                                                         placement.count(world.rank()));
  CHECK_THROWS_WITH(train_federated(world, placement, o, *linear, regression, local, regression, Sgd(SgdOptions{}),
                                    make_lr_schedule("constant", 50.0f, o.steps), nullptr),
                    Catch::Contains("training diverged") && Catch::Contains("client"));
}

TEST_CASE("loss-based client selection reads the clients' losses under the server model, bitwise on any rank count",
          "[federated][selection]") {
  const Comm world = Comm::world();
  const Problem p;
  const Eigen::VectorXf theta0 = federated_initial_parameters(*p.model, 13);
  for (const char* rule : {"power-of-choice:4", "high-loss:3", "curriculum"}) {
    for (const double dropout : {0.0, 0.3}) {
      INFO(rule << ", dropout " << dropout);
      FederatedOptions o = options_for(AggregationRule::fedavg, p.nodes);
      o.clients_per_round = 2;
      o.dropout = dropout;
      o.selection = parse_client_selection(rule);
      const std::string distributed = scratch(world, std::string("sel_all_") + rule);
      const std::string single = scratch(world, std::string("sel_one_") + rule);
      FederatedResult all;
      {
        Recorder recorder(world, Placement(p.nodes, world.size()), distributed, {"", "", o.seed});
        all = run(world, p, o, &recorder);
      }
      // Planned bytes are exact when every selected client returns, an upper bound otherwise.
      const std::uint64_t planned = federated_bytes(o, p.model->parameter_count());
      CHECK(federated_bytes_exact(o) == (dropout == 0));
      if (dropout == 0) CHECK(all.train.bytes == planned);
      else CHECK(all.train.bytes < planned);
      if (world.rank() == 0) {
        const Comm self = Comm::self();
        {
          Recorder recorder(self, Placement(p.nodes, 1), single, {"", "", o.seed});
          run(self, p, o, &recorder);
        }
        for (const char* name : {"/final/merged_params", "/federated/selection_update", "/federated/selection_client",
                                 "/federated/selection_loss", "/federated/participant_client",
                                 "/federated/participant_update", "/eval/merged_loss"}) {
          INFO(name);
          CHECK(same(read_doubles(distributed, name), read_doubles(single, name)));
        }
        const auto s_update = read_doubles(distributed, "/federated/selection_update");
        const auto s_client = read_doubles(distributed, "/federated/selection_client");
        const auto s_loss = read_doubles(distributed, "/federated/selection_loss");
        const auto p_update = read_doubles(distributed, "/federated/participant_update");
        const auto p_client = read_doubles(distributed, "/federated/participant_client");
        REQUIRE(!s_loss.empty());
        // Round 0's losses are the clients' mean losses under theta^0, computed here on each whole shard.
        for (std::size_t j = 0; j < s_loss.size() && s_update[j] == 0; ++j) {
          const auto client = static_cast<std::size_t>(s_client[j]);
          const Dataset shard = subset(p.train, p.shards[client], "shard");
          const double expected = p.model->evaluate(theta0, shard.features, shard.labels, Eigen::VectorXf()).loss;
          CHECK(s_loss[j] == Approx(expected).epsilon(1e-6));
        }
        if (std::string(rule).rfind("power-of-choice", 0) == 0) {
          // Every round scores 4 candidates and trains the 2 with the largest losses.
          for (std::int64_t u = 0; u < o.steps; ++u) {
            std::vector<std::pair<double, int>> candidates;
            for (std::size_t j = 0; j < s_loss.size(); ++j)
              if (s_update[j] == static_cast<double>(u))
                candidates.push_back({-s_loss[j], static_cast<int>(s_client[j])});
            REQUIRE(candidates.size() == 4);
            std::sort(candidates.begin(), candidates.end());
            std::vector<int> top = {candidates[0].second, candidates[1].second}, chosen;
            std::sort(top.begin(), top.end());
            for (std::size_t j = 0; j < p_update.size(); ++j)
              if (p_update[j] == static_cast<double>(u)) chosen.push_back(static_cast<int>(p_client[j]));
            CHECK(chosen == top);
          }
        }
        std::filesystem::remove(distributed);
        std::filesystem::remove(single);
      }
      world.barrier();
    }
  }
}

TEST_CASE("group fairness: every eval records the clients' (Z, Yhat) counts and their PID, bitwise on any rank count",
          "[federated][fairness]") {
  const Comm world = Comm::world();
  Problem p;
  // Z = 1 for most samples of classes 0 and 1, for a few of the others: Z and the labels are dependent.
  p.train.groups.resize(p.train.labels.size());
  for (std::size_t i = 0; i < p.train.groups.size(); ++i)
    p.train.groups[i] = (p.train.labels[i] <= 1) != (i % 7 == 0) ? 1 : 0;
  FederatedOptions o = options_for(AggregationRule::fedbuff, p.nodes);
  o.fairness_positive = 1;
  const std::string distributed = scratch(world, "fair_all");
  const std::string single = scratch(world, "fair_one");
  FederatedResult all;
  {
    Recorder recorder(world, Placement(p.nodes, world.size()), distributed, {"", "", o.seed});
    all = run(world, p, o, &recorder);
  }
  if (world.rank() == 0) {
    const Comm self = Comm::self();
    {
      Recorder recorder(self, Placement(p.nodes, 1), single, {"", "", o.seed});
      run(self, p, o, &recorder);
    }
    for (const char* name : {"/fairness/step", "/fairness/counts", "/fairness/unique", "/fairness/redundant",
                             "/fairness/synergistic", "/fairness/unique_client", "/fairness/mi_global",
                             "/fairness/mi_local", "/fairness/mi_client", "/fairness/statistical_parity",
                             "/fairness/local_parity"}) {
      INFO(name);
      CHECK(same(read_doubles(distributed, name), read_doubles(single, name)));
    }
    const auto steps = read_doubles(distributed, "/fairness/step");
    CHECK(steps == read_doubles(distributed, "/eval/step"));
    const std::size_t evals = steps.size();
    const auto counts = read_doubles(distributed, "/fairness/counts");
    REQUIRE(counts.size() == evals * 4 * static_cast<std::size_t>(p.nodes));
    // The last eval is of the final server model: count its predictions on every shard here.
    std::vector<int> predicted;
    for (int client = 0; client < p.nodes; ++client) {
      const auto& shard = p.shards[static_cast<std::size_t>(client)];
      const Dataset part = subset(p.train, shard, "shard");
      p.model->predict(all.train.merged_params, part.features, predicted);
      double expected[2][2] = {{0, 0}, {0, 0}};
      for (std::size_t j = 0; j < shard.size(); ++j) expected[part.groups[j]][predicted[j] == 1 ? 1 : 0] += 1;
      for (int z = 0; z < 2; ++z)
        for (int yhat = 0; yhat < 2; ++yhat)
          CHECK(counts[(evals - 1) * 4 * static_cast<std::size_t>(p.nodes) +
                       static_cast<std::size_t>((client * 2 + z) * 2 + yhat)] == expected[z][yhat]);
    }
    // The decomposition's identities, row by row.
    const auto uni = read_doubles(distributed, "/fairness/unique");
    const auto red = read_doubles(distributed, "/fairness/redundant");
    const auto syn = read_doubles(distributed, "/fairness/synergistic");
    const auto global = read_doubles(distributed, "/fairness/mi_global");
    const auto local = read_doubles(distributed, "/fairness/mi_local");
    for (std::size_t e = 0; e < evals; ++e) {
      CHECK(global[e] == Approx(uni[e] + red[e]).margin(1e-9));
      CHECK(local[e] == Approx(uni[e] + syn[e]).margin(1e-9));
    }
    CHECK(*std::max_element(global.begin(), global.end()) > 1e-3);  // the model picks up Z's link to the label
    std::filesystem::remove(distributed);
    std::filesystem::remove(single);
  }
  world.barrier();
}

TEST_CASE("without the clients' evals a federated run trains the same bits and records their accuracies as NaN",
          "[federated]") {
  const Comm world = Comm::world();
  const Problem p;
  FederatedOptions o = options_for(AggregationRule::fedavg, p.nodes);
  const std::string with = scratch(world, "clients_on"), without = scratch(world, "clients_off");
  {
    Recorder recorder(world, Placement(p.nodes, world.size()), with, {"", "", o.seed});
    run(world, p, o, &recorder);
  }
  o.evaluate_clients = false;
  FederatedResult off;
  {
    Recorder recorder(world, Placement(p.nodes, world.size()), without, {"", "", o.seed});
    off = run(world, p, o, &recorder);
  }
  CHECK(std::isnan(off.train.local_accuracy));
  if (world.rank() == 0) {
    for (const char* name : {"/final/merged_params", "/eval/merged_loss", "/eval/merged_acc", "/train/loss",
                             "/eval/consensus_distance"}) {
      INFO(name);
      CHECK(same(read_doubles(with, name), read_doubles(without, name)));
    }
    for (double v : read_doubles(without, "/eval/local_acc")) CHECK(std::isnan(v));
    for (double v : read_doubles(with, "/eval/local_acc")) CHECK(!std::isnan(v));
    std::filesystem::remove(with);
    std::filesystem::remove(without);
  }
  world.barrier();
}
