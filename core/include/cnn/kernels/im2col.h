// Lowering of a convolution to GEMM on one NHWC image.
// col has shape (OH * OW, KH * KW * C), column index (kh * KW + kw) * C + c,
// which is exactly the row order of an HWIO kernel viewed as (KH*KW*C, O).
#pragma once

#include <cstdint>

namespace cnn::kernels {

struct ConvGeometry {
  int64_t H, W, C;  // input image
  int64_t KH, KW;   // kernel
  int64_t OH, OW;   // output
  int64_t SH, SW;   // strides
  int64_t DH, DW;   // dilation
  int64_t PT, PL;   // padding before (top, left); the rest is implied by OH/OW
};

// image (H, W, C) -> col (OH*OW, KH*KW*C); padded taps are zero.
void im2col(const ConvGeometry& g, const float* image, float* col);
// image (H, W, C) += scatter of col (OH*OW, KH*KW*C); padded taps dropped.
void col2im_add(const ConvGeometry& g, const float* col, float* image);

// out (Hp, Wp, C) = zeros with image (H, W, C) placed at row `top`, column
// `left` (clipped to out): the padded input of convs that read windows in place.
void pad_image(const float* image, int64_t H, int64_t W, int64_t C, int64_t top, int64_t left, int64_t Hp,
               int64_t Wp, float* out);

}  // namespace cnn::kernels
