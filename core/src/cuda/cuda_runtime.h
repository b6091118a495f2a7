// Private: what every CUDA source of the backend shares: error checks, the
// cuBLAS handle, row-major GEMM, launch sizes and scratch tensors. All work
// goes to CUDA's default stream, so kernels run in the order launched and a
// copy to the host waits for them.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "cnn/tensor.h"

namespace cnn::cuda {

// Throws DeviceError naming `what` and CUDA's message.
void check(cudaError_t status, const char* what);
void check(cublasStatus_t status, const char* what);
// After a kernel launch: reports a bad launch configuration at once.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

cublasHandle_t cublas();

// Row-major C(M, N) = alpha * op(A)(M, K) op(B)(K, N) + beta * C, as
// cnn::kernels::gemm; cuBLAS (column-major) computes C^T = op(B)^T op(A)^T.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

constexpr int kThreads = 256;
// Blocks for n threads, one value each (grid-stride loops cover the rest).
inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > 65535 * 8 ? 65535 * 8 : b));
}

// A device tensor for temporary values (the caching allocator makes these cheap).
inline Tensor scratch(int64_t n) { return Tensor::empty({n}, Device::CUDA); }
inline float* ptr(const Tensor& t) { return t.defined() ? t.device_data() : nullptr; }

// The device allocator: cudaMalloc'd blocks kept for reuse by size class.
float* allocate(size_t bytes);
void release(float* p, size_t bytes);

// Null (with `why` filled) when no usable GPU is present; else "NVIDIA ...".
bool probe(std::string* description);

}  // namespace cnn::cuda

// What every kernel file of the backend uses.
namespace cnn::ops::cuda_impl {
using cuda::blocks_for;
using cuda::check_launch;
using cuda::kThreads;
using cuda::ptr;
}  // namespace cnn::ops::cuda_impl

// A grid-stride loop: i over [0, n), whatever the grid.
#define CNN_GRID_LOOP(i, n)                                                 \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); \
       i += int64_t{blockDim.x} * gridDim.x)

#ifdef __CUDACC__
namespace cnn::cuda {
// Index i of an (N, H, W, C) tensor as its four coordinates.
struct Nhwc {
  int64_t n, h, w, c;
};
__device__ inline Nhwc unflatten_nhwc(int64_t i, int64_t H, int64_t W, int64_t C) {
  return {i / (C * W * H), (i / (C * W)) % H, (i / C) % W, i % C};
}
}  // namespace cnn::cuda
#endif
