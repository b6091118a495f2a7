// The CPU backend's optimizer steps (backend/backend.h): plain loops over
// non-aliasing pointers that the compiler vectorises, split across threads.
#include <cfloat>
#include <cmath>

#include "backend/backend.h"
#include "cnn/parallel.h"

namespace cnn::backend {

namespace {

// x, or 0 where x is subnormal. A moment whose gradient has stopped (a dead
// ReLU unit, a converged weight) decays geometrically through the subnormal
// range, and x86 cores take a microcode assist of ~100 cycles on every
// subnormal operand: late in training Adam's step cost 12% of LeNet's on an
// Intel Xeon, natively and in wasm, which cannot turn the assists off. One
// compare-and-select per value keeps the moments normal or zero; TensorFlow
// runs its CPU kernels with subnormals flushed, so Keras's Adam sees the
// same zeros.
inline float flush_subnormal(float x) { return std::fabs(x) < FLT_MIN ? 0.0f : x; }

void sgd_chunk(float* __restrict w, const float* __restrict g, int64_t n, float lr) {
  for (int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
}

void sgd_momentum_chunk(float* __restrict w, const float* __restrict g, float* __restrict m, int64_t n,
                        float lr, float mom, bool nesterov) {
  for (int64_t i = 0; i < n; ++i) {
    const float mi = flush_subnormal(mom * m[i] - lr * g[i]);
    m[i] = mi;
    w[i] += nesterov ? mom * mi - lr * g[i] : mi;
  }
}

// Keras's Adam step; locals keep the constants in registers.
void adam_chunk(float* __restrict w, const float* __restrict g, float* __restrict m, float* __restrict v,
                int64_t n, float alpha, float a1, float a2, float eps) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = flush_subnormal(m[i] + (gi - m[i]) * a1);
    const float vi = flush_subnormal(v[i] + (gi * gi - v[i]) * a2);
    m[i] = mi;
    v[i] = vi;
    w[i] -= alpha * mi / (std::sqrt(vi) + eps);
  }
}

}  // namespace

void cpu_sgd_step(float* w, const float* g, int64_t n, float lr) {
  parallel_elementwise(n, [=](int64_t b, int64_t e) { sgd_chunk(w + b, g + b, e - b, lr); });
}

void cpu_sgd_momentum_step(float* w, const float* g, float* m, int64_t n, float lr, float mom,
                           bool nesterov) {
  parallel_elementwise(
      n, [=](int64_t b, int64_t e) { sgd_momentum_chunk(w + b, g + b, m + b, e - b, lr, mom, nesterov); });
}

void cpu_adam_step(float* w, const float* g, float* m, float* v, int64_t n, float alpha, float a1, float a2,
                   float eps) {
  parallel_elementwise(
      n, [=](int64_t b, int64_t e) { adam_chunk(w + b, g + b, m + b, v + b, e - b, alpha, a1, a2, eps); });
}

}  // namespace cnn::backend
