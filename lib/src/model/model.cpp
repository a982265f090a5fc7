#include "decent/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace decent {

namespace {
std::string where_in(const char* where, const Model& model) {
  return std::string(where) + " (" + model.describe() + "): ";
}
}  // namespace

Model::Model(Eigen::Index input_dim, int outputs, bool classification, Eigen::Index parameter_count)
    : input_dim_(input_dim), outputs_(outputs), classification_(classification), parameter_count_(parameter_count) {
  if (input_dim < 1) throw std::invalid_argument("model input_dim must be >= 1, got " + std::to_string(input_dim));
  if (classification && outputs < 2)
    throw std::invalid_argument("a classification model needs >= 2 classes, got " + std::to_string(outputs));
  if (!classification && outputs != 1)
    throw std::invalid_argument("a regression model has 1 output, got " + std::to_string(outputs));
  if (parameter_count < 1)
    throw std::invalid_argument("model parameter_count must be >= 1, got " + std::to_string(parameter_count));
}

void Model::check_params(const char* where, Eigen::Index size, const char* what) const {
  if (size != parameter_count_)
    throw std::invalid_argument(where_in(where, *this) + what + " has " + std::to_string(size) +
                                " entries, expected parameter_count() = " + std::to_string(parameter_count_));
}

void Model::check_inputs(const char* where, const Eigen::Ref<const Eigen::MatrixXf>& x) const {
  if (x.rows() != input_dim_)
    throw std::invalid_argument(where_in(where, *this) + "x has " + std::to_string(x.rows()) +
                                " rows, expected input_dim() = " + std::to_string(input_dim_));
  if (x.cols() == 0) throw std::invalid_argument(where_in(where, *this) + "x has no samples (0 columns)");
}

void Model::check_labels(const char* where, std::span<const int> labels, Eigen::Index samples) const {
  if (static_cast<Eigen::Index>(labels.size()) != samples)
    throw std::invalid_argument(where_in(where, *this) + "got " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(samples) + " samples (columns of x)");
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= outputs_)
      throw std::invalid_argument(where_in(where, *this) + "label " + std::to_string(labels[i]) + " of sample " +
                                  std::to_string(i) + " is outside 0.." + std::to_string(outputs_ - 1));
}

void Model::check_samples(const char* where, const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                          const Eigen::Ref<const Eigen::VectorXf>& targets) const {
  check_inputs(where, x);
  const Eigen::Index samples = x.cols();
  if (classification_) {
    check_labels(where, labels, samples);
  } else if (targets.size() != samples) {
    throw std::invalid_argument(where_in(where, *this) + "got " + std::to_string(targets.size()) +
                                " targets for " + std::to_string(samples) + " samples (columns of x)");
  }
}

