// Winograd F(4x4, 3x3) and F(2x2, 3x3) for 3x3 stride-1 convolutions (all of
// ResNet50's 3x3 convs): a 4x4 output tile costs 36 multiplies per channel
// pair instead of 144 (a 2x2 tile 16 instead of 36), as GEMMs over
// transformed 6x6 (4x4) input tiles; the tile size is chosen per layer.
// Inference only: the transforms round differently from im2col (about 1e-6
// relative for 2x2 tiles, 1e-5 for 4x4), so training keeps the exact path its
// gradients are taken through.
#pragma once

#include <cstdint>

#include "cnn/kernels/im2col.h"

namespace cnn::kernels {

// Whether the Winograd path takes this conv of N images: the active ISA
// uses it for this many tiles (always on SIMD128, where GEMMs are slow
// enough for the transforms to pay; on AVX-512 for large batches of tiles
// only; never on AVX2), 3x3, stride 1, no dilation, and enough channels and
// filters.
bool winograd_applies(const ConvGeometry& g, int64_t N, int64_t O);

// y (N, OH, OW, O) = conv(x (N, H, W, C), w (3, 3, C, O)), without bias.
void conv3x3_winograd(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* w, float* y);

}  // namespace cnn::kernels
