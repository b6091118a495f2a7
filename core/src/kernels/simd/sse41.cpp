// The SSE4.1 kernels: 128-bit vectors; natively built with -msse4.1, in wasm
// the whole build has -msimd128 -msse4.1 and these lower to SIMD128, and
// compiled again with -mrelaxed-simd they fuse their multiply-adds (the
// -relaxed modules; their tile below). Else no FMA: 5 x 2 vectors of
// accumulators, one broadcast and two loads per step. In V8, 5x8 measured
// fastest (GEMM 1024: 23.6 GFLOP/s, against 4x8 21.6, 6x8
// 18-21, 2x16 21.4, 3x12 18.7, 8x4 17.8): larger tiles spill registers.
// The direct conv takes 4 rows a block (LeNet's first conv in V8, batch 32:
// filter gradient 395 -> 324 us against 8 rows, forward level).
#include "cnn/kernels/isa.h"
#include "kernels/conv_c1_rows.h"
#include "kernels/epilogue_rows.h"
#include "kernels/gemm_tile.h"
#include "kernels/kernel_table.h"

namespace cnn::kernels {

const char* sse41_target() {
#if defined(__wasm_relaxed_simd__)
  return "wasm-relaxed-simd";
#elif defined(__wasm_simd128__)
  return "wasm-simd128";
#else
  return "sse4.1";
#endif
}

// The direct conv's blocks (KernelTable::c1_rows, c1_kernel_rows), given to
// its kernels too.
constexpr int kC1Rows = 4, kC1KernelRows = 5;
// The GEMM tile, kMr rows by kNv vectors. With fused multiply-adds no
// register holds a product, and 6 x 2 fits V8's 16 (12 accumulators, two B
// vectors, the broadcast A): against 5 x 2 in one process, alternated (Intel
// Xeon, Emerald Rapids), GEMM 1024 +9.6%, W4 +8%, W2 +7.6%, W1 +3%; 4 x 3
// lost 25%. (8 direct-conv rows against 4: level.)
#ifdef __wasm_relaxed_simd__
constexpr int kMr = 6, kNv = 2;
#else
constexpr int kMr = 5, kNv = 2;
#endif

const KernelTable kSse41Kernels{Isa::SSE41,
                                true,
                                1,
                                5,     // Winograd: the largest tile
                                true,  // Winograd: fused products
                                kMr,
                                4 * kNv,
                                256,
                                &gemm_tile_simd<xsimd::sse4_1, kMr, kNv>,
                                kMr,
                                4 * kNv,
                                &gemm_tile_simd<xsimd::sse4_1, kMr, kNv>,
                                &gemm_tile_rows_simd<xsimd::sse4_1, kMr, kNv>,
                                &gemm_tile_rows_simd<xsimd::sse4_1, kMr, kNv>,
                                nullptr,  // WebAssembly has no prefetch, and shares this table
                                &gemm_tile_tail_simd<xsimd::sse4_1, kMr, kNv>,
                                nullptr,  // a row more spilled registers in V8 (above)
                                nullptr,  // WebAssembly has no prefetch, and shares this table
                                nullptr,  // B packed first
                                kC1Rows,
                                kC1KernelRows,
                                &conv_c1_forward_simd<xsimd::sse4_1, 1, kC1Rows, kC1KernelRows>,
                                &conv_c1_filter_simd<xsimd::sse4_1, 1, kC1Rows, kC1KernelRows>,
                                &epilogue_rows,
                                &peak_flops_simd<xsimd::sse4_1, 12>};

}  // namespace cnn::kernels
