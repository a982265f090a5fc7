#pragma once
/// @file Elementwise activations: ReLU, tanh and GELU.
#include "decent/model/layer.hpp"

namespace decent {

/// The function of an Activation layer.
enum class ActivationKind {
  relu,  ///< max(x, 0)
  tanh,  ///< tanh(x)
  gelu   ///< x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, the exact GELU (PyTorch's default)
};

/// y = f(x) elementwise, any input shape; no parameters. Spec: `relu`, `tanh`, `gelu`.
template <class T>
class Activation final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;
  explicit Activation(ActivationKind kind) : kind_(kind) {}
  ActivationKind function() const noexcept { return kind_; }

protected:
  TensorShape bind_impl(const TensorShape& input, Gain) override { return input; }
  std::string kind_impl() const override;
  std::string describe_impl() const override { return kind_impl(); }
  GainRole gain_role_impl() const override {
    return kind_ == ActivationKind::tanh ? GainRole::linear_activation : GainRole::relu_activation;
  }
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<Activation>(*this); }

private:
  ActivationKind kind_;
};

}  // namespace decent
