// Private: the CUDA backend's ops (declared with cnn/ops.h's types) and its
// memory and optimizer entries, gathered into a table by cuda_backend.cu.
#pragma once

#include "backend/backend.h"

namespace cnn::ops::cuda_impl {
CNN_BACKEND_OPS(CNN_BACKEND_DECLARE_OP)
}  // namespace cnn::ops::cuda_impl

namespace cnn::cuda {

void upload(float* dst, const float* host, size_t n);
void download(float* host, const float* src, size_t n);
void copy(float* dst, const float* src, size_t n);
void fill(float* p, size_t n, float v);
void accumulate(float* out, const float* in, int64_t n);
// out[i] += scale * in[i]
void accumulate_scaled(float* out, const float* in, int64_t n, float scale);
// Per-column sums of a (rows, cols) matrix added into out (cols), in float.
void add_column_sums(float* out, const float* m, int64_t rows, int64_t cols);

void sgd_step(float* w, const float* g, int64_t n, float lr);
void sgd_momentum_step(float* w, const float* g, float* m, int64_t n, float lr, float momentum,
                       bool nesterov);
void adam_step(float* w, const float* g, float* m, float* v, int64_t n, float alpha, float a1, float a2,
               float eps);

}  // namespace cnn::cuda
