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

// Max pooling of sample-major channels-last images; with `arg`, also the offset (within its sample) of each output's
// first maximum. Written as compares and blends over the contiguous channels, so the channel loops vectorize. NaN
// counts as the maximum: the first NaN met stays.
template <class T>
void max_pool(const T* x, T* y, std::int32_t* arg, Eigen::Index samples, Eigen::Index c_, Eigen::Index h_,
              Eigen::Index w_, Eigen::Index out_h_, Eigen::Index out_w_, Eigen::Index kernel_, Eigen::Index stride_) {
  const Eigen::Index in_size = h_ * w_ * c_, out_size = out_h_ * out_w_ * c_;
  for (Eigen::Index b = 0; b < samples; ++b) {
    const T* xs = x + b * in_size;
    for (Eigen::Index oy = 0; oy < out_h_; ++oy)
      for (Eigen::Index ox = 0; ox < out_w_; ++ox) {
        T* yo = y + b * out_size + c_ * (ox + out_w_ * oy);
        std::int32_t* ao = arg ? arg + b * out_size + c_ * (ox + out_w_ * oy) : nullptr;
        const Eigen::Index first = c_ * (ox * stride_ + w_ * oy * stride_);
        for (Eigen::Index c = 0; c < c_; ++c) yo[c] = xs[first + c];
        if (ao)
          for (Eigen::Index c = 0; c < c_; ++c) ao[c] = static_cast<std::int32_t>(first + c);
        for (Eigen::Index ky = 0; ky < kernel_; ++ky)
          for (Eigen::Index kx = ky == 0 ? 1 : 0; kx < kernel_; ++kx) {
            const Eigen::Index at = c_ * (ox * stride_ + kx + w_ * (oy * stride_ + ky));
            const T* v = xs + at;
            if (ao) {
              for (Eigen::Index c = 0; c < c_; ++c) {
                const bool take = v[c] > yo[c] || (v[c] != v[c] && yo[c] == yo[c]);
                yo[c] = take ? v[c] : yo[c];
                ao[c] = take ? static_cast<std::int32_t>(at + c) : ao[c];
              }
            } else {
              for (Eigen::Index c = 0; c < c_; ++c) {
                const bool take = v[c] > yo[c] || (v[c] != v[c] && yo[c] == yo[c]);
                yo[c] = take ? v[c] : yo[c];
              }
            }
          }
      }
  }
}

// Inference max pooling without positions: first the maximum over the window's k rows for a whole row of pixels
// (contiguous values, so it vectorizes), then over the k columns of each window.
template <class T>
void max_pool_values(const T* x, T* y, T* rows, Eigen::Index samples, Eigen::Index c_, Eigen::Index h_, Eigen::Index w_,
                     Eigen::Index out_h_, Eigen::Index out_w_, Eigen::Index kernel_, Eigen::Index stride_) {
  const Eigen::Index in_size = h_ * w_ * c_, out_size = out_h_ * out_w_ * c_, row = w_ * c_;
  const auto pick = [](T m, T v) { return (v > m || (v != v && m == m)) ? v : m; };
  for (Eigen::Index b = 0; b < samples; ++b)
    for (Eigen::Index oy = 0; oy < out_h_; ++oy) {
      const T* top = x + b * in_size + oy * stride_ * row;
      for (Eigen::Index i = 0; i < row; ++i) rows[i] = top[i];
      for (Eigen::Index ky = 1; ky < kernel_; ++ky) {
        const T* next = top + ky * row;
        for (Eigen::Index i = 0; i < row; ++i) rows[i] = pick(rows[i], next[i]);
      }
      T* yo = y + b * out_size + oy * out_w_ * c_;
      for (Eigen::Index ox = 0; ox < out_w_; ++ox) {
        const T* first = rows + ox * stride_ * c_;
        for (Eigen::Index c = 0; c < c_; ++c) yo[ox * c_ + c] = first[c];
        for (Eigen::Index kx = 1; kx < kernel_; ++kx)
          for (Eigen::Index c = 0; c < c_; ++c) yo[ox * c_ + c] = pick(yo[ox * c_ + c], first[kx * c_ + c]);
      }
    }
}

template <class T>
void Pool2d<T>::forward_impl(const T*, ConstMap in, MutableMap out, const LayerPass& pass) const {
  const Eigen::Index samples = in.cols(), in_size = h_ * w_ * c_, out_size = out_h_ * out_w_ * c_;
  if (kind_ == PoolKind::max) {
    // Training keeps each maximum's position for the backward pass; inference does not need it.
    if (pass.training) {
      argmax_.resize(static_cast<std::size_t>(out_size * samples));
      max_pool(in.data(), out.data(), argmax_.data(), samples, c_, h_, w_, out_h_, out_w_, kernel_, stride_);
      argmax_samples_ = samples;
    } else {
      max_pool_values(in.data(), out.data(), detail::grow(rows_, w_ * c_), samples, c_, h_, w_, out_h_, out_w_, kernel_,
                      stride_);
      argmax_samples_ = 0;
    }
    return;
  }
  const T scale = T(1) / static_cast<T>(kernel_ * kernel_);
  for (Eigen::Index b = 0; b < samples; ++b) {
    const T* x = in.data() + b * in_size;
    T* y = out.data() + b * out_size;
    for (Eigen::Index oy = 0; oy < out_h_; ++oy)
      for (Eigen::Index ox = 0; ox < out_w_; ++ox) {
        T* yo = y + c_ * (ox + out_w_ * oy);
        const T* first = x + c_ * (ox * stride_ + w_ * oy * stride_);
        for (Eigen::Index c = 0; c < c_; ++c) yo[c] = first[c];
        for (Eigen::Index ky = 0; ky < kernel_; ++ky)
          for (Eigen::Index kx = ky == 0 ? 1 : 0; kx < kernel_; ++kx) {
            const T* at = x + c_ * (ox * stride_ + kx + w_ * (oy * stride_ + ky));
            for (Eigen::Index c = 0; c < c_; ++c) yo[c] += at[c];
          }
        for (Eigen::Index c = 0; c < c_; ++c) yo[c] *= scale;
      }
  }
}

template <class T>
void Pool2d<T>::backward_impl(const T*, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T*,
                              const LayerPass&) const {
  if (!d_in) return;
  const Eigen::Index samples = in.cols(), in_size = h_ * w_ * c_, out_size = out_h_ * out_w_ * c_;
  d_in->setZero();
  if (kind_ == PoolKind::max) {
    if (argmax_samples_ != samples) {
      // The forward pass was an inference pass: find the maxima's positions now.
      argmax_.resize(static_cast<std::size_t>(out_size * samples));
      Eigen::Matrix<T, Eigen::Dynamic, 1> again(out.size());
      max_pool(in.data(), again.data(), argmax_.data(), samples, c_, h_, w_, out_h_, out_w_, kernel_, stride_);
      argmax_samples_ = samples;
    }
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
