#pragma once
/// @file Dense (affine) layer y = W x + b.
#include "decent/model/layer.hpp"

namespace decent {

/// y = W x + b on a flat input (height = width = 1: the output of flatten or of global average pooling).
/// Blocks: `weight` [outputs, inputs] (entry (i, j) at i + outputs * j; a matrix for low-rank compression),
/// then `bias` [outputs] when the layer has one. Initialization: weights normal with the Gain's variance
/// (layer.hpp), zero bias. Spec: `dense(N)`, `dense(N,bias=0)`.
template <class T>
class Dense final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;
  /// Throws std::invalid_argument for outputs < 1.
  explicit Dense(Eigen::Index outputs, bool bias = true);
  Eigen::Index outputs() const noexcept { return outputs_; }
  bool has_bias() const noexcept { return bias_; }

protected:
  TensorShape bind_impl(const TensorShape& input, Gain following) override;
  std::string kind_impl() const override { return "dense"; }
  std::string describe_impl() const override;
  void initialize_impl(T* params, Rng& rng) const override;
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<Dense>(*this); }

private:
  Eigen::Index outputs_;
  bool bias_;
  Eigen::Index inputs_ = 0;
  Gain gain_ = Gain::linear;
};

}  // namespace decent
