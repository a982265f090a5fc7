#include "decent/model/layer_model.hpp"

#include <limits>

namespace decent {

LayerModel::LayerModel(Network<float> network, std::string description)
    : Model(network.input_shape().size(), network.classes(), true, network.parameter_count()),
      network_(std::move(network)), description_(std::move(description)) {}

std::string LayerModel::describe_impl() const {
  return description_.empty() ? "layers " + network_.layers().describe() : description_;
}

LayerModel::ConstMap LayerModel::samples(const Eigen::Ref<const Eigen::MatrixXf>& x) const {
  if (x.outerStride() == x.rows()) return ConstMap(x.data(), x.rows(), x.cols());
  x_copy_ = x;
  return ConstMap(x_copy_.data(), x_copy_.rows(), x_copy_.cols());
}

void LayerModel::initialize_impl(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const {
  network_.initialize(params.data(), rng);
}

float LayerModel::objective_loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                                   const Eigen::Ref<const Eigen::MatrixXf>& x,
                                                   const Objective& objective, Eigen::Ref<Eigen::VectorXf> grad) const {
  // Eigen::Ref vectors are contiguous (inner stride 1), so params and grad are plain arrays.
  return network_.loss_and_gradient(params.data(), samples(x), objective, grad.data());
}

float LayerModel::loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                         const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                                         const Eigen::Ref<const Eigen::VectorXf>&, Eigen::Ref<Eigen::VectorXf> grad) const {
  Objective plain;
  plain.labels = labels;
  return network_.loss_and_gradient(params.data(), samples(x), plain, grad.data());
}

float LayerModel::loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                            std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>&) const {
  return network_.loss(params.data(), samples(x), labels);
}

void LayerModel::predict_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                              std::span<int> out) const {
  network_.predict(params.data(), samples(x), out);
}

Evaluation LayerModel::evaluate_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                     const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                                     const Eigen::Ref<const Eigen::VectorXf>&) const {
  const auto [loss, correct] = network_.evaluate(params.data(), samples(x), labels);
  Evaluation result;
  result.loss = loss;
  result.accuracy = static_cast<double>(correct) / static_cast<double>(x.cols());
  return result;
}

void LayerModel::logits_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                             Eigen::Ref<Eigen::MatrixXf> out) const {
  out = network_.logits(params.data(), samples(x));
}

void LayerModel::features_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                               const Eigen::Ref<const Eigen::MatrixXf>& x, Eigen::Ref<Eigen::MatrixXf> out) const {
  out = network_.features(params.data(), samples(x));
}

void LayerModel::per_sample_loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                      const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                                      Eigen::Ref<Eigen::VectorXf> loss, std::span<std::uint8_t> correct) const {
  network_.per_sample_loss(params.data(), samples(x), labels, std::span<float>(loss.data(), static_cast<std::size_t>(loss.size())),
                           correct);
}

}  // namespace decent
