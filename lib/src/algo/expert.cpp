#include "decent/algo/expert.hpp"
#include "core/number_text.hpp"

#include <chrono>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "decent/core/error.hpp"
#include "decent/core/random.hpp"
#include "decent/data/sampler.hpp"
#include "decent/model/batch.hpp"
#include "decent/model/objective.hpp"

namespace decent {

using detail::number_text;

namespace {
constexpr std::uint64_t expert_stream = 0x45585054;  // "EXPT"
}  // namespace

void check_expert_options(const ExpertOptions& o) {
  if (o.epochs < 1) throw std::invalid_argument("expert-epochs: must be >= 1, got " + std::to_string(o.epochs));
  if (o.batch < 1) throw std::invalid_argument("expert-batch: must be >= 1, got " + std::to_string(o.batch));
  if (!(o.lr > 0) || !std::isfinite(o.lr))
    throw std::invalid_argument("expert-lr: must be a finite number > 0, got " + number_text(o.lr));
}

Expert train_expert(const Model& model, const Dataset& train, const ExpertOptions& o) {
  check_expert_options(o);
  if (!train.classification())
    throw std::invalid_argument("expert: grading difficulty needs class labels; data set '" + train.name +
                                "' is a regression task");
  if (o.batch > train.size())
    throw std::invalid_argument("expert-batch: " + std::to_string(o.batch) + " is larger than the " +
                                std::to_string(train.size()) + " training samples");
  const auto start = std::chrono::steady_clock::now();
  const Sgd sgd(o.sgd);
  Expert e;
  e.params.resize(model.parameter_count());
  Rng init(derive_seed(o.seed, {expert_stream, 0}));
  model.initialize(e.params, init);
  std::vector<Eigen::Index> all(static_cast<std::size_t>(train.size()));
  std::iota(all.begin(), all.end(), Eigen::Index{0});
  Sampler sampler(std::move(all), o.batch, SamplingMode::shuffled_epochs, derive_seed(o.seed, {expert_stream, 1}));
  Rng dropout(derive_seed(o.seed, {expert_stream, 2}));
  Eigen::VectorXf grad(model.parameter_count());
  Batch batch;
  SgdState state;
  const std::int64_t per_epoch = (train.size() + o.batch - 1) / o.batch;
  e.steps = o.epochs * per_epoch;
  double sum = 0;
  for (std::int64_t step = 0; step < e.steps; ++step) {
    sampler.next(train, batch);
    const float loss = model.loss_and_gradient(e.params, batch.x, objective_of(batch, &dropout), grad);
    if (!std::isfinite(loss))
      throw input_error("expert-lr: " + number_text(o.lr) + " makes the expert diverge (its training loss is " +
                        number_text(loss) + " at step " + std::to_string(step + 1) + " of " + std::to_string(e.steps) +
                        "); lower it");
    sgd.step(e.params, grad, state, o.lr);
    if (step >= e.steps - per_epoch) sum += loss;
  }
  e.last_epoch_loss = sum / static_cast<double>(per_epoch);
  const Evaluation whole = model.evaluate(e.params, train.features, train.labels, train.targets);
  e.train_loss = whole.loss;
  e.train_accuracy = whole.accuracy;
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

std::string describe(const ExpertOptions& o, const Expert& e) {
  return std::to_string(o.epochs) + (o.epochs == 1 ? " epoch" : " epochs") + " of batch " + std::to_string(o.batch) + " at lr " + number_text(o.lr) +
         " (momentum " + number_text(o.sgd.momentum) + ", weight decay " + number_text(o.sgd.weight_decay) +
         "): train loss " + number_text(e.train_loss) + ", accuracy " + number_text(e.train_accuracy) + " (" +
         number_text(e.seconds) + " s)";
}

}  // namespace decent
