#include "decent/model/residual.hpp"

namespace decent {

template <class T>
Residual<T>::Residual(Sequence<T> body, Shortcut shortcut) : body_(std::move(body)), shortcut_(shortcut) {
  if (body_.size() == 0) throw std::invalid_argument("residual: the body needs at least one layer");
}

template <class T>
Residual<T>::Residual(const Residual& other)
    : BasicLayer<T>(other), body_(other.body_), shortcut_(other.shortcut_),
      projection_(other.projection_ ? std::make_unique<Conv2d<T>>(*other.projection_) : nullptr),
      projection_offset_(other.projection_offset_) {}

template <class T>
std::string Residual<T>::describe_impl() const {
  const char* shortcut = shortcut_ == Shortcut::automatic ? "" : shortcut_ == Shortcut::identity ? ",shortcut=identity"
                                                                                                 : ",shortcut=proj";
  return "residual(" + body_.describe() + shortcut + ")";
}

template <class T>
TensorShape Residual<T>::bind_impl(const TensorShape& input, Gain following) {
  const TensorShape out = body_.bind(input, following);
  for (const ParameterSpec& p : body_.parameters()) this->declare(p.name, p.shape, p.matrix);
  const bool same = out == input;
  if (shortcut_ == Shortcut::identity && !same)
    throw shape_error(this->describe() + ": an identity shortcut needs the body to keep the shape, but it maps " +
                      input.to_string() + " to " + out.to_string());
  if (shortcut_ == Shortcut::identity || (shortcut_ == Shortcut::automatic && same)) return out;
  // A 1x1 convolution with stride s maps H to (H - 1) / s + 1: find the s that gives the body's output size.
  Eigen::Index stride = 0;
  for (Eigen::Index s = 1; s <= input.height && stride == 0; ++s)
    if ((input.height - 1) / s + 1 == out.height && (input.width - 1) / s + 1 == out.width) stride = s;
  if (stride == 0)
    throw shape_error(this->describe() + ": no 1x1 projection with an integer stride maps the input " + input.to_string() +
                      " to the body's output " + out.to_string());
  projection_ = std::make_unique<Conv2d<T>>(Conv2dOptions{out.channels, 1, stride, 0, false});
  projection_->bind(input, following);
  projection_offset_ = this->parameter_count();
  for (const ParameterSpec& p : projection_->parameters()) this->declare("proj." + p.name, p.shape, p.matrix);
  return out;
}

template <class T>
void Residual<T>::initialize_impl(T* params, Rng& rng) const {
  body_.initialize(params, rng);
  if (projection_) projection_->initialize(params + projection_offset_, rng);
}

template <class T>
void Residual<T>::forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const {
  out = body_.run(params, in, pass, body_.size());
  if (!projection_) {
    out += in;
    return;
  }
  T* shortcut = detail::grow(scratch_, out.size());
  MutableMap s(shortcut, out.rows(), out.cols());
  projection_->forward(params + projection_offset_, in, s, pass);
  out += s;
}

template <class T>
void Residual<T>::backward_impl(const T* params, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T* d_params,
                                const LayerPass& pass) const {
  body_.back(params, in, d_out, d_in, d_params, pass);
  if (!projection_) {
    if (d_in) *d_in += d_out;
    return;
  }
  // The projection's input gradient goes to scratch, then joins the body's.
  T* buffer = d_in ? detail::grow(scratch_, in.size()) : nullptr;
  MutableMap share(buffer, in.rows(), in.cols());
  // The projection's backward reads its input (in) and d_out only; its forward output is not needed.
  projection_->backward(params + projection_offset_, in, d_out, d_out, d_in ? &share : nullptr,
                        d_params + projection_offset_, pass);
  if (d_in) *d_in += share;
}

template class Residual<float>;
template class Residual<double>;

}  // namespace decent
