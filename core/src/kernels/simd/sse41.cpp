// The SSE4.1 kernels: 128-bit vectors; natively built with -msse4.1, in wasm
// the whole build has -msimd128 -msse4.1 and these lower to SIMD128. No FMA:
// 6 x 2 vectors of accumulators, one broadcast and two loads per step.
#include "kernels/gemm_tile.h"
#include "kernels/kernel_table.h"

namespace cnn::kernels {

const KernelTable kSse41Kernels{Isa::SSE41,
                                6,
                                8,
                                &gemm_tile_simd<xsimd::sse4_1, 6, 2>,
                                6,
                                8,
                                &gemm_tile_simd<xsimd::sse4_1, 6, 2>,
                                &peak_flops_simd<xsimd::sse4_1, 12>};

}  // namespace cnn::kernels
