#pragma once
/// @file Seeded synthetic data sets: a Gaussian mixture (classification) and a linear teacher
/// (regression, optionally different per node). Every sample comes from its own random stream
/// derive_seed(seed, {...}), so the results are identical on every platform, and sample j does not
/// depend on how many samples are drawn.
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "decent/data/dataset.hpp"

namespace decent {

/// A balanced mixture of `classes` unit-variance Gaussians in `dim` dimensions, named "gaussian mixture".
/// Class means mu_c = separation * g_c with g_c ~ N(0, I/dim), so ||mu_c|| ~ separation and two means are
/// about separation * sqrt(2) apart; a sample of class c is x = mu_c + N(0, I). The two-class
/// nearest-mean error is then about Phi(-separation / sqrt(2)): 7.9% at separation 2, 1.7% at 3. The
/// nearest-mean accuracy (close to Bayes) is about 80% at separation 2 and 95% at 3 with 4 classes, and
/// about 63% and 87% with 10 classes (dim 20 to 100): learnable, not trivially separable.
/// Sample j has label j % classes (so every prefix is balanced).
/// Throws std::invalid_argument unless classes >= 1, dim >= 1, samples >= 0, separation >= 0 (finite).
Dataset gaussian_mixture(int classes, int dim, Eigen::Index samples, double separation, std::uint64_t seed);

/// The class means of gaussian_mixture(classes, dim, ., separation, seed), as columns (dim x classes).
Eigen::MatrixXf gaussian_mixture_means(int classes, int dim, double separation, std::uint64_t seed);

/// The teacher w* ~ N(0, I/dim) of teacher_student(dim, ., ., seed) (so Var(w*^T x) ~ 1 for x ~ N(0, I)).
Eigen::VectorXf teacher_weights(int dim, std::uint64_t seed);

/// Linear regression data, named "teacher-student": x ~ N(0, I), y = w*^T x + noise * N(0, 1) with
/// w* = teacher_weights(dim, seed). Throws std::invalid_argument unless dim >= 1, samples >= 0, noise >= 0.
Dataset teacher_student(int dim, Eigen::Index samples, double noise, std::uint64_t seed);

/// Node i's teacher in teacher_student_nodes: w* + heterogeneity * delta_i, delta_i ~ N(0, I/dim).
/// Throws std::invalid_argument unless dim >= 1, node >= 0, heterogeneity >= 0.
Eigen::VectorXf node_teacher_weights(int dim, int node, double heterogeneity, std::uint64_t seed);

/// Regression data for `nodes` nodes, per_node samples each, named "teacher-student node i": node i draws
/// x ~ N(0, I), y = w_i^T x + noise * N(0, 1) with w_i = node_teacher_weights(dim, i, heterogeneity, seed).
/// heterogeneity = 0 is the IID case (every node has the teacher w* = teacher_weights(dim, seed));
/// heterogeneity = 1 makes the node teachers differ from w* by about as much as w* itself is long.
/// Throws std::invalid_argument unless nodes >= 1, dim >= 1, per_node >= 0, noise >= 0, heterogeneity >= 0.
std::vector<Dataset> teacher_student_nodes(int nodes, int dim, Eigen::Index per_node, double noise,
                                           double heterogeneity, std::uint64_t seed);

}  // namespace decent
