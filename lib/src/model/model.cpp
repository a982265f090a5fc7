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

void Model::check_samples(const char* where, const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                          const Eigen::Ref<const Eigen::VectorXf>& targets) const {
  if (x.rows() != input_dim_)
    throw std::invalid_argument(where_in(where, *this) + "x has " + std::to_string(x.rows()) +
                                " rows, expected input_dim() = " + std::to_string(input_dim_));
  const Eigen::Index samples = x.cols();
  if (samples == 0) throw std::invalid_argument(where_in(where, *this) + "x has no samples (0 columns)");
  if (classification_) {
    if (static_cast<Eigen::Index>(labels.size()) != samples)
      throw std::invalid_argument(where_in(where, *this) + "got " + std::to_string(labels.size()) +
                                  " labels for " + std::to_string(samples) + " samples (columns of x)");
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (labels[i] < 0 || labels[i] >= outputs_)
        throw std::invalid_argument(where_in(where, *this) + "label " + std::to_string(labels[i]) + " of sample " +
                                    std::to_string(i) + " is outside 0.." + std::to_string(outputs_ - 1));
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
