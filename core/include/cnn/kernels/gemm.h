// The one matrix-multiply routine that conv and dense call, forward and
// backward. Row-major; leading dimensions in elements.
//   C(M, N) = alpha * op(A)(M, K) * op(B)(K, N) + beta * C
// op(A) is A (M, K) with row stride lda, or A^T when trans_a (A stored (K, M)).
#pragma once

#include <cstdint>

namespace cnn::kernels {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// Plain triple loop with double accumulation: the reference the tests (and any
// faster kernel) are checked against.
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace cnn::kernels
