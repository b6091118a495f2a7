// The AVX-512F kernels (built with -mavx512f): 12 x 32 tile, 24 zmm
// accumulators of the 32 registers.
#include "kernels/conv_c1_rows.h"
#include "kernels/epilogue_rows.h"
#include "kernels/gemm_tile.h"
#include "kernels/kernel_table.h"

namespace cnn::kernels {

// The direct conv's blocks (KernelTable::c1_rows, c1_kernel_rows), given to
// its kernels too.
constexpr int kC1Rows = 8, kC1KernelRows = 5;

const KernelTable kAvx512Kernels{Isa::AVX512,
                                 true,  // A^T in place (KernelTable::trans_a_in_place)
                                 256,
                                 4,      // Winograd: the largest tile
                                 false,  // Winograd: fused products
                                 12,
                                 32,
                                 256,  // a B sliver is 32 KiB already
                                 &gemm_tile_simd<xsimd::avx512f, 12, 2>,
                                 24,
                                 16,
                                 &gemm_tile_simd<xsimd::avx512f, 24, 1>,
                                 &gemm_tile_rows_simd<xsimd::avx512f, 12, 2>,
                                 &gemm_tile_rows_simd<xsimd::avx512f, 24, 1>,
                                 &gemm_tile_rows_prefetch_simd<xsimd::avx512f, 12, 2>,
                                 &gemm_tile_tail_simd<xsimd::avx512f, 12, 2>,
                                 &gemm_tile_wide_simd<xsimd::avx512f, 12, 2>,  // 26 of 32 registers
                                 &gemm_tile_prefetch_simd<xsimd::avx512f, 12, 2>,
                                 &gemm_tile_pack_b_simd<xsimd::avx512f, 12, 2>,
                                 kC1Rows,
                                 kC1KernelRows,
                                 &conv_c1_forward_simd<xsimd::avx512f, 2, kC1Rows, kC1KernelRows>,
                                 &conv_c1_filter_simd<xsimd::avx512f, 2, kC1Rows, kC1KernelRows>,
                                 &epilogue_rows,
                                 &peak_flops_simd<xsimd::avx512f, 24>};

}  // namespace cnn::kernels
