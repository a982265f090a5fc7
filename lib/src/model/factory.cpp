#include "decent/model/factory.hpp"

#include <stdexcept>
#include <string>

#include "decent/model/layer_model.hpp"
#include "decent/model/linear_regression.hpp"
#include "decent/model/mlp.hpp"
#include "decent/model/softmax_regression.hpp"
#include "decent/model/spec.hpp"

namespace decent {

namespace {
void require_no_hidden(std::string_view name, const std::vector<int>& hidden) {
  if (!hidden.empty())
    throw std::invalid_argument("model '" + std::string(name) + "' has no hidden layers, but " +
                                std::to_string(hidden.size()) + " hidden width(s) were given (use model 'mlp')");
}
}  // namespace

std::string model_names() { return "softmax, linear, mlp, layers, lenet5, cnn-small, resnet8-gn"; }

std::unique_ptr<Model> make_model(const ModelOptions& o) {
  const std::string& name = o.name;
  const Eigen::Index input_dim = o.input.size();
  if (name != "layers" && !o.layers.empty())
    throw std::invalid_argument("model '" + name + "' takes no layer spec (use model 'layers')");
  if (name != "mlp") require_no_hidden(name, o.hidden);
  // The flat models keep their own classes, whose runs are pinned (scripts/behaviour-hashes).
  if (name == "softmax") return std::make_unique<SoftmaxRegression>(input_dim, o.classes, o.label_smoothing);
  if (name == "mlp") return std::make_unique<Mlp>(input_dim, o.hidden, o.classes, o.label_smoothing);
  if (name == "linear") {
    if (o.classes != 0 && o.classes != 1)
      throw std::invalid_argument("model 'linear' is a regression model: classes must be 0 or 1, got " +
                                  std::to_string(o.classes));
    if (o.label_smoothing != 0)
      throw std::invalid_argument("model 'linear' is a regression model: label_smoothing must be 0, got " +
                                  std::to_string(o.label_smoothing));
    return std::make_unique<LinearRegression>(input_dim);
  }
  if (name == "layers" || name == "lenet5" || name == "cnn-small" || name == "resnet8-gn") {
    if (name == "layers" && o.layers.empty())
      throw std::invalid_argument("model 'layers' needs a layer spec (layers = \"conv(16,5) relu ... dense(10)\")");
    const std::string text = name == "layers" ? o.layers : preset_spec(name, o.classes);
    Network<float> network = build_network<float>(parse_model_spec(text), o.input, o.classes, o.label_smoothing);
    std::string description = name + " " + o.input.to_string() + "-" + std::to_string(o.classes);
    if (name == "layers") description += ": " + network.layers().describe();
    return std::make_unique<LayerModel>(std::move(network), std::move(description));
  }
  throw std::invalid_argument("unknown model '" + name + "' (allowed: " + model_names() + ")");
}

std::unique_ptr<Model> make_model(std::string_view name, Eigen::Index input_dim, int classes,
                                  const std::vector<int>& hidden, float label_smoothing) {
  if (input_dim < 1) throw std::invalid_argument("model input_dim must be >= 1, got " + std::to_string(input_dim));
  ModelOptions o;
  o.name = std::string(name);
  o.input = {input_dim, 1, 1};
  o.classes = classes;
  o.hidden = hidden;
  o.label_smoothing = label_smoothing;
  return make_model(o);
}

}  // namespace decent
