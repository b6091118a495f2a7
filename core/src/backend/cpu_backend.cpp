// The CPU backend's table: the threaded SIMD ops of src/ops and plain
// host memory.
#include <cstdlib>
#include <cstring>

#include "backend/backend.h"
#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/memory.h"
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
void cpu_fill(float* p, size_t n, float v) {
  for (size_t i = 0; i < n; ++i) p[i] = v;
}

}  // namespace

const Backend kCpuBackend = {
    Device::CPU,
    cpu_allocate,
    cpu_release,
    cpu_copy,
    cpu_copy,
    cpu_copy,
    cpu_fill,
    cnn::accumulate,
    ops::cpu::conv2d,
    ops::cpu::conv2d_inference,
    ops::cpu::max_pool2d,
    ops::cpu::avg_pool2d,
    ops::cpu::global_avg_pool2d,
    ops::cpu::global_max_pool2d,
    ops::cpu::dense,
    ops::cpu::zero_padding2d,
    ops::cpu::add,
    ops::cpu::concat,
    ops::cpu::sum_product,
    ops::cpu::scale_shift,
    ops::cpu::relu,
    ops::cpu::sigmoid,
    ops::cpu::tanh,
    ops::cpu::softmax,
    ops::cpu::batch_norm,
    ops::cpu::batch_norm_affine,
    ops::cpu::dropout,
    ops::cpu::sparse_categorical_crossentropy,
    ops::cpu::categorical_crossentropy,
    ops::cpu::binary_crossentropy,
    ops::cpu::mean_squared_error,
    ops::cpu::sparse_categorical_accuracy,
    ops::cpu::categorical_accuracy,
    ops::cpu::binary_accuracy,
    cpu_sgd_step,
    cpu_sgd_momentum_step,
    cpu_adam_step,
};

}  // namespace cnn::backend
