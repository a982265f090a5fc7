#pragma once
/// @file Builds a model from its name and typed parameters.
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "decent/core/tensor_shape.hpp"
#include "decent/model/model.hpp"

namespace decent {

/// What make_model builds (docs/models.md).
struct ModelOptions {
  /// softmax | linear | mlp | layers (the spec in `layers`) | lenet5 | cnn-small | resnet8-gn.
  std::string name = "mlp";
  /// The layer spec of name = layers (decent/model/spec.hpp).
  std::string layers;
  /// One sample's shape; its size is the model's input_dim().
  TensorShape input{1, 1, 1};
  /// Classes (classification), or 0 / 1 for the regression model "linear".
  int classes = 10;
  /// Hidden widths of "mlp" (may be empty).
  std::vector<int> hidden;
  float label_smoothing = 0;
};

/// Builds the model. Throws std::invalid_argument for an unknown name (listing the allowed ones), hidden widths
/// for a model other than mlp, a layer spec for a model other than layers, classes other than 0 or 1 or label
/// smoothing for "linear", and whatever the model rejects; spec_error (an invalid_argument naming the token and
/// its position) for a malformed or impossible layer spec or preset on this input shape.
std::unique_ptr<Model> make_model(const ModelOptions& options);

/// The same for a flat input of `input_dim` values (softmax, linear, mlp and presets that take flat input).
std::unique_ptr<Model> make_model(std::string_view name, Eigen::Index input_dim, int classes,
                                  const std::vector<int>& hidden, float label_smoothing);

/// The model names make_model knows, for messages.
std::string model_names();

}  // namespace decent
