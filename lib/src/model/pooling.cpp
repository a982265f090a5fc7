#include "decent/model/pooling.hpp"

#include <cmath>
#include <limits>

namespace decent {

template <class T>
Pool2d<T>::Pool2d(PoolKind kind, Eigen::Index kernel, Eigen::Index stride) : kind_(kind), kernel_(kernel), stride_(stride) {
  if (kernel < 1) throw std::invalid_argument(this->kind_impl() + ": kernel must be >= 1, got " + std::to_string(kernel));
  if (stride < 1) throw std::invalid_argument(this->kind_impl() + ": stride must be >= 1, got " + std::to_string(stride));
}

template <class T>
std::string Pool2d<T>::describe_impl() const {
  return this->kind_impl() + "(" + std::to_string(kernel_) + ",stride=" + std::to_string(stride_) + ")";
}

template <class T>
TensorShape Pool2d<T>::bind_impl(const TensorShape& input, Gain) {
  if (input.flat())
    throw shape_error(this->describe() + " needs an image input (CxHxW), got a flat vector of " +
                      std::to_string(input.size()) + " values");
  if (input.height < kernel_ || input.width < kernel_)
    throw shape_error(this->describe() + ": input " + input.to_string() + " is smaller than the " + std::to_string(kernel_) +
                      "x" + std::to_string(kernel_) + " window");
  c_ = input.channels;
  h_ = input.height;
  w_ = input.width;
  if (h_ * w_ * c_ > std::numeric_limits<std::int32_t>::max())
    throw shape_error(this->describe() + ": input " + input.to_string() + " has too many values per sample");
  out_h_ = (h_ - kernel_) / stride_ + 1;
  out_w_ = (w_ - kernel_) / stride_ + 1;
  return {c_, out_h_, out_w_};
}

template <class T>
void Pool2d<T>::forward_impl(const T*, ConstMap in, MutableMap out, const LayerPass&) const {
  const Eigen::Index samples = in.cols(), in_size = h_ * w_ * c_, out_size = out_h_ * out_w_ * c_;
  const bool max = kind_ == PoolKind::max;
  if (max) argmax_.resize(static_cast<std::size_t>(out_size * samples));
  const T scale = T(1) / static_cast<T>(kernel_ * kernel_);
  for (Eigen::Index b = 0; b < samples; ++b) {
    const T* x = in.data() + b * in_size;
    T* y = out.data() + b * out_size;
    std::int32_t* arg = max ? argmax_.data() + b * out_size : nullptr;
    for (Eigen::Index oy = 0; oy < out_h_; ++oy)
      for (Eigen::Index ox = 0; ox < out_w_; ++ox) {
        T* yo = y + c_ * (ox + out_w_ * oy);
        const Eigen::Index first = c_ * (ox * stride_ + w_ * oy * stride_);
        for (Eigen::Index c = 0; c < c_; ++c) yo[c] = x[first + c];
        if (max) {
          std::int32_t* ao = arg + c_ * (ox + out_w_ * oy);
          for (Eigen::Index c = 0; c < c_; ++c) ao[c] = static_cast<std::int32_t>(first + c);
          for (Eigen::Index ky = 0; ky < kernel_; ++ky)
            for (Eigen::Index kx = ky == 0 ? 1 : 0; kx < kernel_; ++kx) {
              const Eigen::Index at = c_ * (ox * stride_ + kx + w_ * (oy * stride_ + ky));
              for (Eigen::Index c = 0; c < c_; ++c) {
                const T v = x[at + c];
                if (v > yo[c] || (std::isnan(v) && !std::isnan(yo[c]))) {
                  yo[c] = v;
                  ao[c] = static_cast<std::int32_t>(at + c);
                }
              }
            }
        } else {
          for (Eigen::Index ky = 0; ky < kernel_; ++ky)
            for (Eigen::Index kx = ky == 0 ? 1 : 0; kx < kernel_; ++kx) {
              const Eigen::Index at = c_ * (ox * stride_ + kx + w_ * (oy * stride_ + ky));
              for (Eigen::Index c = 0; c < c_; ++c) yo[c] += x[at + c];
            }
          for (Eigen::Index c = 0; c < c_; ++c) yo[c] *= scale;
        }
      }
  }
}

template <class T>
void Pool2d<T>::backward_impl(const T*, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T*,
                              const LayerPass&) const {
  if (!d_in) return;
  const Eigen::Index samples = in.cols(), in_size = h_ * w_ * c_, out_size = out_h_ * out_w_ * c_;
  d_in->setZero();
  if (kind_ == PoolKind::max) {
    for (Eigen::Index b = 0; b < samples; ++b) {
      T* dx = d_in->data() + b * in_size;
      const T* dy = d_out.data() + b * out_size;
      const std::int32_t* arg = argmax_.data() + b * out_size;
      for (Eigen::Index i = 0; i < out_size; ++i) dx[arg[i]] += dy[i];
    }
    return;
  }
  const T scale = T(1) / static_cast<T>(kernel_ * kernel_);
  for (Eigen::Index b = 0; b < samples; ++b) {
    T* dx = d_in->data() + b * in_size;
    const T* dy = d_out.data() + b * out_size;
    for (Eigen::Index oy = 0; oy < out_h_; ++oy)
      for (Eigen::Index ox = 0; ox < out_w_; ++ox) {
        const T* g = dy + c_ * (ox + out_w_ * oy);
        for (Eigen::Index ky = 0; ky < kernel_; ++ky)
          for (Eigen::Index kx = 0; kx < kernel_; ++kx) {
            T* d = dx + c_ * (ox * stride_ + kx + w_ * (oy * stride_ + ky));
            for (Eigen::Index c = 0; c < c_; ++c) d[c] += scale * g[c];
          }
      }
  }
}

template <class T>
void GlobalAvgPool<T>::forward_impl(const T*, ConstMap in, MutableMap out, const LayerPass&) const {
  const Eigen::Index c = this->input_shape().channels, positions = this->input_shape().height * this->input_shape().width;
  for (Eigen::Index b = 0; b < in.cols(); ++b)
    out.col(b) = Eigen::Map<const Matrix>(in.data() + b * in.rows(), c, positions).rowwise().sum() /
                 static_cast<T>(positions);
}

template <class T>
void GlobalAvgPool<T>::backward_impl(const T*, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T*,
                                     const LayerPass&) const {
  if (!d_in) return;
  const Eigen::Index c = this->input_shape().channels, positions = this->input_shape().height * this->input_shape().width;
  for (Eigen::Index b = 0; b < in.cols(); ++b)
    Eigen::Map<Matrix>(d_in->data() + b * in.rows(), c, positions).colwise() = d_out.col(b) / static_cast<T>(positions);
}

template class Pool2d<float>;
template class Pool2d<double>;
template class GlobalAvgPool<float>;
template class GlobalAvgPool<double>;

}  // namespace decent
