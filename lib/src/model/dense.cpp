#include "decent/model/dense.hpp"

#include <cmath>

#include "decent/model/gemm.hpp"
#include "model/init.hpp"

namespace decent {

template <class T>
Dense<T>::Dense(Eigen::Index outputs, bool bias) : outputs_(outputs), bias_(bias) {
  if (outputs < 1) throw std::invalid_argument("dense: outputs must be >= 1, got " + std::to_string(outputs));
}

template <class T>
std::string Dense<T>::describe_impl() const {
  return "dense(" + std::to_string(outputs_) + (bias_ ? ")" : ",bias=0)");
}

template <class T>
TensorShape Dense<T>::bind_impl(const TensorShape& input, Gain following) {
  if (!input.flat())
    throw shape_error(this->describe() + " needs a flat input, got " + input.to_string() + " (put flatten before it)");
  inputs_ = input.channels;
  gain_ = following;
  this->declare("weight", {outputs_, inputs_}, true);
  if (bias_) this->declare("bias", {outputs_});
  return {outputs_, 1, 1};
}

template <class T>
void Dense<T>::initialize_impl(T* params, Rng& rng) const {
  // The weights' draws come first, in storage order, then the zero bias: the layout and stream of decent's
  // earlier Mlp, whose runs the mlp preset reproduces bit for bit.
  detail::normal_fill(params, inputs_ * outputs_, detail::init_stddev(gain_, inputs_, outputs_), rng);
  if (bias_)
    for (Eigen::Index i = 0; i < outputs_; ++i) params[inputs_ * outputs_ + i] = T(0);
}

template <class T>
void Dense<T>::forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass&) const {
  const Eigen::Map<const Matrix> w(params, outputs_, inputs_);
  gemm(false, false, w, in, out);
  if (bias_) out.colwise() += Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(params + w.size(), outputs_);
}

template <class T>
void Dense<T>::backward_impl(const T* params, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T* d_params,
                             const LayerPass&) const {
  Eigen::Map<Matrix> dw(d_params, outputs_, inputs_);
  gemm(false, true, d_out, in, dw);
  if (bias_) Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(d_params + dw.size(), outputs_) = d_out.rowwise().sum();
  if (d_in) gemm(true, false, Eigen::Map<const Matrix>(params, outputs_, inputs_), d_out, *d_in);
}

template class Dense<float>;
template class Dense<double>;

}  // namespace decent
