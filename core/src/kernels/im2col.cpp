// Lowering a convolution to GEMM (and back, for the input gradient), one
// output pixel's window at a time; see im2col below for the run structure.
#include "cnn/kernels/im2col.h"

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/inline_loops.h"

namespace cnn::kernels {

namespace {

// Fixed-length copies and adds for whole window rows of up to 32 values:
// unrolled moves instead of a loop with a run-time trip count.
template <int N>
CNN_INLINE_LOOPS void copy_n(float* __restrict dst, const float* __restrict src) {
  for (int i = 0; i < N; ++i) dst[i] = src[i];
}
template <int N>
CNN_INLINE_LOOPS void add_n(float* __restrict dst, const float* __restrict src) {
  for (int i = 0; i < N; ++i) dst[i] += src[i];
}
constexpr int kMaxFixedRun = 32;

// Runs F<N>, the loop whose whole window rows are N floats (0: any length),
// picked once per call rather than once per window row: a table call per
// row cost V8 an indirect call for every 30 floats of LeNet's second conv
// (against that, in one process: wasm W1 +2-3.5%, col2im alone).
using RowsFn = void (*)(const ConvGeometry&, const float*, float*);
template <template <int> class F, int... I>
constexpr std::array<RowsFn, sizeof...(I)> fixed_row_table(std::integer_sequence<int, I...>) {
  return {&F<I>::run...};
}
template <template <int> class F>
void with_fixed_rows(const ConvGeometry& g, const float* in, float* out) {
  static constexpr auto table = fixed_row_table<F>(std::make_integer_sequence<int, kMaxFixedRun + 1>{});
  const int64_t KWC = g.KW * g.C;
  table[g.DW == 1 && KWC <= kMaxFixedRun ? KWC : 0](g, in, out);
}

// The kernel taps kw in [lo, hi) whose input column iw0 + kw * DW lies in [0, W).
inline void inside_taps(const ConvGeometry& g, int64_t iw0, int64_t& lo, int64_t& hi) {
  if (g.DW == 1) {  // no divisions on the common path
    lo = std::max<int64_t>(0, -iw0);
    hi = std::max<int64_t>(0, g.W - iw0);
  } else {
    lo = iw0 >= 0 ? 0 : (-iw0 + g.DW - 1) / g.DW;
    hi = g.W - iw0 <= 0 ? 0 : (g.W - iw0 + g.DW - 1) / g.DW;
  }
  lo = std::min(lo, g.KW);
  hi = std::clamp(hi, lo, g.KW);
}

// One window row of col (KW * C values at d) from an input row whose taps
// [lo, hi) are inside; the others are zero.
CNN_INLINE_LOOPS inline void im2col_row(const ConvGeometry& g, const float* row, int64_t iw0, int64_t lo,
                                        int64_t hi, float* d) {
  const int64_t C = g.C;
  zero_run(d, lo * C);
  if (g.DW == 1) {
    copy_run(d + lo * C, row + (iw0 + lo) * C, (hi - lo) * C);
  } else {
    for (int64_t kw = lo; kw < hi; ++kw) copy_run(d + kw * C, row + (iw0 + kw * g.DW) * C, C);
  }
  zero_run(d + hi * C, (g.KW - hi) * C);
}

// Its inverse: the inside taps of window row s added into the input row.
CNN_INLINE_LOOPS inline void col2im_row(const ConvGeometry& g, const float* s, int64_t iw0, int64_t lo,
                                        int64_t hi, float* row) {
  const int64_t C = g.C;
  if (g.DW == 1) {
    add_run(row + (iw0 + lo) * C, s + lo * C, (hi - lo) * C);
  } else {
    for (int64_t kw = lo; kw < hi; ++kw) add_run(row + (iw0 + kw * g.DW) * C, s + kw * C, C);
  }
}

// The same out of line, for the instances with fixed rows: their few rows
// that are not whole (at the padding) share one copy of these loops instead
// of one each (the wasm module 1.36 -> 1.28 MB).
[[gnu::noinline]] CNN_INLINE_LOOPS void im2col_row_out_of_line(const ConvGeometry& g, const float* row,
                                                               int64_t iw0, int64_t lo, int64_t hi,
                                                               float* d) {
  im2col_row(g, row, iw0, lo, hi, d);
}
[[gnu::noinline]] CNN_INLINE_LOOPS void col2im_row_out_of_line(const ConvGeometry& g, const float* s,
                                                               int64_t iw0, int64_t lo, int64_t hi,
                                                               float* row) {
  col2im_row(g, s, iw0, lo, hi, row);
}

// Pixel-major: each output pixel's row of col is KH runs of KW * C values.
// Without dilation a run's inside taps are one contiguous stretch of the
// input row (NHWC), so even single-channel images copy KW floats at a time;
// only the taps that fall in the padding are zero-filled.
template <int N>
struct Im2colRows {
  CNN_INLINE_LOOPS static void run(const ConvGeometry& g, const float* image, float* col) {
    const int64_t C = g.C, KWC = g.KW * C, L = g.KH * KWC;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        float* dst = col + (oh * g.OW + ow) * L;
        const int64_t iw0 = ow * g.SW - g.PL;
        int64_t lo, hi;
        inside_taps(g, iw0, lo, hi);
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          float* d = dst + kh * KWC;
          const int64_t ih = oh * g.SH + kh * g.DH - g.PT;
          if (ih < 0 || ih >= g.H || lo == hi) {
            zero_run(d, KWC);
            continue;
          }
          const float* row = image + ih * g.W * C;
          if constexpr (N == 0)
            im2col_row(g, row, iw0, lo, hi, d);
          else if (lo == 0 && hi == g.KW)
            copy_n<N>(d, row + iw0 * C);
          else
            im2col_row_out_of_line(g, row, iw0, lo, hi, d);
        }
      }
  }
};

