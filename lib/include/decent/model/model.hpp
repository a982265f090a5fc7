#pragma once
/// @file The model interface: a stateless architecture over one flat parameter vector.
#include <Eigen/Dense>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "decent/core/layout.hpp"
#include "decent/core/random.hpp"
#include "decent/model/batch.hpp"
#include "decent/model/blocks.hpp"
#include "decent/model/objective.hpp"

namespace decent {

/// Mean loss and accuracy over a set of samples.
struct Evaluation {
  double loss = 0;      ///< mean loss per sample
  double accuracy = 0;  ///< fraction of correctly predicted labels in [0, 1]; NaN for regression models
};

/// A model is a function of a flat parameter vector: it owns no parameters, only their layout, so gossip,
/// compression and checkpoints work on plain vectors. Each model documents its layout in its header.
///
/// The public entry points check their arguments (std::invalid_argument naming the expected and actual
/// sizes) and call the protected `*_impl` functions, which a user's own model overrides. A derived model
/// passes its shape to the protected constructor once.
///
/// Models keep reusable scratch buffers (sized on first use, grown when a larger batch comes), so the
/// steady state allocates nothing; hence a Model object must not be used from two threads at once.
/// Copies are independent: give each thread its own.
class Model {
public:
  virtual ~Model() = default;

  /// Length of the flat parameter vector (and of the gradient).
  Eigen::Index parameter_count() const noexcept { return parameter_count_; }
  /// Number of features per sample (rows of x).
  Eigen::Index input_dim() const noexcept { return input_dim_; }
  /// Number of classes, or 1 for a regression model.
  int outputs() const noexcept { return outputs_; }
  /// True if the model predicts class labels (softmax output), false for regression (real targets).
  bool classification() const noexcept { return classification_; }

