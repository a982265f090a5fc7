#include "decent/model/softmax_regression.hpp"

#include <sstream>
#include <string>

namespace decent {

SoftmaxRegression::SoftmaxRegression(Eigen::Index input_dim, int classes, float label_smoothing)
    : Mlp(input_dim, {}, classes, label_smoothing) {}

std::string SoftmaxRegression::describe_impl() const {
  std::string text = "softmax " + std::to_string(input_dim()) + "-" + std::to_string(outputs());
  if (label_smoothing() > 0) {
    std::ostringstream eps;
    eps << label_smoothing();
    text += " label_smoothing=" + eps.str();
  }
  return text;
}

}  // namespace decent
