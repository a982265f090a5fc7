#include "decent/data/synthetic.hpp"

#include <catch2/catch.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace {

/// Accuracy of the nearest-class-mean classifier fitted on samples [0, train) and scored on [train, N).
double nearest_mean_accuracy(const decent::Dataset& d, Eigen::Index train) {
  Eigen::MatrixXf means = Eigen::MatrixXf::Zero(d.dim(), d.classes);
  Eigen::VectorXf count = Eigen::VectorXf::Zero(d.classes);
  for (Eigen::Index j = 0; j < train; ++j) {
    means.col(d.labels[static_cast<std::size_t>(j)]) += d.features.col(j);
    count(d.labels[static_cast<std::size_t>(j)]) += 1;
  }
  for (int c = 0; c < d.classes; ++c) means.col(c) /= count(c);
  int correct = 0;
  for (Eigen::Index j = train; j < d.size(); ++j) {
    Eigen::Index best = 0;
    (means.colwise() - d.features.col(j)).colwise().squaredNorm().minCoeff(&best);
    correct += best == d.labels[static_cast<std::size_t>(j)];
  }
  return static_cast<double>(correct) / static_cast<double>(d.size() - train);
}

/// Least squares w minimizing ||X^T w - y||.
Eigen::VectorXd least_squares(const decent::Dataset& d) {
  const Eigen::MatrixXd x = d.features.cast<double>().transpose();
  return x.colPivHouseholderQr().solve(d.targets.cast<double>());
}

}  // namespace

TEST_CASE("gaussian_mixture has balanced classes and the documented means", "[data][synthetic]") {
  const int classes = 5;
  const int dim = 8;
  const Eigen::Index n = 5003;
  const decent::Dataset d = decent::gaussian_mixture(classes, dim, n, 2.5, 42);
  CHECK(d.name == "gaussian mixture");
  REQUIRE(d.size() == n);
  REQUIRE(d.dim() == dim);
  CHECK(d.classes == classes);
  CHECK(d.targets.size() == 0);
  std::vector<int> count(classes, 0);
  for (std::size_t j = 0; j < d.labels.size(); ++j) {
    CHECK(d.labels[j] == static_cast<int>(j % classes));
    ++count[static_cast<std::size_t>(d.labels[j])];
  }
  for (int c : count) CHECK((c == 1000 || c == 1001));

  // Each class mean is estimated from ~1000 unit-variance samples: per coordinate the error has
  // standard deviation 1/sqrt(1000) ~ 0.032, so 0.2 (over 6 sigma) is a very safe bound for 40 coordinates.
  const Eigen::MatrixXf means = decent::gaussian_mixture_means(classes, dim, 2.5, 42);
  for (int c = 0; c < classes; ++c) {
    Eigen::VectorXf sum = Eigen::VectorXf::Zero(dim);
    for (Eigen::Index j = c; j < n; j += classes) sum += d.features.col(j);
    const Eigen::VectorXf estimate = sum / static_cast<float>(count[static_cast<std::size_t>(c)]);
    CHECK((estimate - means.col(c)).cwiseAbs().maxCoeff() < 0.2f);
  }
  // ||mu_c||^2 = separation^2 * chi2_dim / dim: its mean over classes is near 6.25 (loose bound).
  CHECK(means.colwise().squaredNorm().mean() == Approx(6.25).epsilon(0.6));
}

TEST_CASE("gaussian_mixture is deterministic and prefix-stable", "[data][synthetic]") {
  const decent::Dataset a = decent::gaussian_mixture(3, 4, 100, 2, 7);
  const decent::Dataset b = decent::gaussian_mixture(3, 4, 100, 2, 7);
  const decent::Dataset c = decent::gaussian_mixture(3, 4, 100, 2, 8);
  const decent::Dataset longer = decent::gaussian_mixture(3, 4, 250, 2, 7);
  CHECK(a.features == b.features);
  CHECK(a.labels == b.labels);
  CHECK(a.features != c.features);
  CHECK(longer.features.leftCols(100) == a.features);
}

TEST_CASE("gaussian_mixture with separation 3 is learnable, with 2 not trivial", "[data][synthetic]") {
  // Nearest class mean fitted on 2000 samples, scored on 4000 others (binomial sd < 0.008).
  const decent::Dataset easy = decent::gaussian_mixture(4, 50, 6000, 3.0, 1);
  CHECK(nearest_mean_accuracy(easy, 2000) > 0.9);
  const decent::Dataset ten = decent::gaussian_mixture(10, 50, 6000, 2.0, 1);
  const double acc = nearest_mean_accuracy(ten, 2000);
  CHECK(acc > 0.4);  // far above chance (0.1)
  CHECK(acc < 0.8);  // far from separable
  const decent::Dataset none = decent::gaussian_mixture(4, 50, 6000, 0.0, 1);
  CHECK(nearest_mean_accuracy(none, 2000) < 0.33);  // chance is 0.25, sd ~ 0.007
}

