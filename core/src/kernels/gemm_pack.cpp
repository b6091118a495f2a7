#include "kernels/gemm_pack.h"

#include <algorithm>
#include <cstring>

#include "kernels/kernel_table.h"

namespace cnn::kernels {

namespace {

// The copies are memcpy of a fixed length, which the compiler turns into
// vector moves: a plain element loop was left scalar (16 single-float moves
// per AVX2 sliver row), since source and destination could overlap.
template <int W>
inline void copy_w(const float* src, float* out) {
  std::memcpy(out, src, W * sizeof(float));
}

template <int W>
void copy_rows(const float* src, int64_t ld, int64_t rows, float* out) {
  for (int64_t p = 0; p < rows; ++p, src += ld, out += W) copy_w<W>(src, out);
}

// `rows` rows (stride ld) of `slivers` whole W-wide slivers: each sliver's
// piece in turn, to its (rows, W) block (sliver s at out + s * sliver_stride).
template <int W>
void copy_row_block(const float* src, int64_t ld, int64_t rows, int64_t slivers, int64_t sliver_stride,
                    float* out) {
  for (int64_t s = 0; s < slivers; ++s, src += W, out += sliver_stride) copy_rows<W>(src, ld, rows, out);
}

template <int W>
void gather_rows(const float* const* rows, int64_t offset, int64_t n, float* out) {
  for (int64_t p = 0; p < n; ++p, out += W) copy_w<W>(rows[p] + offset, out);
}

// Calls f.template operator()<W>() for the tile widths of every ISA's
// tables; false for any other width.
template <class F>
bool with_tile_width(int64_t width, const F& f) {
  switch (width) {
    case 5:
      f.template operator()<5>();
      return true;
    case 6:
      f.template operator()<6>();
      return true;
    case 8:
      f.template operator()<8>();
      return true;
    case 12:
      f.template operator()<12>();
      return true;
    case 16:
      f.template operator()<16>();
      return true;
    case 24:
      f.template operator()<24>();
      return true;
    case 32:
      f.template operator()<32>();
      return true;
    default:
      return false;
  }
}

}  // namespace

bool copy_rows_fixed(int64_t width, const float* src, int64_t ld, int64_t rows, float* out) {
  return with_tile_width(width, [&]<int W>() { copy_rows<W>(src, ld, rows, out); });
}

bool gather_rows_fixed(int64_t width, const float* const* rows, int64_t offset, int64_t n, float* out) {
  return with_tile_width(width, [&]<int W>() { gather_rows<W>(rows, offset, n, out); });
}

void pack_b(bool trans, const float* B, int64_t ldb, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
            int64_t NR, int64_t s0, int64_t s1, float* panel) {
  // Whole slivers in blocks of `rows` rows, each block across all the
  // slivers. When the panel spans whole rows of B, a block is one row: B is
  // read as one stream front to back. When it spans part of each row (a
  // thread's column range, or one NC panel of a wide B), single rows were
  // short pieces a row apart, and blocks of 8 rows read 8 streams at once:
  // ResNet50's conv5 GEMMs at 2 threads +5-33% on an AMD EPYC. A sliver at a
  // time (every row a page apart) ran at memory latency: 27% of ResNet50's
  // last 1x1 conv at batch 1.
  const int64_t rows = nc < ldb ? 8 : 1;
  const int64_t whole = trans ? s0 : std::clamp(nc / NR, s0, s1);
  if (whole > s0 && with_tile_width(NR, [&]<int W>() {
        for (int64_t p = 0; p < kc; p += rows)
          copy_row_block<W>(B + (p0 + p) * ldb + j0 + s0 * NR, ldb, std::min(rows, kc - p), whole - s0,
                            kc * NR, panel + s0 * kc * NR + p * NR);
      }))
    s0 = whole;
  for (int64_t s = s0; s < s1; ++s) {
    const int64_t j = s * NR;
    const int64_t cols = std::min(NR, nc - j);
    float* out = panel + s * kc * NR;
    // Whole slivers: a fixed-length copy the compiler turns into vector moves.
    if (!trans && cols == NR && copy_rows_fixed(NR, B + p0 * ldb + j0 + j, ldb, kc, out)) continue;
    for (int64_t p = 0; p < kc; ++p) {
      if (!trans) {
        const float* src = B + (p0 + p) * ldb + j0 + j;
        for (int64_t c = 0; c < cols; ++c) out[c] = src[c];
      } else {
        for (int64_t c = 0; c < cols; ++c) out[c] = B[(j0 + j + c) * ldb + p0 + p];
      }
      for (int64_t c = cols; c < NR; ++c) out[c] = 0.0f;
      out += NR;
    }
  }
}

void apply_epilogue(const Epilogue& ep, float* C, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                    int64_t j1) {
  active_kernels().epilogue(ep, C, ldc, i0, i1, j0, j1);
}

void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    if (beta == 0.0f)
      std::fill(row, row + N, 0.0f);
    else
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
  }
}

}  // namespace cnn::kernels
