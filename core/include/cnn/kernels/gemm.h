// The one matrix-multiply routine that conv and dense call, forward and
// backward. Row-major; leading dimensions in elements.
//   C(M, N) = alpha * op(A)(M, K) * op(B)(K, N) + beta * C
// op(A) is A (M, K) with row stride lda, or A^T when trans_a (A stored (K, M)).
#pragma once

#include <cstdint>

namespace cnn::kernels {

// Per-column work a conv or dense layer does on its product, applied to each
// block of C as soon as the block is final (while it is still in cache)
// instead of in another pass over C:
//   C[i, j] = relu?(C[i, j] * scale[j] + shift[j] + residual[i * ldr + j])
// Null pointers leave out their term.
struct Epilogue {
  const float* scale = nullptr;
  const float* shift = nullptr;
  const float* residual = nullptr;
  int64_t ldr = 0;
  bool relu = false;

  // The same epilogue for the columns from j0 on.
  Epilogue columns_from(int64_t j0) const {
    Epilogue e = *this;
    if (e.scale) e.scale += j0;
    if (e.shift) e.shift += j0;
    if (e.residual) e.residual += j0;
    return e;
  }
};

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          const Epilogue* epilogue = nullptr);

// C(M, N) = sum over s < segments of A_s (M, L) * B[s*L : (s+1)*L, :], where
// row i of A_s is the L contiguous floats at rows[i] + s * seg_stride; C is
// overwritten. This is a convolution's im2col product read straight from its
// (padded) input, one kernel row per segment, so the windows are never
// copied out. N must be at most gemm_rows_max_n(): the tiles read A in place.
void gemm_rows(int64_t M, int64_t N, int64_t segments, int64_t L, const float* const* rows,
               int64_t seg_stride, const float* B, int64_t ldb, float* C, int64_t ldc,
               const Epilogue* epilogue = nullptr);
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
