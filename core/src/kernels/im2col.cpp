// Tap-major lowering: for each output row and kernel tap, the output columns
// that read inside the image form one range, found once, so the inner loop is
// a plain strided copy with no bounds checks; padding is zero-filled outside
// it. LeNet's single-channel convs (C = 1) copy one float per step.
#include "cnn/kernels/im2col.h"

#include <algorithm>

namespace cnn::kernels {

namespace {

inline void copy_run(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}
inline void zero_run(float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;
}
inline void add_run(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Output columns [lo, hi) whose input column ow * SW + off lies in [0, W).
inline void inside_columns(const ConvGeometry& g, int64_t off, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + g.SW - 1) / g.SW;
  hi = g.W - off <= 0 ? 0 : (g.W - off + g.SW - 1) / g.SW;
  lo = std::min(lo, g.OW);
  hi = std::clamp(hi, lo, g.OW);
}

}  // namespace

void im2col(const ConvGeometry& g, const float* image, float* col) {
  const int64_t C = g.C, L = g.KH * g.KW * C;
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      float* base = col + oh * g.OW * L + kh * g.KW * C;
      const int64_t ih = oh * g.SH + kh * g.DH - g.PT;
      if (ih < 0 || ih >= g.H) {
        for (int64_t ow = 0; ow < g.OW; ++ow) zero_run(base + ow * L, g.KW * C);
        continue;
      }
      const float* row = image + ih * g.W * C;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t off = kw * g.DW - g.PL;
        int64_t lo, hi;
        inside_columns(g, off, lo, hi);
        float* d = base + kw * C;
        for (int64_t ow = 0; ow < lo; ++ow) zero_run(d + ow * L, C);
        if (C == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) d[ow * L] = row[ow * g.SW + off];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) copy_run(d + ow * L, row + (ow * g.SW + off) * C, C);
        }
        for (int64_t ow = hi; ow < g.OW; ++ow) zero_run(d + ow * L, C);
      }
    }
  }
}

void col2im_add(const ConvGeometry& g, const float* col, float* image) {
  const int64_t C = g.C, L = g.KH * g.KW * C;
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * g.SH + kh * g.DH - g.PT;
      if (ih < 0 || ih >= g.H) continue;
      const float* base = col + oh * g.OW * L + kh * g.KW * C;
      float* row = image + ih * g.W * C;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t off = kw * g.DW - g.PL;
        int64_t lo, hi;
        inside_columns(g, off, lo, hi);
        const float* s = base + kw * C;
        if (C == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) row[ow * g.SW + off] += s[ow * L];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) add_run(row + (ow * g.SW + off) * C, s + ow * L, C);
        }
      }
    }
  }
}

}  // namespace cnn::kernels
