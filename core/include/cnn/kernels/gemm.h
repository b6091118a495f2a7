// The one matrix-multiply routine that conv and dense call, forward and
// backward. Row-major; leading dimensions in elements.
//   C(M, N) = alpha * op(A)(M, K) * op(B)(K, N) + beta * C
// op(A) is A (M, K) with row stride lda, or A^T when trans_a (A stored (K, M)).
#pragma once

#include <cstdint>
#include <functional>

namespace cnn::kernels {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// A GEMM whose op(A) is never stored: `pack_a(i0, p0, mc, kc, MR, out)` writes
// rows [i0, i0+mc) x columns [p0, p0+kc) of op(A) as ceil(mc/MR) slivers of
// (kc, MR), zero-padding the last sliver's missing rows (gemm() packs a
// stored matrix this way; a producer can pack computed rows instead). It is
// called from several threads at once, on disjoint blocks.
using PackA = std::function<void(int64_t i0, int64_t p0, int64_t mc, int64_t kc, int64_t MR, float* out)>;
void gemm_packed_a(int64_t M, int64_t N, int64_t K, float alpha, const PackA& pack_a, bool trans_b,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// Plain triple loop with double accumulation: the reference the tests (and any
// faster kernel) are checked against.
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace cnn::kernels
