#include "decent/model/network.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace decent {

namespace {
template <class T>
std::string number(T value) {
  std::ostringstream text;
  text << value;
  return text.str();
}
}  // namespace

template <class T>
Network<T>::Network(Sequence<T> layers, TensorShape input, int classes, std::optional<std::size_t> feature_index,
                    T label_smoothing)
    : layers_(std::move(layers)), classes_(classes), smoothing_(label_smoothing) {
  if (classes < 2) throw std::invalid_argument("a classifier needs >= 2 classes, got " + std::to_string(classes));
  if (!(label_smoothing >= 0 && label_smoothing < 1))
    throw std::invalid_argument("label_smoothing must be in [0, 1), got " + number(label_smoothing));
  const std::size_t n = layers_.size();
  if (feature_index && *feature_index > n)
    throw std::invalid_argument("feature layer " + std::to_string(*feature_index) + " is past the " +
                                std::to_string(n) + " layers");
  layers_.name_last_dense_head();
  const TensorShape out = layers_.bind(input, Gain::linear);
  if (out != TensorShape{classes, 1, 1})
    throw shape_error("the layers map the input " + input.to_string() + " to " + out.to_string() +
                      " values per sample, but the data has " + std::to_string(classes) + " classes (end with dense(" +
                      std::to_string(classes) + "))");
  if (feature_index) {
    feature_index_ = *feature_index;
  } else {
    feature_index_ = n;
    for (std::size_t i = 0; i < n; ++i)
      if (layers_.layer(i).kind() == "dense") feature_index_ = i;
  }
}

template <class T>
TensorShape Network<T>::feature_shape() const {
  return feature_index_ == 0 ? layers_.input_shape() : layers_.layer(feature_index_ - 1).output_shape();
}

template <class T>
std::vector<ParameterBlock> Network<T>::blocks() const {
  const Eigen::Index head_start =
      feature_index_ < layers_.size() ? layers_.offset(feature_index_) : layers_.parameter_count();
  std::vector<ParameterBlock> out;
  for (const ParameterSpec& p : layers_.parameters())
    out.push_back({p.name, p.offset, p.size(), p.shape, p.offset < head_start ? BlockRole::base : BlockRole::head});
  return out;
}

template <class T>
std::vector<MatrixBlock> Network<T>::matrix_blocks() const {
  std::vector<MatrixBlock> out;
  for (const ParameterSpec& p : layers_.parameters())
    if (p.matrix) out.push_back({p.offset, p.shape.front(), p.size() / p.shape.front()});
  return out;
}

template <class T>
typename Network<T>::ConstMap Network<T>::logits(const T* params, ConstMap x) const {
  return layers_.run(params, x, LayerPass{}, layers_.size());
}

template <class T>
typename Network<T>::ConstMap Network<T>::features(const T* params, ConstMap x) const {
  return layers_.run(params, x, LayerPass{}, feature_index_);
}

template <class T>
typename Network<T>::MutableMap Network<T>::copy_logits(ConstMap logits) const {
  T* z = detail::grow(z_, logits.size());
  MutableMap copy(z, logits.rows(), logits.cols());
  copy = logits;
  return copy;
}

template <class T>
T Network<T>::loss(const T* params, ConstMap x, std::span<const int> labels) const {
  return plain_cross_entropy(copy_logits(logits(params, x)), labels, false);
}

template <class T>
std::pair<T, std::int64_t> Network<T>::evaluate(const T* params, ConstMap x, std::span<const int> labels) const {
  const ConstMap z = logits(params, x);
  std::int64_t correct = 0;
  for (Eigen::Index j = 0; j < z.cols(); ++j) {
    Eigen::Index best = 0;
    z.col(j).maxCoeff(&best);
    correct += best == labels[static_cast<std::size_t>(j)];
  }
  return {plain_cross_entropy(copy_logits(z), labels, false), correct};
}

template <class T>
void Network<T>::predict(const T* params, ConstMap x, std::span<int> out) const {
  const ConstMap z = logits(params, x);
  for (Eigen::Index j = 0; j < z.cols(); ++j) {
    Eigen::Index best = 0;
    z.col(j).maxCoeff(&best);
    out[static_cast<std::size_t>(j)] = static_cast<int>(best);
  }
}

template <class T>
void Network<T>::per_sample_loss(const T* params, ConstMap x, std::span<const int> labels, std::span<T> loss,
                                 std::span<std::uint8_t> correct) const {
  const ConstMap z = logits(params, x);
  const T eps = smoothing_, c = static_cast<T>(classes_);
  for (Eigen::Index j = 0; j < z.cols(); ++j) {
    Eigen::Index best = 0;
    const T max = z.col(j).maxCoeff(&best);
    const int y = labels[static_cast<std::size_t>(j)];
    T exp_sum = 0, all = 0;
    for (Eigen::Index k = 0; k < z.rows(); ++k) {
      exp_sum += std::exp(z(k, j) - max);
      all += z(k, j) - max;
    }
    loss[static_cast<std::size_t>(j)] = std::log(exp_sum) - (1 - eps) * (z(y, j) - max) - eps / c * all;
    if (!correct.empty()) correct[static_cast<std::size_t>(j)] = best == y ? 1 : 0;
  }
}

