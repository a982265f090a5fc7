#pragma once
/// @file Flatten: an image's values as one flat vector.
#include "decent/model/layer.hpp"

namespace decent {

/// C x H x W -> (C H W), the values in their channels-last order (decent/core/tensor_shape.hpp). It only
/// relabels the shape: a Sequence hands the input's memory on without calling forward or backward. Spec: `flatten`.
template <class T>
class Flatten final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;

protected:
  TensorShape bind_impl(const TensorShape& input, Gain) override { return {input.size(), 1, 1}; }
  std::string kind_impl() const override { return "flatten"; }
  std::string describe_impl() const override { return "flatten"; }
  GainRole gain_role_impl() const override { return GainRole::transparent; }
  bool reshapes_only_impl() const override { return true; }
  void forward_impl(const T*, ConstMap in, MutableMap out, const LayerPass&) const override { out = in; }
  void backward_impl(const T*, ConstMap, ConstMap, ConstMap d_out, MutableMap* d_in, T*, const LayerPass&) const override {
    if (d_in) *d_in = d_out;
  }
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<Flatten>(*this); }
};

}  // namespace decent
