#include "decent/model/factory.hpp"

#include <stdexcept>
#include <string>

#include "decent/model/linear_regression.hpp"
#include "decent/model/mlp.hpp"
#include "decent/model/softmax_regression.hpp"

namespace decent {

namespace {
void require_no_hidden(std::string_view name, const std::vector<int>& hidden) {
  if (!hidden.empty())
    throw std::invalid_argument("model '" + std::string(name) + "' has no hidden layers, but " +
                                std::to_string(hidden.size()) + " hidden width(s) were given (use model 'mlp')");
}
}  // namespace

std::unique_ptr<Model> make_model(std::string_view name, Eigen::Index input_dim, int classes,
                                  const std::vector<int>& hidden, float label_smoothing) {
  if (name == "softmax") {
    require_no_hidden(name, hidden);
    return std::make_unique<SoftmaxRegression>(input_dim, classes, label_smoothing);
  }
  if (name == "mlp") return std::make_unique<Mlp>(input_dim, hidden, classes, label_smoothing);
  if (name == "linear") {
    require_no_hidden(name, hidden);
    if (classes != 0 && classes != 1)
      throw std::invalid_argument("model 'linear' is a regression model: classes must be 0 or 1, got " +
                                  std::to_string(classes));
    if (label_smoothing != 0)
      throw std::invalid_argument("model 'linear' is a regression model: label_smoothing must be 0, got " +
                                  std::to_string(label_smoothing));
    return std::make_unique<LinearRegression>(input_dim);
  }
  throw std::invalid_argument("unknown model '" + std::string(name) + "' (allowed: softmax, linear, mlp)");
}

}  // namespace decent
