// Private: element loops kept as loops. Compilers turn a plain copy or fill
// loop into a memcpy/memset call, which in wasm is a byte-copying libc
// routine, and from 512 bytes on a call out to JavaScript: for the short
// runs of im2col (30 floats for LeNet's second conv) and the rows of
// pooling's gradient (a few hundred floats) the call costs more than the
// copy. CNN_INLINE_LOOPS on a function keeps its loops as (vector) loops.
#pragma once

#include <cstdint>

#if defined(__clang__)
#define CNN_INLINE_LOOPS __attribute__((no_builtin))
#elif defined(__GNUC__)
#define CNN_INLINE_LOOPS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define CNN_INLINE_LOOPS
#endif

namespace cnn::kernels {

CNN_INLINE_LOOPS inline void copy_run(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}
CNN_INLINE_LOOPS inline void zero_run(float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;
}
CNN_INLINE_LOOPS inline void add_run(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace cnn::kernels
