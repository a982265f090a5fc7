#include "decent/model/gemm.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "decent/core/random.hpp"
#include "model/gemm_detail.hpp"

using namespace decent;

namespace {

Eigen::MatrixXf random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = static_cast<float>(rng.normal());
  return m;
}

/// op(A) op(B) with plain loops in double: the independent reference.
Eigen::MatrixXd reference(bool ta, bool tb, const Eigen::Ref<const Eigen::MatrixXf>& a,
                          const Eigen::Ref<const Eigen::MatrixXf>& b) {
  const Eigen::Index m = ta ? a.cols() : a.rows(), k = ta ? a.rows() : a.cols(), n = tb ? b.rows() : b.cols();
  Eigen::MatrixXd c(m, n);
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      double sum = 0;
      for (Eigen::Index l = 0; l < k; ++l)
        sum += static_cast<double>(ta ? a(l, i) : a(i, l)) * static_cast<double>(tb ? b(j, l) : b(l, j));
      c(i, j) = sum;
    }
  return c;
}

/// Largest |C - reference| relative to the largest |reference| entry.
double relative_error(const Eigen::MatrixXf& c, const Eigen::MatrixXd& want) {
  return (c.cast<double>() - want).cwiseAbs().maxCoeff() / std::max(1.0, want.cwiseAbs().maxCoeff());
}

}  // namespace

TEST_CASE("gemm matches a loop reference for every transposition, strided views and both size regimes", "[gemm]") {
  Rng rng(11);
  // (m, n, k): below the OpenBLAS threshold, above it, and the MLP's shapes.
  const Eigen::Index shapes[][3] = {{3, 5, 7}, {17, 33, 65}, {256, 64, 784}, {10, 64, 256}};
  for (const auto& s : shapes) {
    const Eigen::Index m = s[0], n = s[1], k = s[2];
    for (const bool ta : {false, true})
      for (const bool tb : {false, true}) {
        CAPTURE(m, n, k, ta, tb);
        // Views into larger matrices: leading dimensions differ from the row counts.
        Eigen::MatrixXf big_a = random_matrix((ta ? k : m) + 3, (ta ? m : k) + 1, rng);
        Eigen::MatrixXf big_b = random_matrix((tb ? n : k) + 2, (tb ? k : n), rng);
        const auto a = big_a.topLeftCorner(ta ? k : m, ta ? m : k);
        const auto b = big_b.topLeftCorner(tb ? n : k, tb ? k : n);
        Eigen::MatrixXf big_c = Eigen::MatrixXf::Constant(m + 4, n, 7.0f);
        auto c = big_c.topLeftCorner(m, n);
        const Eigen::MatrixXd want = reference(ta, tb, a, b);
        gemm(ta, tb, a, b, c);
        CHECK(relative_error(c, want) < 1e-5);
        CHECK((big_c.bottomRows(4).array() == 7.0f).all());  // nothing written outside C

        Eigen::MatrixXf blas = Eigen::MatrixXf::Zero(m, n);
        REQUIRE(detail::gemm_openblas(ta, tb, a, b, blas));  // scripts/setup installs libopenblas
        CHECK(relative_error(blas, want) < 1e-5);
        Eigen::MatrixXf again = Eigen::MatrixXf::Zero(m, n);
        REQUIRE(detail::gemm_openblas(ta, tb, a, b, again));
        CHECK((again.array() == blas.array()).all());  // deterministic: the same bits twice
      }
  }
}

TEST_CASE("gemm refuses shapes that do not match, and reports its backend", "[gemm]") {
  Eigen::MatrixXf a(3, 4), b(5, 2), c(3, 2);
  a.setOnes();
  b.setOnes();
  CHECK_THROWS_AS(gemm(false, false, a, b, c), std::invalid_argument);
  Eigen::MatrixXf wrong_c(2, 2);
  Eigen::MatrixXf b_ok = Eigen::MatrixXf::Ones(4, 2);
  CHECK_THROWS_AS(gemm(false, false, a, b_ok, wrong_c), std::invalid_argument);
  gemm(false, false, a, b_ok, c);
  CHECK((c.array() == 4.0f).all());

  const GemmInfo& info = gemm_info();
  CHECK_FALSE(info.description.empty());
  if (info.backend == GemmBackend::openblas)
    CHECK_FALSE(info.kernel.empty());
  else
    CHECK(info.kernel.empty());
}
