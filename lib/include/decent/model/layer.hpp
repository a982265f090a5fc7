#pragma once
/// @file The layer interface: one stage of a model, a pure function of its slice of the flat parameter vector
/// (docs/models.md). Layers are templates on the scalar type: float for training, double for gradient checks.
#include <Eigen/Core>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "decent/core/random.hpp"
#include "decent/core/tensor_shape.hpp"

namespace decent {

/// A layer cannot take its input shape (a kernel larger than the image, a dense layer on an image, ...).
/// what() names the layer and the shapes; the spec parser adds the token and its position.
class shape_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

/// One parameter block of a layer: a named, contiguous range of the layer's slice.
struct ParameterSpec {
  std::string name;                 ///< within the layer: "weight", "bias", "scale", "shift"
  Eigen::Index offset = 0;          ///< from the start of the layer's slice
  std::vector<Eigen::Index> shape;  ///< dimensions, the first varying fastest (column-major)
  bool matrix = false;              ///< a weight matrix shape[0] x (product of the rest), for low-rank compression

  /// Number of entries (the product of shape).
  Eigen::Index size() const {
    Eigen::Index n = 1;
    for (const Eigen::Index d : shape) n *= d;
    return n;
  }
};

/// The nonlinearity that a layer's output meets next, which its initialization follows: He normal
/// (variance 2 / fan_in) before ReLU or GELU, Glorot normal (variance 2 / (fan_in + fan_out)) otherwise.
enum class Gain { linear, relu };

/// How a layer takes part in choosing the Gain of the layers before it.
enum class GainRole {
  opaque,           ///< a layer with weights (dense, conv, residual): the layers before it see Gain::linear
  transparent,      ///< passes the choice through (pooling, flatten, dropout, normalization)
  relu_activation,  ///< ReLU, GELU: the layers before it see Gain::relu
  linear_activation ///< tanh: the layers before it see Gain::linear
};

/// The context of one forward and backward pass.
struct LayerPass {
  bool training = false;  ///< stochastic layers (dropout) are active; false: inference
  Rng* rng = nullptr;     ///< their random stream, required when training with stochastic layers
};

/// A stage of a model over its own slice of the flat parameter vector. Activations are matrices with one sample
/// per column (values channels-last, decent/core/tensor_shape.hpp). A layer keeps no state outside that slice but
/// scratch between a forward pass and the backward pass that follows it (im2col columns, max positions, dropout
/// masks), so one object serves one pass at a time; clone() gives an independent copy.
///
/// The public entry points are non-virtual; a layer (ours or a user's) implements the protected `*_impl`
/// functions. bind() must come first: it fixes the input shape and declares the parameters.
template <class T>
class BasicLayer {
public:
  using Scalar = T;
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using ConstMap = Eigen::Map<const Matrix>;
  using MutableMap = Eigen::Map<Matrix>;

  virtual ~BasicLayer() = default;

  /// Fixes the input shape and the Gain of what follows; returns the output shape. Throws shape_error if the layer
  /// cannot take `input`, std::logic_error if called twice.
  TensorShape bind(const TensorShape& input, Gain following);
  /// True once bind() succeeded.
  bool bound() const noexcept { return bound_; }
  /// Shapes of one sample's input and output (after bind).
  const TensorShape& input_shape() const noexcept { return input_; }
  const TensorShape& output_shape() const noexcept { return output_; }
  /// Length of the layer's slice of the flat parameter vector (after bind; 0 for layers without parameters).
  Eigen::Index parameter_count() const noexcept { return parameter_count_; }
  /// The layer's parameter blocks, in slice order (after bind).
  const std::vector<ParameterSpec>& parameters() const noexcept { return parameters_; }

  /// The stem of the layer's block names ("conv", "dense", "gn", "res").
  std::string kind() const { return kind_impl(); }
  /// The layer in spec syntax, every argument spelled out: "conv(16,5,stride=1,pad=0,bias=1)".
  std::string describe() const { return describe_impl(); }
  /// How the layer takes part in the initialization gain of the layers before it.
  GainRole gain_role() const { return gain_role_impl(); }
  /// True if the layer draws from LayerPass::rng while training (dropout).
  bool stochastic() const { return stochastic_impl(); }
  /// True if the output is the input's memory under a new shape (flatten): forward and backward are not called.
  bool reshapes_only() const { return reshapes_only_impl(); }

  /// Writes the initial parameters into the layer's slice (parameter_count() entries), drawn from rng.
  void initialize(T* params, Rng& rng) const;
  /// out = layer(in) for the in.cols() samples; in has input_shape().size() rows, out output_shape().size().
  void forward(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const;
  /// After forward() on the same in (and its out): writes the gradient of the loss with respect to the layer's
  /// parameters into d_params (parameter_count() entries, every one written) and, if d_in is not null, with
  /// respect to the input into *d_in, given d_out, the gradient with respect to the output.
  void backward(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                const LayerPass& pass) const;
  /// An independent copy (bound as this one is, with its own scratch).
  std::unique_ptr<BasicLayer> clone() const { return clone_impl(); }

protected:
  BasicLayer() = default;
  BasicLayer(const BasicLayer&) = default;
  BasicLayer& operator=(const BasicLayer&) = default;

  /// Checks `input`, declares the parameters (declare()) and returns the output shape; throws shape_error.
  virtual TensorShape bind_impl(const TensorShape& input, Gain following) = 0;
  /// Appends a parameter block of `shape` to the slice (called from bind_impl); returns its offset in the slice.
  Eigen::Index declare(std::string name, std::vector<Eigen::Index> shape, bool matrix = false);

  virtual std::string kind_impl() const = 0;
  virtual std::string describe_impl() const = 0;
  virtual GainRole gain_role_impl() const { return GainRole::opaque; }
  virtual bool stochastic_impl() const { return false; }
  virtual bool reshapes_only_impl() const { return false; }
  /// The default writes zeros (a layer without parameters needs nothing else).
  virtual void initialize_impl(T* params, Rng& rng) const;
  virtual void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const = 0;
  virtual void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in,
                             T* d_params, const LayerPass& pass) const = 0;
  virtual std::unique_ptr<BasicLayer> clone_impl() const = 0;

private:
  bool bound_ = false;
  TensorShape input_, output_;
  Eigen::Index parameter_count_ = 0;
  std::vector<ParameterSpec> parameters_;
};

/// The layer type of float models.
using Layer = BasicLayer<float>;

namespace detail {
/// Grow-only scratch: a buffer of at least n values, reallocated only when a larger one is asked for.
template <class T>
T* grow(Eigen::Matrix<T, Eigen::Dynamic, 1>& buffer, Eigen::Index n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}
}  // namespace detail

}  // namespace decent