template <class T>
T Network<T>::plain_cross_entropy(MutableMap logits, std::span<const int> labels, bool want_gradient) const {
  using Row = Eigen::Matrix<T, 1, Eigen::Dynamic>;
  const Eigen::Index classes = logits.rows(), batch = logits.cols();
  T* columns = detail::grow(columns_, 2 * batch);
  Eigen::Map<Row> column_max(columns, batch), exp_sum(columns + batch, batch);

  // Shift every column by its max: exp() then lies in (0, 1] and each exp_sum is >= 1, so the log-softmax
  // log p_c = z_c - log(sum exp z) is computed without overflow or log(0).
  column_max = logits.colwise().maxCoeff();
  logits.rowwise() -= column_max;
  T picked = 0;  // sum over samples of the shifted logit of the true class
  for (Eigen::Index j = 0; j < batch; ++j) picked += logits(labels[static_cast<std::size_t>(j)], j);
  const T eps = smoothing_;
  const T all = eps > 0 ? logits.sum() : T(0);  // smoothing puts eps / classes on every logit
  logits = logits.array().exp();
  exp_sum = logits.colwise().sum();
  const T log_sum = exp_sum.array().log().sum();
  const auto b = static_cast<T>(batch), c = static_cast<T>(classes);
  const T loss = (log_sum - (1 - eps) * picked - eps / c * all) / b;
  if (!want_gradient) return loss;

  // d(mean loss)/dz = (softmax(z) - target) / B, written over the logits.
  exp_sum = (exp_sum.array() * b).inverse();
  logits.array().rowwise() *= exp_sum.array();
  const T hit = (1 - eps) / b;
  for (Eigen::Index j = 0; j < batch; ++j) logits(labels[static_cast<std::size_t>(j)], j) -= hit;
  if (eps > 0) logits.array() -= eps / (c * b);
  return loss;
}

template <class T>
T Network<T>::objective_cross_entropy(MutableMap z, const BasicObjective<T>& o) const {
  const Eigen::Index classes = z.rows(), batch = z.cols();
  const bool soft = !o.soft_targets.empty();
  const T s = soft ? o.soft_weight : T(0), tau = o.temperature, eps = smoothing_, c = static_cast<T>(classes);
  const bool hard = s < 1;
  const T inv_b = T(1) / static_cast<T>(batch);
  T total = 0;
  T* p = detail::grow(columns_, classes);
  for (Eigen::Index j = 0; j < batch; ++j) {
    const T w = o.sample_weights.empty() ? T(1) : o.sample_weights[static_cast<std::size_t>(j)];
    auto col = z.col(j);
    T sample = 0;
    Eigen::Map<Vector> grad(p, classes);
    grad.setZero();
    if (hard) {
      const int y = o.labels[static_cast<std::size_t>(j)];
      const T max = col.maxCoeff();
      T exp_sum = 0, all = 0;
      for (Eigen::Index k = 0; k < classes; ++k) {
        exp_sum += std::exp(col[k] - max);
        all += col[k] - max;
      }
      const T lse = std::log(exp_sum);
      sample += (1 - s) * (lse - (1 - eps) * (col[y] - max) - eps / c * all);
      for (Eigen::Index k = 0; k < classes; ++k) {
        const T target = (k == y ? 1 - eps : T(0)) + eps / c;
        grad[k] += (1 - s) * (std::exp(col[k] - max - lse) - target);
      }
    }
    if (soft) {
      // tau^2 CE(q, softmax(z / tau)); d/dz = tau (sum(q) softmax(z / tau) - q).
      const T* q = o.soft_targets.data() + j * classes;
      const T max = col.maxCoeff() / tau;
      T exp_sum = 0, q_sum = 0, q_dot = 0;
      for (Eigen::Index k = 0; k < classes; ++k) {
        exp_sum += std::exp(col[k] / tau - max);
        q_sum += q[k];
        q_dot += q[k] * col[k] / tau;
      }
      const T lse = std::log(exp_sum) + max;
      sample += s * tau * tau * (q_sum * lse - q_dot);
      for (Eigen::Index k = 0; k < classes; ++k) grad[k] += s * tau * (q_sum * std::exp(col[k] / tau - lse) - q[k]);
    }
    total += w * sample;
    col = grad * (w * inv_b);
  }
  return total * inv_b;
}

template <class T>
T Network<T>::loss_and_gradient(const T* params, ConstMap x, const BasicObjective<T>& objective, T* grad) const {
  LayerPass pass{true, objective.rng};
  if (stochastic() && !objective.rng)
    throw std::invalid_argument("the model has stochastic layers (dropout): training needs a random stream "
                                "(Objective::rng)");
  const ConstMap z = layers_.run(params, x, pass, layers_.size());
  MutableMap dz = copy_logits(z);
  const bool plain = objective.soft_targets.empty() && objective.sample_weights.empty();
  const T loss = plain ? plain_cross_entropy(dz, objective.labels, true) : objective_cross_entropy(dz, objective);
  const bool inject = !objective.feature_gradient.empty() && feature_index_ > 0;
  layers_.back(params, x, ConstMap(dz.data(), dz.rows(), dz.cols()), nullptr, grad, pass, inject ? feature_index_ : 0,
               inject ? objective.feature_gradient.data() : nullptr);
  return loss;
}

template class Network<float>;
template class Network<double>;

}  // namespace decent