void Model::initialize(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const {
  check_params("Model::initialize", params.size());
  initialize_impl(params, rng);
}

float Model::loss_and_gradient(const Eigen::Ref<const Eigen::VectorXf>& params, const Batch& batch,
                               Eigen::Ref<Eigen::VectorXf> grad) const {
  return loss_and_gradient(params, batch.x, batch.labels, batch.targets, grad);
}

float Model::loss_and_gradient(const Eigen::Ref<const Eigen::VectorXf>& params,
                               const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                               const Eigen::Ref<const Eigen::VectorXf>& targets,
                               Eigen::Ref<Eigen::VectorXf> grad) const {
  check_params("Model::loss_and_gradient", params.size());
  check_params("Model::loss_and_gradient", grad.size(), "grad");
  check_samples("Model::loss_and_gradient", x, labels, targets);
  return loss_and_gradient_impl(params, x, labels, targets, grad);
}

float Model::loss(const Eigen::Ref<const Eigen::VectorXf>& params, const Batch& batch) const {
  return loss(params, batch.x, batch.labels, batch.targets);
}

float Model::loss(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                  std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const {
  check_params("Model::loss", params.size());
  check_samples("Model::loss", x, labels, targets);
  return loss_impl(params, x, labels, targets);
}

void Model::predict(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                    std::vector<int>& out) const {
  if (!classification_)
    throw std::logic_error(where_in("Model::predict", *this) + "a regression model predicts no classes");
  check_params("Model::predict", params.size());
  if (x.rows() != input_dim_)
    throw std::invalid_argument(where_in("Model::predict", *this) + "x has " + std::to_string(x.rows()) +
                                " rows, expected input_dim() = " + std::to_string(input_dim_));
  out.resize(static_cast<std::size_t>(x.cols()));
  if (x.cols() > 0) predict_impl(params, x, out);
}

Evaluation Model::evaluate(const Eigen::Ref<const Eigen::VectorXf>& params, const Batch& batch,
                           Eigen::Index chunk) const {
  return evaluate(params, batch.x, batch.labels, batch.targets, chunk);
}

Evaluation Model::evaluate(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                           std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets,
                           Eigen::Index chunk) const {
  if (chunk < 1)
    throw std::invalid_argument(where_in("Model::evaluate", *this) + "chunk must be >= 1, got " +
                                std::to_string(chunk));
  check_params("Model::evaluate", params.size());
  check_samples("Model::evaluate", x, labels, targets);
  const Eigen::Index samples = x.cols();
  double loss_sum = 0, correct = 0;
  for (Eigen::Index start = 0; start < samples; start += chunk) {
    const Eigen::Index n = std::min(chunk, samples - start);
    const auto part_labels = classification_ ? labels.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(n))
                                             : labels;
    const Eigen::Ref<const Eigen::VectorXf> part_targets =
        classification_ ? Eigen::Ref<const Eigen::VectorXf>(targets) : Eigen::Ref<const Eigen::VectorXf>(targets.segment(start, n));
    const Evaluation part = evaluate_impl(params, x.middleCols(start, n), part_labels, part_targets);
    loss_sum += part.loss * static_cast<double>(n);
    correct += part.accuracy * static_cast<double>(n);
  }
  Evaluation result;
  result.loss = loss_sum / static_cast<double>(samples);
  result.accuracy = classification_ ? correct / static_cast<double>(samples) : std::numeric_limits<double>::quiet_NaN();
  return result;
}

std::vector<MatrixBlock> Model::matrix_blocks() const {
  std::vector<MatrixBlock> blocks = matrix_blocks_impl();
  validate_layout(blocks, parameter_count_);
  return blocks;
}

std::vector<MatrixBlock> Model::matrix_blocks_impl() const { return {}; }

std::vector<ParameterBlock> Model::blocks() const {
  std::vector<ParameterBlock> blocks = blocks_impl();
  Eigen::Index end = 0;
  for (const ParameterBlock& b : blocks) {
    if (b.offset < end || b.length < 0 || b.offset + b.length > parameter_count_)
      throw std::logic_error(describe() + ": block '" + b.name + "' (offset " + std::to_string(b.offset) + ", length " +
                             std::to_string(b.length) + ") overlaps the one before it or leaves the " +
                             std::to_string(parameter_count_) + " parameters");
    end = b.offset + b.length;
  }
  return blocks;
}

std::vector<ParameterBlock> Model::blocks_impl() const {
  return {{"params", 0, parameter_count_, {parameter_count_}, BlockRole::base}};
}

void Model::logits(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                   Eigen::MatrixXf& out) const {
  check_params("Model::logits", params.size());
  check_inputs("Model::logits", x);
  out.resize(outputs_, x.cols());
  logits_impl(params, x, out);
}

void Model::features(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                     Eigen::MatrixXf& out) const {
  check_params("Model::features", params.size());
  check_inputs("Model::features", x);
  if (feature_dim() < 1)
    throw std::logic_error(where_in("Model::features", *this) + "the model exposes no features (feature_dim() is 0)");
  out.resize(feature_dim(), x.cols());
  features_impl(params, x, out);
}

void Model::per_sample_loss(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                            std::span<const int> labels, Eigen::VectorXf& loss,
                            std::vector<std::uint8_t>* correct) const {
  if (!classification_)
    throw std::logic_error(where_in("Model::per_sample_loss", *this) + "needs a classification model");
  check_params("Model::per_sample_loss", params.size());
  check_inputs("Model::per_sample_loss", x);
  check_labels("Model::per_sample_loss", labels, x.cols());
  loss.resize(x.cols());
  if (correct) correct->assign(static_cast<std::size_t>(x.cols()), 0);
  per_sample_loss_impl(params, x, labels, loss, correct ? std::span<std::uint8_t>(*correct) : std::span<std::uint8_t>());
}

void Model::check_objective(const Eigen::Ref<const Eigen::MatrixXf>& x, const Objective& o) const {
  const char* where = "Model::loss_and_gradient";
  check_inputs(where, x);
  const Eigen::Index samples = x.cols();
  const auto fail = [&](const std::string& what) { throw std::invalid_argument(where_in(where, *this) + what); };
  const auto count = [](std::size_t n) { return std::to_string(n); };
  if (!classification_) {
    if (!o.soft_targets.empty() || !o.sample_weights.empty() || !o.feature_gradient.empty() || !o.labels.empty())
      fail("a regression model takes targets only (no labels, soft targets, weights or feature gradient)");
    if (static_cast<Eigen::Index>(o.targets.size()) != samples)
      fail("got " + count(o.targets.size()) + " targets for " + std::to_string(samples) + " samples");
    return;
  }
  if (!o.targets.empty()) fail("a classification model takes labels, not targets");
  const bool soft = !o.soft_targets.empty();
  if (soft) {
    if (!(o.soft_weight >= 0 && o.soft_weight <= 1)) fail("soft_weight must be in [0, 1], got " + std::to_string(o.soft_weight));
    if (!(o.temperature > 0 && std::isfinite(o.temperature)))
      fail("temperature must be > 0, got " + std::to_string(o.temperature));
    if (static_cast<Eigen::Index>(o.soft_targets.size()) != outputs_ * samples)
      fail("soft_targets has " + count(o.soft_targets.size()) + " values, expected classes x samples = " +
           std::to_string(outputs_ * samples));
    for (Eigen::Index j = 0; j < samples; ++j) {
      double sum = 0;
      for (int c = 0; c < outputs_; ++c) {
        const float q = o.soft_targets[static_cast<std::size_t>(j * outputs_ + c)];
        if (!(q >= 0 && std::isfinite(q)))
          fail("soft target " + std::to_string(q) + " of class " + std::to_string(c) + ", sample " + std::to_string(j) +
               " is not a probability");
        sum += q;
      }
      if (std::abs(sum - 1) > 1e-3)
        fail("the soft targets of sample " + std::to_string(j) + " sum to " + std::to_string(sum) + ", not 1");
    }
  }
  if (!(soft && o.soft_weight == 1) || !o.labels.empty()) check_labels(where, o.labels, samples);
  if (!o.sample_weights.empty()) {
    if (static_cast<Eigen::Index>(o.sample_weights.size()) != samples)
      fail("sample_weights has " + count(o.sample_weights.size()) + " values for " + std::to_string(samples) + " samples");
    for (std::size_t j = 0; j < o.sample_weights.size(); ++j)
      if (!(o.sample_weights[j] >= 0 && std::isfinite(o.sample_weights[j])))
        fail("sample weight " + std::to_string(o.sample_weights[j]) + " of sample " + std::to_string(j) +
             " must be finite and >= 0");
  }
  if (!o.feature_gradient.empty()) {
    if (feature_dim() < 1) fail("a feature gradient was given, but the model exposes no features");
    if (static_cast<Eigen::Index>(o.feature_gradient.size()) != feature_dim() * samples)
      fail("feature_gradient has " + count(o.feature_gradient.size()) + " values, expected feature_dim() x samples = " +
           std::to_string(feature_dim() * samples));
  }
}

float Model::loss_and_gradient(const Eigen::Ref<const Eigen::VectorXf>& params,
                               const Eigen::Ref<const Eigen::MatrixXf>& x, const Objective& objective,
                               Eigen::Ref<Eigen::VectorXf> grad) const {
  check_params("Model::loss_and_gradient", params.size());
  check_params("Model::loss_and_gradient", grad.size(), "grad");
  check_objective(x, objective);
  return objective_loss_and_gradient_impl(params, x, objective, grad);
}

float Model::objective_loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                              const Eigen::Ref<const Eigen::MatrixXf>& x, const Objective& objective,
                                              Eigen::Ref<Eigen::VectorXf> grad) const {
  if (!objective.soft_targets.empty() || !objective.sample_weights.empty() || !objective.feature_gradient.empty())
    throw std::logic_error(describe() + " supports the plain objective only (labels or targets): soft targets, "
                           "sample weights and feature gradients need objective_loss_and_gradient_impl");
  const Eigen::Map<const Eigen::VectorXf> targets(objective.targets.data(), static_cast<Eigen::Index>(objective.targets.size()));
  return loss_and_gradient_impl(params, x, objective.labels, targets, grad);
}

