#include "decent/data/synthetic.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "decent/core/random.hpp"

namespace decent {
namespace {

// Stream tags, so that no two generators (or parts of one) ever share a random stream.
enum : std::uint64_t {
  tag_mixture_mean = 0,
  tag_mixture_sample = 1,
  tag_teacher = 2,
  tag_teacher_sample = 3,
  tag_node_delta = 4,
  tag_node_sample = 5,
};

void require(bool ok, const char* function, const std::string& problem) {
  if (!ok) throw std::invalid_argument(std::string(function) + ": " + problem);
}

void check_real(const char* function, const char* name, double value) {
  require(std::isfinite(value) && value >= 0, function,
          std::string(name) + " = " + std::to_string(value) + " must be finite and >= 0");
}

/// A vector of `dim` independent N(0, scale^2) values from the stream `stream_seed`.
Eigen::VectorXf gaussian_vector(int dim, double scale, std::uint64_t stream_seed) {
  Rng rng(stream_seed);
  Eigen::VectorXf v(dim);
  for (int k = 0; k < dim; ++k) v(k) = static_cast<float>(scale * rng.normal());
  return v;
}

/// Fills column j of data with x ~ N(0, I) and its target y = w^T x + noise * N(0, 1), all from one stream.
void teacher_sample(Dataset& data, Eigen::Index j, const Eigen::VectorXf& w, double noise, std::uint64_t stream_seed) {
  Rng rng(stream_seed);
  double y = 0;
  for (Eigen::Index k = 0; k < w.size(); ++k) {
    const auto x = static_cast<float>(rng.normal());
    data.features(k, j) = x;
    y += static_cast<double>(w(k)) * x;  // the stored float values, so y - w^T x is exactly the noise
  }
  data.targets(j) = static_cast<float>(y + noise * rng.normal());
}

}  // namespace

Eigen::MatrixXf gaussian_mixture_means(int classes, int dim, double separation, std::uint64_t seed) {
  constexpr const char* f = "gaussian_mixture";
  require(classes >= 1, f, "classes = " + std::to_string(classes) + " must be >= 1");
  require(dim >= 1, f, "dim = " + std::to_string(dim) + " must be >= 1");
  check_real(f, "separation", separation);
  Eigen::MatrixXf means(dim, classes);
  const double scale = separation / std::sqrt(static_cast<double>(dim));
  for (int c = 0; c < classes; ++c)
    means.col(c) = gaussian_vector(dim, scale, derive_seed(seed, {tag_mixture_mean, static_cast<std::uint64_t>(c)}));
  return means;
}

Dataset gaussian_mixture(int classes, int dim, Eigen::Index samples, double separation, std::uint64_t seed) {
  require(samples >= 0, "gaussian_mixture", "samples = " + std::to_string(samples) + " must be >= 0");
  const Eigen::MatrixXf means = gaussian_mixture_means(classes, dim, separation, seed);
  Dataset data;
  data.name = "gaussian mixture";
  data.classes = classes;
  data.features.resize(dim, samples);
  data.labels.resize(static_cast<std::size_t>(samples));
  for (Eigen::Index j = 0; j < samples; ++j) {
    const int c = static_cast<int>(j % classes);
    Rng rng(derive_seed(seed, {tag_mixture_sample, static_cast<std::uint64_t>(j)}));
    for (int k = 0; k < dim; ++k) data.features(k, j) = means(k, c) + static_cast<float>(rng.normal());
    data.labels[static_cast<std::size_t>(j)] = c;
  }
  return data;
}

Eigen::VectorXf teacher_weights(int dim, std::uint64_t seed) {
  require(dim >= 1, "teacher_weights", "dim = " + std::to_string(dim) + " must be >= 1");
  return gaussian_vector(dim, 1 / std::sqrt(static_cast<double>(dim)), derive_seed(seed, {tag_teacher}));
}

Dataset teacher_student(int dim, Eigen::Index samples, double noise, std::uint64_t seed) {
  require(dim >= 1, "teacher_student", "dim = " + std::to_string(dim) + " must be >= 1");
  require(samples >= 0, "teacher_student", "samples = " + std::to_string(samples) + " must be >= 0");
  check_real("teacher_student", "noise", noise);
  const Eigen::VectorXf w = teacher_weights(dim, seed);
  Dataset data;
  data.name = "teacher-student";
  data.features.resize(dim, samples);
  data.targets.resize(samples);
  for (Eigen::Index j = 0; j < samples; ++j)
    teacher_sample(data, j, w, noise, derive_seed(seed, {tag_teacher_sample, static_cast<std::uint64_t>(j)}));
  return data;
}

Eigen::VectorXf node_teacher_weights(int dim, int node, double heterogeneity, std::uint64_t seed) {
  constexpr const char* f = "node_teacher_weights";
  require(dim >= 1, f, "dim = " + std::to_string(dim) + " must be >= 1");
  require(node >= 0, f, "node = " + std::to_string(node) + " must be >= 0");
  check_real(f, "heterogeneity", heterogeneity);
  const double scale = 1 / std::sqrt(static_cast<double>(dim));
  Eigen::VectorXf w = teacher_weights(dim, seed);
  if (heterogeneity > 0) {
    const Eigen::VectorXf delta =
        gaussian_vector(dim, scale, derive_seed(seed, {tag_node_delta, static_cast<std::uint64_t>(node)}));
    w += static_cast<float>(heterogeneity) * delta;
  }
  return w;
}

std::vector<Dataset> teacher_student_nodes(int nodes, int dim, Eigen::Index per_node, double noise,
                                           double heterogeneity, std::uint64_t seed) {
  constexpr const char* f = "teacher_student_nodes";
  require(nodes >= 1, f, "nodes = " + std::to_string(nodes) + " must be >= 1");
  require(dim >= 1, f, "dim = " + std::to_string(dim) + " must be >= 1");
  require(per_node >= 0, f, "per_node = " + std::to_string(per_node) + " must be >= 0");
  check_real(f, "noise", noise);
  check_real(f, "heterogeneity", heterogeneity);
  std::vector<Dataset> sets(static_cast<std::size_t>(nodes));
  for (int i = 0; i < nodes; ++i) {
    const Eigen::VectorXf w = node_teacher_weights(dim, i, heterogeneity, seed);
    Dataset& data = sets[static_cast<std::size_t>(i)];
    data.name = "teacher-student node " + std::to_string(i);
    data.features.resize(dim, per_node);
    data.targets.resize(per_node);
    const auto node = static_cast<std::uint64_t>(i);
    for (Eigen::Index j = 0; j < per_node; ++j)
      teacher_sample(data, j, w, noise, derive_seed(seed, {tag_node_sample, node, static_cast<std::uint64_t>(j)}));
  }
  return sets;
}

}  // namespace decent
