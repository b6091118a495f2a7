// Cache-blocked GEMM in the Goto/BLIS arrangement: B is packed into KC x NC
// panels (NR-wide slivers, L2/L3-resident), A into MC x KC blocks (MR-tall
// slivers, L2-resident), and an MR x NR micro-kernel accumulates in registers.
// Panels are zero-padded to whole slivers so the micro-kernel never branches on
// tails; only the final write-back clips to the real tile.
#include "cnn/kernels/gemm.h"

#include <algorithm>
#include <vector>

namespace cnn::kernels {

namespace {

constexpr int64_t MR = 4;
constexpr int64_t NR = 8;
constexpr int64_t MC = 128;  // MR multiple
constexpr int64_t KC = 256;
constexpr int64_t NC = 1024;  // NR multiple

inline float at(const float* M, int64_t ld, bool trans, int64_t r, int64_t c) {
  return trans ? M[c * ld + r] : M[r * ld + c];
}

// Packs op(A)[i0:i0+mc, p0:p0+kc] as ceil(mc/MR) slivers of (kc, MR).
void pack_a(bool trans, const float* A, int64_t lda, int64_t i0, int64_t p0, int64_t mc, int64_t kc,
            float* out) {
  for (int64_t i = 0; i < mc; i += MR) {
    int64_t rows = std::min(MR, mc - i);
    for (int64_t p = 0; p < kc; ++p) {
      for (int64_t r = 0; r < rows; ++r) out[r] = at(A, lda, trans, i0 + i + r, p0 + p);
      for (int64_t r = rows; r < MR; ++r) out[r] = 0.0f;
      out += MR;
    }
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] as ceil(nc/NR) slivers of (kc, NR).
void pack_b(bool trans, const float* B, int64_t ldb, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
            float* out) {
  for (int64_t j = 0; j < nc; j += NR) {
    int64_t cols = std::min(NR, nc - j);
    for (int64_t p = 0; p < kc; ++p) {
      if (!trans && cols == NR) {
        const float* src = B + (p0 + p) * ldb + j0 + j;
        for (int64_t c = 0; c < NR; ++c) out[c] = src[c];
      } else {
        for (int64_t c = 0; c < cols; ++c) out[c] = at(B, ldb, trans, p0 + p, j0 + j + c);
        for (int64_t c = cols; c < NR; ++c) out[c] = 0.0f;
      }
      out += NR;
    }
  }
}

// acc(MR, NR) = sum_p a(p, :)^T b(p, :); then C[0:mr, 0:nr] += alpha * acc.
void micro_kernel(int64_t kc, const float* a, const float* b, float alpha, float* C, int64_t ldc, int64_t mr,
                  int64_t nr) {
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int64_t r = 0; r < MR; ++r) {
      float av = a[r];
      for (int64_t c = 0; c < NR; ++c) acc[r][c] += av * b[c];
    }
    a += MR;
    b += NR;
  }
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < nr; ++c) C[r * ldc + c] += alpha * acc[r][c];
}

void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    if (beta == 0.0f)
      std::fill(row, row + N, 0.0f);  // also clears NaN/Inf left in C
    else
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
  }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  scale_c(M, N, beta, C, ldc);
  if (K <= 0 || alpha == 0.0f) return;

  thread_local std::vector<float> a_pack, b_pack;
  a_pack.resize(static_cast<size_t>(MC * KC));
  b_pack.resize(static_cast<size_t>(KC * ((std::min(NC, N) + NR - 1) / NR) * NR));

  for (int64_t j0 = 0; j0 < N; j0 += NC) {
    int64_t nc = std::min(NC, N - j0);
    for (int64_t p0 = 0; p0 < K; p0 += KC) {
      int64_t kc = std::min(KC, K - p0);
      pack_b(trans_b, B, ldb, p0, j0, kc, nc, b_pack.data());
      for (int64_t i0 = 0; i0 < M; i0 += MC) {
        int64_t mc = std::min(MC, M - i0);
        pack_a(trans_a, A, lda, i0, p0, mc, kc, a_pack.data());
        for (int64_t j = 0; j < nc; j += NR) {
          const float* bp = b_pack.data() + (j / NR) * kc * NR;
          for (int64_t i = 0; i < mc; i += MR) {
            const float* ap = a_pack.data() + (i / MR) * kc * MR;
            micro_kernel(kc, ap, bp, alpha, C + (i0 + i) * ldc + j0 + j, ldc, std::min(MR, mc - i),
                         std::min(NR, nc - j));
          }
        }
      }
    }
  }
}

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0.0;
      for (int64_t p = 0; p < K; ++p)
        s += static_cast<double>(at(A, lda, trans_a, i, p)) * at(B, ldb, trans_b, p, j);
      float prev = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
      C[i * ldc + j] = static_cast<float>(alpha * s) + prev;
    }
}

}  // namespace cnn::kernels
