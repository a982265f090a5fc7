#pragma once
/// @file Which code computes the models' matrix products: Eigen's own kernels or OpenBLAS's sgemm
/// (docs/performance.md, "Matrix products").
#include <Eigen/Core>
#include <string>

namespace decent {

enum class GemmBackend { eigen, openblas };

/// The backend chosen for this process and why. Chosen once, at the first product, from the environment:
/// DECENT_GEMM = auto (the default) | eigen | openblas. `auto` loads libopenblas.so.0 at run time (no link
/// dependency) and uses it when its kernel uses at least the instruction set this build's Eigen was compiled
/// for (AVX2 or AVX-512); otherwise, and for products below `openblas_min_flops`, Eigen. Products are
/// deterministic per backend and kernel, not across them (docs/performance.md, "Matrix products").
struct GemmInfo {
  GemmBackend backend = GemmBackend::eigen;
  std::string kernel;       ///< OpenBLAS's core name (e.g. "SkylakeX"), empty for Eigen
  std::string description;  ///< e.g. "openblas SkylakeX (products of >= 13824 multiply-adds; ...)", "eigen avx2 (...)"
  std::string cpu;          ///< the CPU's model name and widest vector instructions, e.g. "AMD EPYC (avx2)"
  std::string eigen_isa;    ///< what Eigen's products were compiled for: "avx512", "avx2" or "sse"
  std::string note;         ///< set when a private OpenBLAS copy replaced one loaded before with a weaker kernel
  double openblas_min_flops = 0;
};

/// The backend in use (chooses it on the first call). Throws std::invalid_argument for a DECENT_GEMM value
/// other than auto, eigen or openblas, and std::runtime_error for DECENT_GEMM=openblas without a usable
/// libopenblas.so.0; drivers call it at start-up so that either is reported before any work.
const GemmInfo& gemm_info();

/// C = op(A) op(B), or C += op(A) op(B) with `accumulate`, for column-major float matrices (op = transpose when
/// the flag is set), through the backend of gemm_info(). C must not alias A or B. Used by the models' forward and
/// backward passes.
void gemm(bool transpose_a, bool transpose_b, const Eigen::Ref<const Eigen::MatrixXf>& a,
          const Eigen::Ref<const Eigen::MatrixXf>& b, Eigen::Ref<Eigen::MatrixXf> c, bool accumulate = false);
/// The same in double precision, always through Eigen's products (the layers' gradient checks run in double).
void gemm(bool transpose_a, bool transpose_b, const Eigen::Ref<const Eigen::MatrixXd>& a,
          const Eigen::Ref<const Eigen::MatrixXd>& b, Eigen::Ref<Eigen::MatrixXd> c, bool accumulate = false);

}  // namespace decent
