// The one matrix-multiply routine that conv and dense call, forward and
// backward. Row-major; leading dimensions in elements.
//   C(M, N) = alpha * op(A)(M, K) * op(B)(K, N) + beta * C
// op(A) is A (M, K) with row stride lda, or A^T when trans_a (A stored (K, M)).
#pragma once

#include <cstdint>

namespace cnn::kernels {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// C(M, N) = sum over s < segments of A_s (M, L) * B[s*L : (s+1)*L, :], where
// row i of A_s is the L contiguous floats at rows[i] + s * seg_stride; C is
// overwritten. This is a convolution's im2col product read straight from its
// (padded) input, one kernel row per segment, so the windows are never
// copied out. N must be at most gemm_rows_max_n(): the tiles read A in place.
void gemm_rows(int64_t M, int64_t N, int64_t segments, int64_t L, const float* const* rows,
               int64_t seg_stride, const float* B, int64_t ldb, float* C, int64_t ldc);
int64_t gemm_rows_max_n();

// C(M, N) += A^T B over K rows, where A (K, M = segments * L) is given as for
// gemm_rows: row p's segment s is the L floats at rows[p] + s * seg_stride,
// and B is (K, N). A convolution's filter gradient (KKC, O) summed over
// every output pixel, its columns packed straight from the windows. The sum
// over K is ordered by the shape alone, not by the thread count.
void gemm_rows_tn(int64_t segments, int64_t L, int64_t N, int64_t K, const float* const* rows,
                  int64_t seg_stride, const float* B, int64_t ldb, float* C, int64_t ldc);

// Plain triple loop with double accumulation: the reference the tests (and any
// faster kernel) are checked against.
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace cnn::kernels
