#include "decent/model/group_norm.hpp"

#include <cmath>
#include <sstream>

namespace decent {

template <class T>
GroupNorm<T>::GroupNorm(Eigen::Index groups, double eps) : groups_(groups), eps_(eps) {
  if (groups < 1) throw std::invalid_argument("groupnorm: groups must be >= 1, got " + std::to_string(groups));
  if (!(eps > 0)) throw std::invalid_argument("groupnorm: eps must be > 0, got " + std::to_string(eps));
}

template <class T>
std::string GroupNorm<T>::describe_impl() const {
  std::ostringstream text;
  text << "gn(" << groups_ << ",eps=" << eps_ << ")";
  return text.str();
}

template <class T>
TensorShape GroupNorm<T>::bind_impl(const TensorShape& input, Gain) {
  if (input.channels % groups_ != 0)
    throw shape_error(this->describe() + ": the " + std::to_string(input.channels) + " channels of input " +
                      input.to_string() + " do not split into " + std::to_string(groups_) + " equal groups");
  channels_ = input.channels;
  positions_ = input.height * input.width;
  this->declare("scale", {channels_});
  this->declare("shift", {channels_});
  return input;
}

template <class T>
void GroupNorm<T>::initialize_impl(T* params, Rng&) const {
  for (Eigen::Index c = 0; c < channels_; ++c) {
    params[c] = T(1);
    params[channels_ + c] = T(0);
  }
}

template <class T>
void GroupNorm<T>::forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass&) const {
  const Eigen::Index samples = in.cols(), per_group = channels_ / groups_;
  const double count = static_cast<double>(per_group * positions_);
  mean_.resize(groups_ * samples);
  rstd_.resize(groups_ * samples);
  const T* scale = params;
  const T* shift = params + channels_;
  for (Eigen::Index b = 0; b < samples; ++b) {
    const T* x = in.data() + b * in.rows();
    T* y = out.data() + b * out.rows();
    for (Eigen::Index g = 0; g < groups_; ++g) {
      const Eigen::Index c0 = g * per_group;
      // Two passes in double: the variance of values far from zero stays accurate.
      double sum = 0;
      for (Eigen::Index p = 0; p < positions_; ++p)
        for (Eigen::Index c = c0; c < c0 + per_group; ++c) sum += static_cast<double>(x[c + channels_ * p]);
      const double mean = sum / count;
      double squares = 0;
      for (Eigen::Index p = 0; p < positions_; ++p)
        for (Eigen::Index c = c0; c < c0 + per_group; ++c) {
          const double d = static_cast<double>(x[c + channels_ * p]) - mean;
          squares += d * d;
        }
      const T m = static_cast<T>(mean), r = static_cast<T>(1 / std::sqrt(squares / count + eps_));
      mean_[g + groups_ * b] = m;
      rstd_[g + groups_ * b] = r;
      for (Eigen::Index p = 0; p < positions_; ++p)
        for (Eigen::Index c = c0; c < c0 + per_group; ++c) {
          const Eigen::Index i = c + channels_ * p;
          y[i] = (x[i] - m) * r * scale[c] + shift[c];
        }
    }
  }
}

template <class T>
void GroupNorm<T>::backward_impl(const T* params, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in,
                                 T* d_params, const LayerPass&) const {
  const Eigen::Index samples = in.cols(), per_group = channels_ / groups_;
  const T count = static_cast<T>(per_group * positions_);
  const T* scale = params;
  T* d_scale = d_params;
  T* d_shift = d_params + channels_;
  for (Eigen::Index c = 0; c < 2 * channels_; ++c) d_params[c] = T(0);
  for (Eigen::Index b = 0; b < samples; ++b) {
    const T* x = in.data() + b * in.rows();
    const T* dy = d_out.data() + b * d_out.rows();
    T* dx = d_in ? d_in->data() + b * d_in->rows() : nullptr;
    for (Eigen::Index g = 0; g < groups_; ++g) {
      const Eigen::Index c0 = g * per_group;
      const T m = mean_[g + groups_ * b], r = rstd_[g + groups_ * b];
      // With xhat = (x - m) r and dxhat = dy scale: dx = r (dxhat - mean(dxhat) - xhat mean(dxhat xhat)).
      T sum_dxhat = 0, sum_dxhat_xhat = 0;
      for (Eigen::Index p = 0; p < positions_; ++p)
        for (Eigen::Index c = c0; c < c0 + per_group; ++c) {
          const Eigen::Index i = c + channels_ * p;
          const T xhat = (x[i] - m) * r;
          d_scale[c] += dy[i] * xhat;
          d_shift[c] += dy[i];
          const T dxhat = dy[i] * scale[c];
          sum_dxhat += dxhat;
          sum_dxhat_xhat += dxhat * xhat;
        }
      if (!dx) continue;
      const T mean_dxhat = sum_dxhat / count, mean_dxhat_xhat = sum_dxhat_xhat / count;
      for (Eigen::Index p = 0; p < positions_; ++p)
        for (Eigen::Index c = c0; c < c0 + per_group; ++c) {
          const Eigen::Index i = c + channels_ * p;
          const T xhat = (x[i] - m) * r;
          dx[i] = r * (dy[i] * scale[c] - mean_dxhat - xhat * mean_dxhat_xhat);
        }
    }
  }
}

template class GroupNorm<float>;
template class GroupNorm<double>;

}  // namespace decent