TEST_CASE("teacher_student: least squares recovers the teacher within the noise", "[data][synthetic]") {
  const int dim = 20;
  const Eigen::Index n = 2000;
  const double noise = 0.1;
  const decent::Dataset d = decent::teacher_student(dim, n, noise, 3);
  CHECK(d.name == "teacher-student");
  REQUIRE(d.size() == n);
  REQUIRE(d.dim() == dim);
  CHECK(d.classes == 0);
  CHECK(d.labels.empty());
  REQUIRE(d.targets.size() == n);
  const Eigen::VectorXd w = decent::teacher_weights(dim, 3).cast<double>();
  const Eigen::VectorXd fit = least_squares(d);
  // ||fit - w||^2 ~ noise^2 * chi2_dim / n (X X^T ~ n I): mean 1e-4. Nine times that is far out in the tail.
  const double expected = noise * noise * dim / static_cast<double>(n - dim - 1);
  CHECK((fit - w).squaredNorm() < 9 * expected);
  // Residual variance ~ noise^2 (sd ~ noise^2 * sqrt(2 / n) = 3%).
  const Eigen::VectorXd residual = d.features.cast<double>().transpose() * fit - d.targets.cast<double>();
  CHECK(residual.squaredNorm() / static_cast<double>(n - dim) == Approx(noise * noise).epsilon(0.15));
  // w* ~ N(0, I/dim): ||w*||^2 ~ chi2_20 / 20, sd 0.32.
  CHECK(w.squaredNorm() == Approx(1.0).margin(1.0));

  const decent::Dataset exact = decent::teacher_student(dim, 200, 0.0, 3);
  CHECK((least_squares(exact) - w).norm() < 1e-5);
  CHECK(exact.features == d.features.leftCols(200));  // sample j does not depend on the count
}

TEST_CASE("teacher_student_nodes: heterogeneity moves the node teachers", "[data][synthetic]") {
  const int nodes = 4;
  const int dim = 50;
  const std::uint64_t seed = 11;
  const Eigen::VectorXf w = decent::teacher_weights(dim, seed);

  const std::vector<decent::Dataset> iid = decent::teacher_student_nodes(nodes, dim, 300, 0.0, 0.0, seed);
  REQUIRE(iid.size() == static_cast<std::size_t>(nodes));
  for (int i = 0; i < nodes; ++i) {
    const decent::Dataset& d = iid[static_cast<std::size_t>(i)];
    CHECK(d.name == "teacher-student node " + std::to_string(i));
    CHECK(d.size() == 300);
    CHECK(decent::node_teacher_weights(dim, i, 0.0, seed) == w);
    CHECK((least_squares(d) - w.cast<double>()).norm() < 1e-4);
  }
  CHECK(iid[0].features != iid[1].features);

  const std::vector<decent::Dataset> skew = decent::teacher_student_nodes(nodes, dim, 300, 0.05, 1.0, seed);
  for (int i = 0; i < nodes; ++i) {
    const Eigen::VectorXf wi = decent::node_teacher_weights(dim, i, 1.0, seed);
    // ||w_i - w*||^2 = ||delta_i||^2 ~ chi2_50 / 50: mean 1, sd 0.2.
    CHECK((wi - w).squaredNorm() == Approx(1.0).margin(0.8));
    // The least-squares fit finds the node's own teacher (error ~ 0.05 * sqrt(50 / 250) ~ 0.02).
    CHECK((least_squares(skew[static_cast<std::size_t>(i)]) - wi.cast<double>()).norm() < 0.1);
  }
  // Twice the heterogeneity, twice the displacement (same delta_i).
  CHECK((decent::node_teacher_weights(dim, 2, 2.0, seed) - w).isApprox(
      2 * (decent::node_teacher_weights(dim, 2, 1.0, seed) - w), 1e-5f));
}

TEST_CASE("synthetic generators validate their arguments", "[data][synthetic]") {
  CHECK_THROWS_AS(decent::gaussian_mixture(0, 2, 10, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(decent::gaussian_mixture(2, 0, 10, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(decent::gaussian_mixture(2, 2, -1, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(decent::gaussian_mixture(2, 2, 10, -1, 0), std::invalid_argument);
  CHECK_THROWS_AS(decent::gaussian_mixture(2, 2, 10, std::nan(""), 0), std::invalid_argument);
  CHECK_THROWS_AS(decent::teacher_student(0, 10, 0.1, 0), std::invalid_argument);
  CHECK_THROWS_AS(decent::teacher_student(3, 10, -0.1, 0), std::invalid_argument);
  CHECK_THROWS_AS(decent::teacher_student_nodes(0, 3, 10, 0.1, 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(decent::teacher_student_nodes(2, 3, 10, 0.1, -1, 0), std::invalid_argument);
  CHECK_THROWS_WITH(decent::teacher_student_nodes(2, 3, -5, 0.1, 0, 0), Catch::Contains("per_node = -5"));
}
