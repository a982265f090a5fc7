#pragma once
/// @file A sequence of layers, itself a layer: a model's trunk and the body of a residual block.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "decent/model/layer.hpp"

namespace decent {

/// Layers applied in order, each over its own consecutive slice of the sequence's parameters. bind() names the
/// layers by kind and count (`conv1`, `conv2`, `dense1`, ...; with name_last_dense_head() the last dense layer is
/// `head`) and declares every layer's blocks under those names (`conv1.weight`, `res1.conv2.bias`), so
/// parameters() lists every block of the sequence with its dotted name. Every layer's output is kept from run() to
/// back(); gradients pass through two alternating buffers; layers that only reshape (flatten) pass memory on.
template <class T>
class Sequence final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;

  Sequence() = default;
  /// Deep copies (every layer cloned).
  Sequence(const Sequence& other);
  Sequence& operator=(const Sequence& other);
  Sequence(Sequence&&) = default;
  Sequence& operator=(Sequence&&) = default;

  /// Appends a layer (before bind; std::logic_error after, std::invalid_argument for a null layer).
  void add(std::unique_ptr<BasicLayer<T>> layer);
  /// Names the last dense layer `head` instead of `denseN` (before bind).
  void name_last_dense_head() { head_name_ = true; }

  /// Number of layers.
  std::size_t size() const noexcept { return layers_.size(); }
  /// Layer i, 0-based.
  const BasicLayer<T>& layer(std::size_t i) const { return *layers_.at(i); }
  /// Offset of layer i's slice in the sequence's parameters (after bind).
  Eigen::Index offset(std::size_t i) const { return offsets_.at(i); }
  /// Layer i's name, the prefix of its blocks (after bind).
  const std::string& name(std::size_t i) const { return names_.at(i); }

  /// Runs layers [0, end) on the samples of `in` and returns the output of layer end - 1 (`in` itself for
  /// end = 0), valid until the next run. Every layer's output is kept for back().
  ConstMap run(const T* params, ConstMap in, const LayerPass& pass, std::size_t end) const;
  /// After run(params, in, pass, size()): writes the gradient with respect to every parameter into d_params
  /// (parameter_count() entries) and, if d_in is not null, with respect to the input, given d_out (the gradient
  /// with respect to the last output). If `inject` is not null, it is added to the gradient with respect to the
  /// output of layer inject_at - 1 (the input of layer inject_at, 0 < inject_at <= size()), with that output's shape.
  void back(const T* params, ConstMap in, ConstMap d_out, MutableMap* d_in, T* d_params, const LayerPass& pass,
            std::size_t inject_at = 0, const T* inject = nullptr) const;

protected:
  TensorShape bind_impl(const TensorShape& input, Gain following) override;
  std::string kind_impl() const override { return "seq"; }
  std::string describe_impl() const override;
  bool stochastic_impl() const override;
  void initialize_impl(T* params, Rng& rng) const override;
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<Sequence>(*this); }

private:
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  std::vector<std::unique_ptr<BasicLayer<T>>> layers_;
  std::vector<Eigen::Index> offsets_;
  std::vector<std::string> names_;
  std::vector<bool> params_before_;  // some layer before i has parameters
  bool head_name_ = false;
  mutable std::vector<Vector> outputs_;      // layer i's output (unused for reshaping layers)
  mutable std::vector<const T*> output_at_;  // where layer i's output of the last run is
  mutable Eigen::Index batch_ = 0;           // samples of the last run
  mutable std::size_t ran_ = 0;              // layers the last run went through
  mutable Vector grads_[2];                  // alternating gradient buffers of back()
};

}  // namespace decent
