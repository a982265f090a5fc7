#pragma once
/// @file A residual block: a sub-sequence plus the identity or a 1x1 projection of its input.
#include "decent/model/conv2d.hpp"
#include "decent/model/sequence.hpp"

namespace decent {

/// How a Residual block carries its input to its output.
enum class Shortcut {
  automatic,   ///< the identity when the body keeps the shape, else a projection
  identity,    ///< always the identity (the body must keep the shape)
  projection   ///< always a 1x1 convolution without bias, stride H_in / H_out, to the body's output channels
};

/// y = body(x) + shortcut(x). Blocks: the body's (`conv1.weight`, `gn1.scale`, ...), then `proj.weight`
/// [out, in, 1, 1] when the shortcut is a projection. Spec: `residual(LAYERS)`, `residual(LAYERS, shortcut=proj)`
/// (`auto`, `identity`, `proj`), e.g. `residual(conv(32,3,stride=2,pad=1) gn(8) relu conv(32,3,pad=1) gn(8))`.
template <class T>
class Residual final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;
  explicit Residual(Sequence<T> body, Shortcut shortcut = Shortcut::automatic);
  Residual(const Residual& other);
  Residual& operator=(const Residual&) = delete;
  const Sequence<T>& body() const noexcept { return body_; }
  /// True once bound with a projection shortcut.
  bool projects() const noexcept { return projection_ != nullptr; }

protected:
  TensorShape bind_impl(const TensorShape& input, Gain following) override;
  std::string kind_impl() const override { return "res"; }
  std::string describe_impl() const override;
  bool stochastic_impl() const override { return body_.stochastic(); }
  void initialize_impl(T* params, Rng& rng) const override;
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<Residual>(*this); }

private:
  Sequence<T> body_;
  Shortcut shortcut_;
  std::unique_ptr<Conv2d<T>> projection_;
  Eigen::Index projection_offset_ = 0;
  mutable Eigen::Matrix<T, Eigen::Dynamic, 1> scratch_;  // the projection's output, or the input gradient's share
};

}  // namespace decent
