// Private: flush-to-zero and denormals-are-zero for the duration of a training loop (docs/performance.md,
// "Subnormal floats").
#pragma once

#if defined(__x86_64__) || defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace decent::detail {

/// While alive (and `enabled`), float operations on this thread treat subnormal inputs as zero and round
/// subnormal results to zero (x86 MXCSR DAZ and FTZ); the previous mode comes back at the end. Subnormals arise in
/// training (the momentum of a dead ReLU unit shrinks by 0.9 every step; exp of very negative logits) and cost up to
/// a hundred cycles per operation on some CPUs: measured on an Intel Xeon, a 784-256-10 MLP step became 3.7x slower
/// after 750 steps without this. A no-op on other architectures.
class FlushDenormals {
public:
  explicit FlushDenormals(bool enabled) {
#if defined(__x86_64__) || defined(__SSE__)
    if (!enabled) return;
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | ftz | daz);
    active_ = true;
#else
    (void)enabled;
#endif
  }
  ~FlushDenormals() {
#if defined(__x86_64__) || defined(__SSE__)
    if (active_) _mm_setcsr(saved_);
#endif
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

private:
  static constexpr unsigned ftz = 0x8000, daz = 0x0040;
  unsigned saved_ = 0;
  bool active_ = false;
};

}  // namespace decent::detail
