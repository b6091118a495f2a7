#include "cnn/kernels/im2col.h"

#include <cstring>

namespace cnn::kernels {

void im2col(const ConvGeometry& g, const float* image, float* col) {
  const int64_t row_len = g.KH * g.KW * g.C;
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      float* dst = col + (oh * g.OW + ow) * row_len;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = oh * g.SH + kh * g.DH - g.PT;
        for (int64_t kw = 0; kw < g.KW; ++kw, dst += g.C) {
          const int64_t iw = ow * g.SW + kw * g.DW - g.PL;
          if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W)
            std::memset(dst, 0, static_cast<size_t>(g.C) * sizeof(float));
          else
            std::memcpy(dst, image + (ih * g.W + iw) * g.C, static_cast<size_t>(g.C) * sizeof(float));
        }
      }
    }
  }
}

void col2im_add(const ConvGeometry& g, const float* col, float* image) {
  const int64_t row_len = g.KH * g.KW * g.C;
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const float* src = col + (oh * g.OW + ow) * row_len;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = oh * g.SH + kh * g.DH - g.PT;
        for (int64_t kw = 0; kw < g.KW; ++kw, src += g.C) {
          const int64_t iw = ow * g.SW + kw * g.DW - g.PL;
          if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
          float* dst = image + (ih * g.W + iw) * g.C;
          for (int64_t c = 0; c < g.C; ++c) dst[c] += src[c];
        }
      }
    }
  }
}

}  // namespace cnn::kernels
