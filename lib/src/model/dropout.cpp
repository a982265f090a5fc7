#include "decent/model/dropout.hpp"

#include <sstream>

namespace decent {

template <class T>
Dropout<T>::Dropout(double p) : p_(p) {
  if (!(p >= 0 && p < 1)) throw std::invalid_argument("dropout: p must be in [0, 1), got " + std::to_string(p));
}

template <class T>
std::string Dropout<T>::describe_impl() const {
  std::ostringstream text;
  text << "dropout(" << p_ << ")";
  return text.str();
}

template <class T>
void Dropout<T>::forward_impl(const T*, ConstMap in, MutableMap out, const LayerPass& pass) const {
  if (!pass.training || p_ == 0) {
    out = in;
    return;
  }
  if (!pass.rng)
    throw std::invalid_argument(this->describe() + " needs a random stream while training (Objective::rng or LayerPass::rng)");
  const Eigen::Index n = in.size();
  mask_.resize(n);
  const T keep = static_cast<T>(1 / (1 - p_));
  for (Eigen::Index i = 0; i < n; ++i) mask_[i] = pass.rng->uniform() < p_ ? T(0) : keep;
  out.array() = in.array() * Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>>(mask_.data(), in.rows(), in.cols());
}

template <class T>
void Dropout<T>::backward_impl(const T*, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T*,
                               const LayerPass& pass) const {
  if (!d_in) return;
  if (!pass.training || p_ == 0) {
    *d_in = d_out;
    return;
  }
  d_in->array() = d_out.array() * Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>>(mask_.data(), in.rows(), in.cols());
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace decent
