// decent::gemm in a process that loaded OpenBLAS with a weak kernel before decent did (as a program linked
// against OpenBLAS does before main): decent must notice and use a private copy tuned for this CPU. Its own
// process, as the backend is chosen once per process. Exit 0 on success, 1 with a message on failure.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <Eigen/Core>

#include "decent/model/gemm.hpp"

int main() {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!avx2) {
    std::printf("private_copy_test: this CPU has no AVX2, so no OpenBLAS kernel is weaker than it: nothing to test\n");
    return 0;
  }
  // The early copy, told to use the SSE3 kernel, as Debian's 0.3.21 picks on CPUs it does not know.
  setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  void* early = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_GLOBAL);
  if (!early) {
    std::printf("private_copy_test: FAILED: libopenblas.so.0 does not load (%s)\n", dlerror());
    return 1;
  }
  using Corename = char* (*)();
  const auto corename = reinterpret_cast<Corename>(dlsym(early, "openblas_get_corename"));
  const std::string early_kernel = corename ? corename() : "?";
  unsetenv("OPENBLAS_CORETYPE");  // the user set no core type; the early copy got its own

  const decent::GemmInfo& info = decent::gemm_info();
  std::printf("early copy: %s; decent: %s\n", early_kernel.c_str(), info.description.c_str());
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl");
  const std::string expected = avx512 ? "SkylakeX" : "Haswell";
  int failures = 0;
  if (early_kernel != "Prescott") {
    std::printf("FAILED: the early copy reports %s, not Prescott: the test did not set up a weak kernel\n",
                early_kernel.c_str());
    ++failures;
  }
  if (info.kernel != expected) {
    std::printf("FAILED: decent's products use kernel '%s', expected %s\n", info.kernel.c_str(), expected.c_str());
    ++failures;
  }
  if (info.note.find("private copy") == std::string::npos) {
    std::printf("FAILED: the choice does not say it loaded a private copy (note: '%s')\n", info.note.c_str());
    ++failures;
  }
  // The private copy computes: a product above the OpenBLAS threshold against Eigen's.
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(64, 48), b = Eigen::MatrixXf::Random(48, 40);
  Eigen::MatrixXf c(64, 40);
  decent::gemm(false, false, a, b, c);
  const Eigen::MatrixXf want = a * b;
  const float error = (c - want).cwiseAbs().maxCoeff();
  if (!(error < 1e-4f)) {
    std::printf("FAILED: the product differs from Eigen's by %g\n", static_cast<double>(error));
    ++failures;
  }
  if (failures == 0) std::printf("private_copy_test: passed\n");
  return failures == 0 ? 0 : 1;
}