// The way back: each pixel's window rows added into the image, its padded
// taps dropped. Its pixel walk is im2col's, written out again: one walk
// shared through a callback ran LeNet's training 1-2% slower in wasm.
template <int N>
struct Col2imRows {
  CNN_INLINE_LOOPS static void run(const ConvGeometry& g, const float* col, float* image) {
    const int64_t C = g.C, KWC = g.KW * C, L = g.KH * KWC;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const float* src = col + (oh * g.OW + ow) * L;
        const int64_t iw0 = ow * g.SW - g.PL;
        int64_t lo, hi;
        inside_taps(g, iw0, lo, hi);
        if (lo == hi) continue;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const int64_t ih = oh * g.SH + kh * g.DH - g.PT;
          if (ih < 0 || ih >= g.H) continue;
          const float* s = src + kh * KWC;
          float* row = image + ih * g.W * C;
          if constexpr (N == 0)
            col2im_row(g, s, iw0, lo, hi, row);
          else if (lo == 0 && hi == g.KW)
            add_n<N>(row + iw0 * C, s);
          else
            col2im_row_out_of_line(g, s, iw0, lo, hi, row);
        }
      }
  }
};

}  // namespace

void im2col(const ConvGeometry& g, const float* image, float* col) {
  with_fixed_rows<Im2colRows>(g, image, col);
}

void col2im_add(const ConvGeometry& g, const float* col, float* image) {
  with_fixed_rows<Col2imRows>(g, col, image);
}

void pad_image(const float* image, int64_t H, int64_t W, int64_t C, int64_t top, int64_t left, int64_t Hp,
               int64_t Wp, float* out) {
  const int64_t rs = Wp * C, lo = std::clamp<int64_t>(left, 0, Wp), hi = std::clamp(left + W, lo, Wp);
  for (int64_t r = 0; r < Hp; ++r) {
    float* row = out + r * rs;
    const int64_t ih = r - top;
    if (ih < 0 || ih >= H) {
      std::fill(row, row + rs, 0.0f);
      continue;
    }
    std::fill(row, row + lo * C, 0.0f);
    std::copy(image + ih * W * C, image + ih * W * C + (hi - lo) * C, row + lo * C);
    std::fill(row + hi * C, row + rs, 0.0f);
  }
}

}  // namespace cnn::kernels
