// Private: the kernels of one instruction set, behind one table. Each ISA's
// table is compiled in its own file with that ISA's flags (x86/avx2.cpp is
// built with -mavx2 -mfma, ...), so the rest of the engine is built for the
// baseline CPU and picks a table at run time.
#pragma once

#include <cstdint>

#include "cnn/kernels/gemm.h"
#include "cnn/kernels/isa.h"

namespace cnn::kernels {

// Rows of a single-channel stride-1 convolution (cnn/kernels/conv_c1.h) on
// an "expanded" image: xe row r holds input row r - PT with each pixel
// repeated O times (pixel q at q * O), zero-padded, so output value f = ow * O
// + o of a row reads xe at f + kw * O for tap kw. Weight and bias rows are
// tiled the same way (wr[t][f] = w[t][f % O]), so every multiply-add is a
// whole vector of lanes whatever O is.
//
// The kernels take rows in blocks of KernelTable::c1_rows and kernel rows in
// blocks of kb (a divisor of kh, at most KernelTable::c1_kernel_rows). xe is
// readable to row `rows` rounded up to c1_rows, plus kh - 1: the forward
// computes a last block's rows past `rows` but does not store them. No
// padding takes part in a sum, so an Inf reaches only the outputs and
// gradients whose windows hold it.
struct ConvC1Rows {
  const float* xe;  // expanded rows; row stride xs, readable to (KW-1)*O + rl
  int64_t xs;
  const float* wr;  // (kh*KW, rl) weight rows, 64-byte aligned
  const float* br;  // (rl) bias row
  int64_t rl;       // row length rounded up to 16 floats
  int64_t kh, kb, kw, o;
  int64_t rows, len;  // output rows, and floats per output row (OW * O)
  float* y;           // (rows, len), written exactly
  bool relu;
};
struct ConvC1Grad {
  const float* xe;  // as above
  int64_t xs;
  const float* dy;  // (rows, rl), zero past len in each row
  int64_t rl, kh, kb, kw, o, rows, len;
  float* g;  // (kh*KW, rl) += sum over rows of xe-window * dy (lane-wise)
};

// Slivers of B that KernelTable::gemm_tile_tail takes for a one-row tail.
constexpr int64_t kTailSlivers = 4;

// Lines a tile asks L2 for as it runs, one every `every` k steps (1 or 2;
// see KernelTable::gemm_tile_prefetch): `rows` runs of `row_lines` 64-byte
// lines, the runs `ld` bytes apart; rows * row_lines * every <= the tile's
// kc.
struct TilePrefetch {
  const char* first;
  int64_t rows, row_lines, ld;
  int64_t every = 1;
};

// The rows of the next tile of an in-place product, row r at rows[r] +
// offset (count of them), whose lines over the tile's kc floats a rows tile
// asks the cache for as it runs, one a k step (see
// KernelTable::gemm_tile_rows_prefetch).
struct RowsPrefetch {
  const float* const* rows;
  int64_t offset, count;
};

struct KernelTable {
  Isa isa;
  // Whether the tiles read a transposed A (a filter gradient's columns) in
  // place when B is narrow, instead of packing it: a win where packing is
  // expensive (SIMD128 in V8: 5-float slivers) and for AVX-512's 24-row
  // narrow tile (LeNet training on an Intel Xeon: +3.2% at 1 thread, -1.6%
  // at 2, in one process); AVX2 measured level (-1.5% on the course CNN),
  // so it keeps packing.
  bool trans_a_in_place;
  // From how many 4x4 output tiles per call inference runs a 3x3 stride-1
  // conv as Winograd (F(2x2, 3x3) or F(4x4, 3x3), cnn/kernels/winograd.h):
  // 2.25-4x fewer multiplies, for transforms per tile and a filter transform
  // per call; 0 never. SIMD128's multiplies are slow enough for any conv to
  // gain. AVX-512's are not: the transforms, at the baseline's 128-bit width,
  // and the filter transform must be spread over many tiles (ResNet50 batch
  // 1 lost 15% with every conv on Winograd). AVX2 is left off, unmeasured.
  int64_t winograd_min_tiles;
  // The largest output tile m the Winograd path takes (2 to 5; see
  // winograd_tile), and whether it transforms the filters a panel at a time
  // straight into the tiles' layout of B (winograd.cpp's fused_products)
  // instead of one GEMM per tile position. F(5x5, 3x3) and the fused
  // products each trade transform work at the baseline's width for fewer
  // or cheaper multiplies: with both, W4's 3x3 convs ran 1.15-1.52x faster
  // on SIMD128 in V8 on an Intel Xeon, than with the tiles and GEMMs of
  // before; natively with AVX-512, 5x5 fused ran 0.75-0.86x as fast.
  int winograd_max_tile;
  bool winograd_fused;
  // GEMM register tile: MR rows of packed A by NR columns of packed B.
  int64_t mr, nr;
  // Depth of a packed K block (KC): each tile call runs kc steps on a
  // (kc, NR) sliver of B and a (kc, MR) sliver of A. Deeper blocks mean
  // fewer passes over C and, threaded, fewer waits for the slowest thread,
  // at the price of slivers that outgrow L1.
  int64_t kc;
  // acc(MR, NR) = sum over kc of a(p, 0:MR)^T b(p, 0:NR), from panels packed
  // as (kc, MR) and (kc, NR) slivers (b 64-byte aligned) -- or, with lda > 0,
  // from A unpacked (row r at a + r * lda; rows past m are not read), or with
  // lda < 0 from A^T in place (step p's MR values at a + p * -lda); then
  // C[0:m, 0:n] += alpha * acc (= alpha * acc with overwrite, which ignores
  // what C held), clipped to the real tile (m <= MR, n <= NR).
  void (*gemm_tile)(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                    int64_t ldc, int64_t m, int64_t n, bool overwrite);
  // The same for narrow products (N <= narrow_nr, e.g. LeNet's 6-filter
  // convs): one vector per row, more rows, so few lanes idle.
  int64_t narrow_mr, narrow_nr;
  void (*gemm_tile_narrow)(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                           int64_t ldc, int64_t m, int64_t n, bool overwrite);
  // Both tiles with A's rows given one by one: row r at rows[r] + offset
  // (rows past m are not read).
  using RowsTile = void (*)(int64_t kc, const float* const* rows, int64_t offset, const float* b, float alpha,
                            float* c, int64_t ldc, int64_t m, int64_t n, bool overwrite);
  RowsTile gemm_tile_rows, gemm_tile_rows_narrow;
  // gemm_tile_rows for a whole tile (m = MR) that also asks for the next
  // tile's rows of A (RowsPrefetch). nullptr for the scalar table, and for
  // SSE4.1's, which WebAssembly (no prefetch) shares.
  void (*gemm_tile_rows_prefetch)(int64_t kc, const float* const* rows, int64_t offset, const float* b,
                                  float alpha, float* c, int64_t ldc, int64_t n, bool overwrite,
                                  const RowsPrefetch& pf);
  // The last `rows` rows (1, or 2 with at most kTailSlivers / 2 slivers) of
  // a product's packed A (a sliver, step MR) against `slivers` consecutive
  // slivers of its packed B panel (sliver g at b + g * kc * NR, at most
  // kTailSlivers): C[0:rows, 0:n] (+)= alpha * acc, n <= slivers * NR. One
  // row's partial tile waits on its few accumulators; across four slivers it
  // has four times as many. nullptr: the last rows run as a partial tile.
  void (*gemm_tile_tail)(int64_t kc, int64_t rows, const float* a, const float* b, int64_t slivers,
                         float alpha, float* c, int64_t ldc, int64_t n, bool overwrite);
  // A packed block's last tile with the row past its whole tiles: MR + 1
  // rows, their sliver packed that wide (step MR + 1), asking L2 for pf's
  // lines if given (see gemm_tile_prefetch). The tail tile, across four
  // slivers of B, reads those from L2 at 8 lines per 8 multiply-adds.
  // nullptr where MR + 1 rows of accumulators do not fit the registers (the
  // tail tile takes the row).
  void (*gemm_tile_wide)(int64_t kc, const float* a, const float* b, float alpha, float* c, int64_t ldc,
                         int64_t n, bool overwrite, const TilePrefetch* pf);
  // gemm_tile for a whole tile (m = MR) that also asks L2 for the lines of
  // pf, one per k step: on one thread the tiles fetch the next K block of B
  // while they run, so that packing it reads L2 (see gemm.cpp). nullptr for
  // WebAssembly, which has no prefetch, and for AVX2, unmeasured.
  void (*gemm_tile_prefetch)(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                             int64_t ldc, int64_t n, bool overwrite, const TilePrefetch& pf);
  // gemm_tile for a whole tile (m = MR) of a whole sliver that reads B where
  // it lies (step p's NR values at b + p * ldb) and writes the sliver to
  // b_out packed (kc, NR) as it goes, asking L2 for pf's lines if given: the
  // first tile of each sliver packs B, so packing is not a pass of its own.
  // nullptr: B is packed first.
  void (*gemm_tile_pack_b)(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* b_out,
                           float alpha, float* c, int64_t ldc, int64_t n, bool overwrite,
                           const TilePrefetch* pf);
  // Forward rows and filter-gradient rows of the single-channel direct conv,
  // in blocks of c1_rows rows, with the kernel rows in blocks of up to
  // c1_kernel_rows (see ConvC1Rows).
  int64_t c1_rows, c1_kernel_rows;
  void (*conv_c1_forward)(const ConvC1Rows& a);
  void (*conv_c1_filter)(const ConvC1Grad& a);
  // The GEMM epilogue (cnn/kernels/gemm.h) on C[i0:i1, j0:j1].
  void (*epilogue)(const Epilogue& ep, float* C, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1);
  // The ISA's peak: a register-only multiply-add loop; returns the flops done.
  double (*peak_flops)(int64_t iterations, float* sink);
};

const KernelTable& active_kernels();

// Defined by the per-ISA files of this build.
extern const KernelTable kScalarKernels;
#if CNN_HAVE_SSE41_KERNELS
extern const KernelTable kSse41Kernels;
#endif
#if CNN_HAVE_X86_KERNELS
extern const KernelTable kAvx2Kernels;
extern const KernelTable kAvx512Kernels;
#endif

}  // namespace cnn::kernels
