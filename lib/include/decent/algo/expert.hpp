#pragma once
/// @file The curricula paper's "expert" (Vahidian et al., ICCV 2023, scorer E; docs/curricula.md#the-expert):
/// a model trained centrally, by plain minibatch SGD on the whole training set, whose per-sample losses grade
/// the data's difficulty (curriculum-score = expert, partition = difficulty:inc|dec|rand).
#include <cstdint>
#include <string>

#include <Eigen/Core>

#include "decent/data/dataset.hpp"
#include "decent/model/model.hpp"
#include "decent/optim/sgd.hpp"

namespace decent {

/// How the expert is trained (decent-train's expert-* keys).
struct ExpertOptions {
  std::int64_t epochs = 10;  ///< passes over the training set (the reference trains its expert 10 epochs)
  Eigen::Index batch = 10;   ///< samples per step
  float lr = 0.01f;          ///< constant step size
  /// momentum 0.9 and weight decay 5e-4: the reference's client optimizer
  SgdOptions sgd{0.9f, false, 5e-4f, 0.0f, 0.0f};
  std::uint64_t seed = 1;  ///< the initial parameters, the epochs' shuffles and dropout draw from this
};

/// A trained expert and what its training measured.
struct Expert {
  Eigen::VectorXf params;
  std::int64_t steps = 0;     ///< SGD steps taken: epochs x ceil(samples / batch)
  double last_epoch_loss = 0; ///< mean minibatch loss over the last epoch's steps
  double train_loss = 0, train_accuracy = 0;  ///< of the final parameters on the whole training set
  double seconds = 0;
};

/// Throws std::invalid_argument naming the key (expert-epochs, expert-batch, expert-lr) for a value out of range.
void check_expert_options(const ExpertOptions& options);

/// Trains `model` from its initial parameters (drawn from derive_seed(seed, {"EXPT", 0})) on every sample of
/// classification data `train`, visited in shuffled epochs (a Sampler over all indices from derive_seed(seed,
/// {"EXPT", 1})). A pure function of its arguments: every rank that calls it gets the same bits. Throws
/// std::invalid_argument for bad options, regression data or a batch larger than the data, and input_error
/// naming expert-lr and the step if the loss stops being finite (a diverging expert is a bad setting).
Expert train_expert(const Model& model, const Dataset& train, const ExpertOptions& options);

/// One line for run headers: "10 epochs of batch 10 at lr 0.01 (momentum 0.9, weight decay 0.0005): ...".
std::string describe(const ExpertOptions& options, const Expert& expert);

}  // namespace decent
