// Winograd F(m x m, 3x3), m = 2 to 5, for 3x3 stride-1 convolutions (all of
// ResNet50's 3x3 convs): an m x m output tile costs (m+2)^2 multiplies per
// channel pair instead of 9 m^2 (4x4: 36 instead of 144), as products over
// transformed (m+2) x (m+2) input tiles; the tile size is chosen per layer.
// Inference only: the transforms round differently from im2col (about 1e-6
// of the largest output for 2x2 tiles, 1e-5 to 2e-5 for 4x4 and 5x5 over
// hundreds of channels), so training keeps the exact path its gradients are
// taken through.
#pragma once

#include <cstdint>

#include "cnn/kernels/gemm.h"
#include "cnn/kernels/im2col.h"

namespace cnn::kernels {

// Whether the Winograd path takes this conv of N images: the active ISA
// uses it for this many tiles (always on SIMD128, where GEMMs are slow
// enough for the transforms to pay; on AVX-512 for large batches of tiles
// only; never on AVX2), 3x3, stride 1, no dilation, and enough channels and
// filters.
bool winograd_applies(const ConvGeometry& g, int64_t N, int64_t O);

// The output tile size m the conv of N images takes (2 to the active ISA's
// largest, 4 or 5).
int winograd_tile(const ConvGeometry& g, int64_t N);

// y (N, OH, OW, O) = conv(x (N, H, W, C), w (3, 3, C, O)), without bias; then
// ep, if given, on y (rows are output pixels) as a GEMM's epilogue.
void conv3x3_winograd(const ConvGeometry& g, int64_t N, int64_t O, const float* x, const float* w, float* y,
                      const Epilogue* ep = nullptr);

}  // namespace cnn::kernels
