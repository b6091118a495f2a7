// The portable kernels: plain C++ the compiler may vectorise for the baseline
// CPU. They are the reference twins the SIMD kernels are tested against, and
// what runs where no SIMD table applies.
#include "kernels/epilogue_rows.h"
#include "kernels/kernel_table.h"

namespace cnn::kernels {

namespace {

constexpr int64_t MR = 4, NR = 8;

void gemm_tile_scalar(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                      int64_t ldc, int64_t m, int64_t n, bool overwrite) {
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int64_t r = 0; r < MR; ++r) {
      // Packed (lda 0), A^T in place (lda < 0, whole slivers only) or
      // straight from row-major A (rows past m read row 0).
      const float av = lda == 0 ? a[p * MR + r] : lda < 0 ? a[p * -lda + r] : a[(r < m ? r : 0) * lda + p];
      for (int64_t j = 0; j < NR; ++j) acc[r][j] += av * b[j];
    }
    b += NR;
  }
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) c[r * ldc + j] = alpha * acc[r][j] + (overwrite ? 0.0f : c[r * ldc + j]);
}

void gemm_tile_rows_scalar(int64_t kc, const float* const* rows, int64_t offset, const float* b, float alpha,
                           float* c, int64_t ldc, int64_t m, int64_t n, bool overwrite) {
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int64_t r = 0; r < m; ++r) {
      const float av = rows[r][offset + p];
      for (int64_t j = 0; j < NR; ++j) acc[r][j] += av * b[j];
    }
    b += NR;
  }
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) c[r * ldc + j] = alpha * acc[r][j] + (overwrite ? 0.0f : c[r * ldc + j]);
}

// The direct conv's rows as plain loops over output values (the reference
// the SIMD rows are tested against).
void conv_c1_forward_scalar(const ConvC1Rows& a) {
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t f = 0; f < a.len; ++f) {
      float acc = a.br[f];
      for (int64_t kh = 0; kh < a.kh; ++kh)
        for (int64_t kw = 0; kw < a.kw; ++kw)
          acc += a.xe[(r + kh) * a.xs + kw * a.o + f] * a.wr[(kh * a.kw + kw) * a.rl + f];
      a.y[r * a.len + f] = a.relu && acc < 0.0f ? 0.0f : acc;
    }
}

void conv_c1_filter_scalar(const ConvC1Grad& a) {
  for (int64_t kh = 0; kh < a.kh; ++kh)
    for (int64_t kw = 0; kw < a.kw; ++kw)
      for (int64_t f = 0; f < a.len; ++f) {
        float acc = 0.0f;
        for (int64_t r = 0; r < a.rows; ++r) acc += a.xe[(r + kh) * a.xs + kw * a.o + f] * a.dy[r * a.rl + f];
        a.g[(kh * a.kw + kw) * a.rl + f] += acc;
      }
}

double peak_flops_scalar(int64_t iterations, float* sink) {
  constexpr int ACC = 8;
  float acc[ACC];
  for (int i = 0; i < ACC; ++i) acc[i] = static_cast<float>(i) * 1e-3f;
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < ACC; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  float total = 0;
  for (float a : acc) total += a;
  *sink = total;
  return 2.0 * static_cast<double>(iterations) * ACC;
}

}  // namespace

const KernelTable kScalarKernels{Isa::Scalar,
                                 false,
                                 0,
                                 4,      // Winograd: the largest tile
                                 false,  // Winograd: fused products
                                 MR,
                                 NR,
                                 256,
                                 &gemm_tile_scalar,
                                 MR,
                                 NR,
                                 &gemm_tile_scalar,
                                 &gemm_tile_rows_scalar,
                                 &gemm_tile_rows_scalar,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 1,
                                 64,
                                 &conv_c1_forward_scalar,
                                 &conv_c1_filter_scalar,
                                 &epilogue_rows,
                                 &peak_flops_scalar};

}  // namespace cnn::kernels