void Model::logits_impl(const Eigen::Ref<const Eigen::VectorXf>&, const Eigen::Ref<const Eigen::MatrixXf>&,
                        Eigen::Ref<Eigen::MatrixXf>) const {
  throw std::logic_error(describe() + " does not provide logits (implement logits_impl)");
}

void Model::features_impl(const Eigen::Ref<const Eigen::VectorXf>&, const Eigen::Ref<const Eigen::MatrixXf>&,
                          Eigen::Ref<Eigen::MatrixXf>) const {
  throw std::logic_error(describe() + " does not provide features (implement features_impl)");
}

void Model::per_sample_loss_impl(const Eigen::Ref<const Eigen::VectorXf>&, const Eigen::Ref<const Eigen::MatrixXf>&,
                                 std::span<const int>, Eigen::Ref<Eigen::VectorXf>, std::span<std::uint8_t>) const {
  throw std::logic_error(describe() + " does not provide per-sample losses (implement per_sample_loss_impl)");
}

void Model::predict_impl(const Eigen::Ref<const Eigen::VectorXf>&, const Eigen::Ref<const Eigen::MatrixXf>&,
                         std::span<int>) const {
  throw std::logic_error(describe() + " does not implement predict_impl");
}

Evaluation Model::evaluate_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                                const Eigen::Ref<const Eigen::VectorXf>& targets) const {
  Evaluation result;
  result.loss = loss_impl(params, x, labels, targets);
  if (!classification_) {
    result.accuracy = std::numeric_limits<double>::quiet_NaN();
    return result;
  }
  predictions_.resize(labels.size());
  predict_impl(params, x, predictions_);
  long correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predictions_[i] == labels[i];
  result.accuracy = static_cast<double>(correct) / static_cast<double>(labels.size());
  return result;
}

}  // namespace decent
