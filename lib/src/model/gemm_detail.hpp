// Private: the OpenBLAS path of decent::gemm on its own, whatever backend the process chose, so that tests
// can check it against Eigen's products.
#pragma once

#include <Eigen/Core>
#include <string>

namespace decent::detail {

/// C = op(A) op(B) through OpenBLAS's sgemm; false (C untouched) if libopenblas.so.0 cannot be loaded.
bool gemm_openblas(bool transpose_a, bool transpose_b, const Eigen::Ref<const Eigen::MatrixXf>& a,
                   const Eigen::Ref<const Eigen::MatrixXf>& b, Eigen::Ref<Eigen::MatrixXf> c);

/// The kernel of the OpenBLAS copy gemm_openblas uses (loaded as decent::gemm loads it), or "none (...)".
std::string openblas_kernel();

}  // namespace decent::detail
