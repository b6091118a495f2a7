#include "kernels/gemm_pack.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#ifdef __SSE2__
#include <xmmintrin.h>
#endif

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

void interleave_rows(const float* src, int64_t ld, int64_t rows, int64_t kc, int64_t width, float* out) {
  // This transpose is the packing's cost, so where 128-bit SIMD exists (x86,
  // and wasm through its SSE headers) it moves 4x4 blocks; leftover rows go
  // in pairs, then one by one.
  int64_t r = 0;
#ifdef __SSE2__
  const int64_t kc4 = kc & ~int64_t{3};
  for (; r + 4 <= rows; r += 4) {
    const float *s0 = src + r * ld, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
    for (int64_t p = 0; p < kc4; p += 4) {
      __m128 a = _mm_loadu_ps(s0 + p), b = _mm_loadu_ps(s1 + p), c = _mm_loadu_ps(s2 + p),
             d = _mm_loadu_ps(s3 + p);
      _MM_TRANSPOSE4_PS(a, b, c, d);
      float* o = out + p * width + r;
      _mm_storeu_ps(o, a);
      _mm_storeu_ps(o + width, b);
      _mm_storeu_ps(o + 2 * width, c);
      _mm_storeu_ps(o + 3 * width, d);
    }
    for (int64_t p = kc4; p < kc; ++p)
      for (int64_t q = 0; q < 4; ++q) out[p * width + r + q] = src[(r + q) * ld + p];
  }
  for (; r + 2 <= rows; r += 2) {
    const float *s0 = src + r * ld, *s1 = s0 + ld;
    for (int64_t p = 0; p < kc4; p += 4) {
      const __m128 a = _mm_loadu_ps(s0 + p), b = _mm_loadu_ps(s1 + p);
      const __m128 lo = _mm_unpacklo_ps(a, b), hi = _mm_unpackhi_ps(a, b);  // (a0 b0 a1 b1), (a2 b2 a3 b3)
      float* o = out + p * width + r;
      _mm_storel_pi(reinterpret_cast<__m64*>(o), lo);
      _mm_storeh_pi(reinterpret_cast<__m64*>(o + width), lo);
      _mm_storel_pi(reinterpret_cast<__m64*>(o + 2 * width), hi);
      _mm_storeh_pi(reinterpret_cast<__m64*>(o + 3 * width), hi);
    }
    for (int64_t p = kc4; p < kc; ++p) {
      out[p * width + r] = s0[p];
      out[p * width + r + 1] = s1[p];
    }
  }
#endif
  for (; r < rows; ++r)
    for (int64_t p = 0; p < kc; ++p) out[p * width + r] = src[r * ld + p];
}

int64_t k_block_depth(int64_t K, int64_t kc) {
  const int64_t blocks = (K + kc - 1) / kc, last = K - (blocks - 1) * kc;
  if (blocks < 2 || last >= kc / 2 || K > (blocks - 1) * (kc + kc / 4)) return kc;
  return ((K + blocks - 2) / (blocks - 1) + 15) / 16 * 16;
}

// sysconf's answers (glibc); WebAssembly's libc has no cache sizes.
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
int64_t l1_bytes() {
  static const int64_t bytes = std::max<long>(0, sysconf(_SC_LEVEL1_DCACHE_SIZE));
  return bytes;
}
int64_t l2_bytes() {
  static const int64_t bytes = std::max<long>(0, sysconf(_SC_LEVEL2_CACHE_SIZE));
  return bytes;
}
#else
int64_t l1_bytes() { return 0; }
int64_t l2_bytes() { return 0; }
#endif

bool copy_rows_fixed(int64_t width, const float* src, int64_t ld, int64_t rows, float* out) {
  return with_tile_width(width, [&]<int W>() { copy_rows<W>(src, ld, rows, out); });
}

bool gather_rows_fixed(int64_t width, const float* const* rows, int64_t offset, int64_t n, float* out) {
  return with_tile_width(width, [&]<int W>() { gather_rows<W>(rows, offset, n, out); });
}

void pack_b(bool trans, const float* B, int64_t ldb, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
            int64_t NR, int64_t s0, int64_t s1, float* panel) {
  // Whole slivers in blocks of 8 rows of B, each block across all the
  // slivers: 8 streams read at once, and each sliver's piece written as 8
  // rows in a row. A sliver at a time (every row a page apart) ran at memory
  // latency: 27% of ResNet50's last 1x1 conv at batch 1. Single rows of a
  // panel that spans B's whole rows made one stream front to back, but
  // scattered the writes over every sliver: blocks of 8 rows, Intel Xeon
  // (AVX-512), in one process: ResNet50's 49-row conv GEMMs +2.5-7% at 1
  // thread (their B read once by few rows), the rest level. A panel that
  // spans part of each row (a thread's columns, an NC panel of a wide B)
  // took 8 rows already: ResNet50's conv5 GEMMs at 2 threads +5-33% on an
  // AMD EPYC against single rows.
  constexpr int64_t rows = 8;
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
    if (trans) {  // op(B)'s columns are B's rows, so its sliver is packed as A's are
      interleave_rows(B + (j0 + j) * ldb + p0, ldb, cols, kc, NR, out);
      if (cols < NR)
        for (int64_t p = 0; p < kc; ++p) std::fill(out + p * NR + cols, out + (p + 1) * NR, 0.0f);
      continue;
    }
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = B + (p0 + p) * ldb + j0 + j;
      for (int64_t c = 0; c < cols; ++c) out[c] = src[c];
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
