#include "decent/model/softmax_regression.hpp"

#include <stdexcept>
#include <string>

namespace decent {

SoftmaxRegression::SoftmaxRegression(Eigen::Index input_dim, int classes, float label_smoothing)
    : Mlp(input_dim, {}, classes, label_smoothing) {}

std::string SoftmaxRegression::describe_impl() const {
  std::string text = "softmax " + std::to_string(input_dim()) + "-" + std::to_string(outputs());
  if (label_smoothing() > 0) text += " label_smoothing=" + std::to_string(label_smoothing());
  return text;
}

}  // namespace decent
