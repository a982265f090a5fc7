#pragma once
/// @file Builds a model from its name and typed parameters.
#include <Eigen/Dense>
#include <memory>
#include <string_view>
#include <vector>

#include "decent/model/model.hpp"

namespace decent {

/// Builds "softmax" (SoftmaxRegression), "linear" (LinearRegression) or "mlp" (Mlp; `hidden` are the hidden
/// widths and may be empty). Throws std::invalid_argument for an unknown name (listing the allowed ones),
/// for hidden layers given to a model without any, for classes other than 0 or 1 or label smoothing given to
/// the regression model "linear", and for whatever the model's constructor rejects.
std::unique_ptr<Model> make_model(std::string_view name, Eigen::Index input_dim, int classes,
                                  const std::vector<int>& hidden, float label_smoothing);

}  // namespace decent
