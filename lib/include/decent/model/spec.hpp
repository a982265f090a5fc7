#pragma once
/// @file The layer spec language (`conv(16,5) relu maxpool(2) flatten dense(10)`) and the presets built with it;
/// the grammar and every layer are in docs/models.md.
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "decent/core/error.hpp"
#include "decent/model/network.hpp"

namespace decent {

/// A malformed or impossible spec. what() is one line naming the token, its 1-based character position in the
/// spec and, for shape problems, the shape the token met.
class spec_error : public input_error {
public:
  /// what() is "layers: " + problem.
  spec_error(const std::string& problem, std::size_t position, std::string token)
      : input_error("layers: " + problem), problem_(problem), position_(position), token_(std::move(token)) {}
  /// The problem without the "layers: " key (for callers that name the spec another way, e.g. a preset).
  const std::string& problem() const noexcept { return problem_; }
  /// 1-based position of the token in the spec text (0: the spec as a whole).
  std::size_t position() const noexcept { return position_; }
  /// The offending token as written.
  const std::string& token() const noexcept { return token_; }

private:
  std::string problem_;
  std::size_t position_;
  std::string token_;
};

/// One layer of a parsed spec, as written.
struct LayerSpec {
  std::string name;                                         ///< e.g. "conv"
  std::vector<std::string> arguments;                       ///< positional arguments, in order
  std::vector<std::pair<std::string, std::string>> options; ///< key=value arguments, in order
  std::vector<LayerSpec> body;                              ///< residual: the layers of the body
  std::size_t position = 0;                                 ///< 1-based position of the name in the spec
  std::string text;                                         ///< the token as written, e.g. "conv(16,5)"
};

/// A parsed spec: the top-level layers and where the `features` marker stood.
struct ModelSpec {
  std::vector<LayerSpec> layers;
  std::optional<std::size_t> features;  ///< number of layers before the marker, if there is one
  std::string text;                     ///< the spec as given
};

/// Parses `text` (syntax only: names, brackets, arguments). Throws spec_error.
ModelSpec parse_model_spec(std::string_view text);

/// Builds and binds the layers of `spec` for samples of shape `input` and `classes` classes. Throws spec_error for
/// an unknown layer, a wrong argument, or a shape a layer cannot take (naming the token, its position and the
/// shape it met), and when the output is not `classes` values per sample.
template <class T>
Network<T> build_network(const ModelSpec& spec, TensorShape input, int classes, T label_smoothing = 0);

/// The spec text of a preset (docs/models.md, "Presets"): "lenet5", "cnn-small", "resnet8-gn", "softmax", or "mlp"
/// with the hidden widths; `classes` is the output width. Throws std::invalid_argument for another name.
std::string preset_spec(std::string_view name, int classes, const std::vector<int>& hidden = {});

/// The preset names preset_spec knows, for messages.
std::string preset_names();

/// Parses an input shape "CxHxW" or "N" (a flat vector). Throws std::invalid_argument naming the text.
TensorShape parse_tensor_shape(std::string_view text);

}  // namespace decent
