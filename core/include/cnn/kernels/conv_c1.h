// Direct convolution for single-channel inputs (a grayscale first layer such
// as LeNet's): im2col would copy each pixel KH*KW times for a GEMM of K =
// KH*KW and a few filters, which leaves most SIMD lanes idle. Here each
// pixel is repeated once per filter instead, so every lane computes an output
// value. Stride 1, no dilation; any padding and filter count.
#pragma once

#include <cstdint>

#include "cnn/kernels/im2col.h"

namespace cnn::kernels {

// Whether the direct path takes this conv (C == 1, stride 1, no dilation, and
// the tiled weight rows stay cache-sized).
bool conv_c1_applies(const ConvGeometry& g, int64_t O);

// y (N, OH, OW, O) = conv(x (N, H, W, 1), w (KH, KW, 1, O)) + b, then
// max(y, 0) when relu; b may be null.
void conv_c1_forward(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* w,
                     const float* b, bool relu, float* y);

// dw (KH, KW, 1, O) += filter gradient and db (O) += bias gradient (db may be
// null) for upstream dy (N, OH, OW, O). With y given (a fused ReLU's output),
// dy counts only where y > 0. Partial sums are cut by image count, not by
// thread, so results do not depend on the thread count.
void conv_c1_backward_filter(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* dy,
                             const float* y, float* dw, float* db);

}  // namespace cnn::kernels
