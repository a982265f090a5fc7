#include "decent/model/mlp.hpp"

#include <sstream>
#include <stdexcept>

#include "decent/model/activation.hpp"
#include "decent/model/dense.hpp"

namespace decent {

namespace {

// Validates the architecture before the layers are built, so that errors name the real cause.
Network<float> mlp_network(Eigen::Index input_dim, const std::vector<int>& hidden, int classes, float label_smoothing) {
  if (input_dim < 1) throw std::invalid_argument("mlp: input_dim must be >= 1, got " + std::to_string(input_dim));
  if (classes < 2) throw std::invalid_argument("mlp: classes must be >= 2, got " + std::to_string(classes));
  for (std::size_t l = 0; l < hidden.size(); ++l)
    if (hidden[l] < 1)
      throw std::invalid_argument("mlp: hidden layer " + std::to_string(l) + " has width " +
                                  std::to_string(hidden[l]) + ", must be >= 1");
  if (!(label_smoothing >= 0 && label_smoothing < 1))
    throw std::invalid_argument("mlp: label_smoothing must be in [0, 1), got " + std::to_string(label_smoothing));
  Sequence<float> layers;
  for (int width : hidden) {
    layers.add(std::make_unique<Dense<float>>(width));
    layers.add(std::make_unique<Activation<float>>(ActivationKind::relu));
  }
  layers.add(std::make_unique<Dense<float>>(classes));
  return Network<float>(std::move(layers), {input_dim, 1, 1}, classes, std::nullopt, label_smoothing);
}

}  // namespace

Mlp::Mlp(Eigen::Index input_dim, std::vector<int> hidden, int classes, float label_smoothing)
    : LayerModel(mlp_network(input_dim, hidden, classes, label_smoothing)), hidden_(std::move(hidden)) {
  widths_.push_back(input_dim);
  for (int width : hidden_) widths_.push_back(width);
  widths_.push_back(classes);
}

Eigen::Index Mlp::weight_offset(int layer) const {
  if (layer < 0 || layer >= layers()) throw std::out_of_range("Mlp: layer " + std::to_string(layer) + " does not exist");
  return network().layers().offset(static_cast<std::size_t>(2 * layer));
}
Eigen::Index Mlp::bias_offset(int layer) const { return weight_offset(layer) + fan_in(layer) * fan_out(layer); }
Eigen::Index Mlp::fan_in(int layer) const { return widths_.at(static_cast<std::size_t>(layer)); }
Eigen::Index Mlp::fan_out(int layer) const { return widths_.at(static_cast<std::size_t>(layer) + 1); }

std::string Mlp::describe_impl() const {
  std::string text = "mlp";
  for (std::size_t l = 0; l < widths_.size(); ++l) {
    text += l == 0 ? ' ' : '-';
    text += std::to_string(widths_[l]);
  }
  if (label_smoothing() > 0) {
    std::ostringstream eps;
    eps << label_smoothing();
    text += " label_smoothing=" + eps.str();
  }
  return text;
}

}  // namespace decent