  /// Writes the initial parameters (He for ReLU layers, Xavier/Glorot otherwise, zero biases) drawn from rng.
  void initialize(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const;

  /// Mean loss over the batch; writes the gradient of that mean loss into grad (same size as params, not
  /// overlapping it).
  float loss_and_gradient(const Eigen::Ref<const Eigen::VectorXf>& params, const Batch& batch,
                          Eigen::Ref<Eigen::VectorXf> grad) const;
  /// The same on samples given as columns of x with their labels (classification) or targets (regression).
  float loss_and_gradient(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                          std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets,
                          Eigen::Ref<Eigen::VectorXf> grad) const;

  /// Mean loss only (no gradient).
  float loss(const Eigen::Ref<const Eigen::VectorXf>& params, const Batch& batch) const;
  /// Mean loss only, on samples given as columns of x with their labels or targets.
  float loss(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
             std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const;

  /// Predicted class per column of x (classification only; std::logic_error for regression). `out` is resized to
  /// x.cols(). Ties go to the smallest class id.
  void predict(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
               std::vector<int>& out) const;

  /// Mean loss and accuracy over the samples (columns) of x with labels (classification; targets may be empty)
  /// or targets (regression; labels may be empty), processed in chunks of `chunk` columns. Sums in double.
  Evaluation evaluate(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                      std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets,
                      Eigen::Index chunk = 1024) const;
  /// Mean loss and accuracy over a batch, in chunks of `chunk` samples.
  Evaluation evaluate(const Eigen::Ref<const Eigen::VectorXf>& params, const Batch& batch,
                      Eigen::Index chunk = 1024) const;

  /// Short description, e.g. "mlp 784-256-10".
  std::string describe() const { return describe_impl(); }

  /// The weight matrices inside the flat parameter vector (for low-rank compression), checked with
  /// validate_layout against parameter_count(); empty for a model without matrix structure.
  std::vector<MatrixBlock> matrix_blocks() const;

  // ---- structure and per-sample outputs (docs/models.md). A user's model that does not implement one of these
  // gets a std::logic_error naming the model and the missing *_impl; blocks() has a default.

  /// Every named parameter block in flat order with its role (base before the feature layer, head after it),
  /// checked to lie inside the vector without overlaps. The default: one block `params`, role base, covering all.
  std::vector<ParameterBlock> blocks() const;
  /// Values per sample at the feature layer (the input of the head); 0 if the model exposes no features.
  Eigen::Index feature_dim() const { return feature_dim_impl(); }
  /// True if training draws from a random stream (dropout): loss_and_gradient then needs Objective::rng.
  bool stochastic() const { return stochastic_impl(); }

  /// Inference: the logits (outputs() x B) of the samples (columns) of x into out (resized).
  void logits(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
              Eigen::MatrixXf& out) const;
  /// Inference: the features (feature_dim() x B) into out (resized).
  void features(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                Eigen::MatrixXf& out) const;
  /// Inference: each sample's loss into loss (resized to B; their mean is loss()) and, if `correct` is not null,
  /// 1 where the predicted class is the label, else 0 (resized to B). Classification only.
  void per_sample_loss(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                       std::span<const int> labels, Eigen::VectorXf& loss,
                       std::vector<std::uint8_t>* correct = nullptr) const;
  /// The objective's loss (decent/model/objective.hpp: soft targets, sample weights, an injected feature
  /// gradient, the stream of stochastic layers) and its gradient into grad. Checks every span's size and values
  /// (std::invalid_argument naming it); a model without the extras accepts the plain objective only.
  float loss_and_gradient(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                          const Objective& objective, Eigen::Ref<Eigen::VectorXf> grad) const;

protected:
  /// Records the model's shape; throws std::invalid_argument for non-positive sizes or a classifier with
  /// fewer than 2 classes.
  Model(Eigen::Index input_dim, int outputs, bool classification, Eigen::Index parameter_count);
  // Protected so that a Model is never sliced; derived models are copyable and movable.
  Model(const Model&) = default;
  Model(Model&&) = default;
  Model& operator=(const Model&) = default;
  Model& operator=(Model&&) = default;

  // The *_impl functions receive checked arguments: params (and grad) have parameter_count() entries,
  // x has input_dim() rows and B >= 1 columns, and for classification `labels` holds B ids in
  // [0, outputs()) while for regression `targets` holds B values (the other one is unspecified).

  /// Writes initial parameters into params.
  virtual void initialize_impl(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const = 0;
  /// Mean loss over the B samples; writes the gradient of the mean loss into grad (every entry).
  virtual float loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                       const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                                       const Eigen::Ref<const Eigen::VectorXf>& targets,
                                       Eigen::Ref<Eigen::VectorXf> grad) const = 0;
  /// Mean loss over the B samples.
  virtual float loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                          std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const = 0;
  /// Predicted class per column into out (already sized B). The default throws std::logic_error; classifiers
  /// override it.
  virtual void predict_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                            std::span<int> out) const;
  /// Mean loss and accuracy (NaN for regression) of one chunk. The default calls loss_impl and, for
  /// classifiers, predict_impl; override it to share one forward pass.
  virtual Evaluation evaluate_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                   const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                                   const Eigen::Ref<const Eigen::VectorXf>& targets) const;
  /// Short description of the architecture.
  virtual std::string describe_impl() const = 0;
  /// The model's matrix blocks, none overlapping; the default returns {} (no matrix structure).
  virtual std::vector<MatrixBlock> matrix_blocks_impl() const;
  /// Named blocks in flat order; the default is one block `params` (role base) over the whole vector.
  virtual std::vector<ParameterBlock> blocks_impl() const;
  /// Feature values per sample; the default 0 (no features).
  virtual Eigen::Index feature_dim_impl() const { return 0; }
  /// The default false (no random stream).
  virtual bool stochastic_impl() const { return false; }
  /// Logits into out (outputs() x B, already sized). The default throws std::logic_error.
  virtual void logits_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                           Eigen::Ref<Eigen::MatrixXf> out) const;
  /// Features into out (feature_dim() x B, already sized). The default throws std::logic_error.
  virtual void features_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                             const Eigen::Ref<const Eigen::MatrixXf>& x, Eigen::Ref<Eigen::MatrixXf> out) const;
  /// Per-sample losses into loss (B) and, if correct is not empty, correctness (B). The default throws.
  virtual void per_sample_loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                    const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                                    Eigen::Ref<Eigen::VectorXf> loss, std::span<std::uint8_t> correct) const;
  /// The objective's loss and gradient (arguments checked). The default handles the plain objective (labels or
  /// targets only) through loss_and_gradient_impl, ignoring rng, and throws std::logic_error for the extras.
  virtual float objective_loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                                 const Eigen::Ref<const Eigen::MatrixXf>& x, const Objective& objective,
                                                 Eigen::Ref<Eigen::VectorXf> grad) const;

private:
  void check_params(const char* where, Eigen::Index size, const char* what = "params") const;
  void check_samples(const char* where, const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                     const Eigen::Ref<const Eigen::VectorXf>& targets) const;
  void check_inputs(const char* where, const Eigen::Ref<const Eigen::MatrixXf>& x) const;
  void check_labels(const char* where, std::span<const int> labels, Eigen::Index samples) const;
  void check_objective(const Eigen::Ref<const Eigen::MatrixXf>& x, const Objective& objective) const;

  Eigen::Index input_dim_;
  int outputs_;
  bool classification_;
  Eigen::Index parameter_count_;
  mutable std::vector<int> predictions_;  // scratch of the default evaluate_impl
};

}  // namespace decent
