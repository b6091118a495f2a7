// The AVX2 + FMA kernels (built with -mavx2 -mfma): 6 x 16 tile, 12 ymm
// accumulators, two B loads and one A broadcast per step.
#include "kernels/conv_c1_rows.h"
#include "kernels/epilogue_rows.h"
#include "kernels/gemm_tile.h"
#include "kernels/kernel_table.h"

namespace cnn::kernels {

// The direct conv's blocks (KernelTable::c1_rows, c1_kernel_rows), given to
// its kernels too.
constexpr int kC1Rows = 8, kC1KernelRows = 5;

// kc 512: measured against 256 on an AMD EPYC (Zen 3), interleaved call by
// call in one process: GEMMs -1% to +12%, the workloads +0.5-6%.
const KernelTable kAvx2Kernels{Isa::AVX2,
                               false,
                               0,
                               4,      // Winograd: the largest tile
                               false,  // Winograd: fused products
                               6,
                               16,
                               512,
                               &gemm_tile_simd<xsimd::fma3<xsimd::avx2>, 6, 2>,
                               12,
                               8,
                               &gemm_tile_simd<xsimd::fma3<xsimd::avx2>, 12, 1>,
                               &gemm_tile_rows_simd<xsimd::fma3<xsimd::avx2>, 6, 2>,
                               &gemm_tile_rows_simd<xsimd::fma3<xsimd::avx2>, 12, 1>,
                               &gemm_tile_rows_prefetch_simd<xsimd::fma3<xsimd::avx2>, 6, 2>,
                               &gemm_tile_tail_simd<xsimd::fma3<xsimd::avx2>, 6, 2>,
                               nullptr,  // 7 x 2 accumulators and 2 vectors of B: more than 16 registers
                               nullptr,  // no prefetching tile: unmeasured on AVX2 machines
                               nullptr,  // B packed first
                               kC1Rows,
                               kC1KernelRows,
                               &conv_c1_forward_simd<xsimd::fma3<xsimd::avx2>, 1, kC1Rows, kC1KernelRows>,
                               &conv_c1_filter_simd<xsimd::fma3<xsimd::avx2>, 1, kC1Rows, kC1KernelRows>,
                               &epilogue_rows,
                               &peak_flops_simd<xsimd::fma3<xsimd::avx2>, 12>};

}  // namespace cnn::kernels
