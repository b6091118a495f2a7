// The CPU backend's table: the threaded SIMD ops of src/ops and plain
// host memory.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "backend/backend.h"
#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/memory.h"
#include "cnn/parallel.h"
#include "ops/cpu_ops.h"

namespace cnn::backend {

void cpu_sgd_step(float* w, const float* g, int64_t n, float lr);
void cpu_sgd_momentum_step(float* w, const float* g, float* m, int64_t n, float lr, float mom, bool nesterov);
void cpu_adam_step(float* w, const float* g, float* m, float* v, int64_t n, float alpha, float a1, float a2,
                   float eps);

namespace {

float* cpu_allocate(size_t bytes) {
  auto* p = static_cast<float*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
  if (!p)
    throw ResourceError("out of memory: " + human_bytes(static_cast<double>(bytes)) +
                        " could not be allocated");
  return p;
}
void cpu_release(float* p, size_t) { std::free(p); }
void cpu_copy(float* dst, const float* src, size_t n) { std::memcpy(dst, src, n * sizeof(float)); }
// Large buffers (a batch's gradients) are filled across threads.
void cpu_fill(float* p, size_t n, float v) {
  parallel_elementwise(static_cast<int64_t>(n), [p, v](int64_t b, int64_t e) { std::fill(p + b, p + e, v); });
}

}  // namespace

const Backend& cpu_backend() {
  static const Backend table = [] {
    Backend b{};
    b.device = Device::CPU;
    b.allocate = cpu_allocate;
    b.release = cpu_release;
    b.upload = b.download = b.copy = cpu_copy;
    b.fill = cpu_fill;
    b.accumulate = cnn::accumulate;
#define CNN_CPU_OP_ENTRY(name) b.name = ops::cpu::name;
    CNN_BACKEND_OPS(CNN_CPU_OP_ENTRY)
#undef CNN_CPU_OP_ENTRY
    b.sgd_step = cpu_sgd_step;
    b.sgd_momentum_step = cpu_sgd_momentum_step;
    b.adam_step = cpu_adam_step;
    return b;
  }();
  return table;
}

}  // namespace cnn::backend
