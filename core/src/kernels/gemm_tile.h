// Private: the GEMM register tile, written once over xsimd and compiled per
// ISA (x86/*.cpp, simd/sse41.cpp). MR x NV vectors of accumulators stay in
// registers across the whole kc loop; one broadcast of A and NV loads of B
// feed MR * NV fused multiply-adds (mul + add where the ISA has no FMA).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <xsimd/xsimd.hpp>

#include "kernels/kernel_table.h"
#include "kernels/simd_fma.h"

namespace cnn::kernels {
// Internal linkage: each per-ISA file gets its own copy, compiled with its own
// flags, so the linker can never pick an AVX2 copy for the SSE4.1 table.
namespace {

// One k step of acc(MR, NR): step p's MR values of A (packed: at a; else
// row r's at rows[r][p]) times B's NR at b (packed; with PackB, B where it
// lies, its NR values also written to b_out, packed).
template <class V, int MR, int NV, bool Packed, bool PackB>
__attribute__((always_inline)) inline void gemm_tile_step(const float* a, const float* const* rows, int64_t p,
                                                          const float* b, float* b_out, V (&acc)[MR][NV]) {
  constexpr int W = static_cast<int>(V::size);
  V bv[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    if constexpr (PackB) {
      bv[v] = V::load_unaligned(b + v * W);
      bv[v].store_aligned(b_out + v * W);
    } else {
      bv[v] = V::load_aligned(b + v * W);
    }
  }
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) {
    const V av(Packed ? a[r] : rows[r][p]);
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = fmadd(av, bv[v], acc[r][v]);
  }
}

// acc(MR, NR) over kc steps. With Packed, step p's MR values of A are at
// a + p * a_step (a packed sliver, or A^T read in place); otherwise row r is
// at rows[r], its kc values contiguous. B is a packed sliver, or with PackB
// B itself (step p's NR values at b + p * ldb), packed into b_out on the way.
// With pf, the first steps also ask L2 for its lines, one every pf->every
// steps; with rows_pf (rows in place only), one line of rows_pf's a step.
// Not both: only pf's lines are sized to the tile's kc.
template <class V, int MR, int NV, bool Packed, bool PackB = false>
inline void gemm_tile_accumulate(int64_t kc, const float* a, const float* const* rows, const float* b,
                                 V (&acc)[MR][NV], int64_t a_step = MR, const TilePrefetch* pf = nullptr,
                                 int64_t ldb = 0, float* b_out = nullptr,
                                 const RowsPrefetch* rows_pf = nullptr) {
  constexpr int NR = NV * static_cast<int>(V::size);
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V(0.0f);
  int64_t p = 0;
  if constexpr (!Packed && !PackB) {
    if (rows_pf) {  // each line of the next tile's rows, in turn
      for (int64_t i = 0; i < rows_pf->count && p < kc; ++i) {
        const auto first = reinterpret_cast<uintptr_t>(rows_pf->rows[i] + rows_pf->offset);
        const uintptr_t end = first + static_cast<uintptr_t>(kc) * sizeof(float);
        for (uintptr_t line = first & ~uintptr_t{63}; line < end && p < kc; line += 64, ++p) {
          __builtin_prefetch(reinterpret_cast<const char*>(line), 0, 3);
          gemm_tile_step<V, MR, NV, Packed, PackB>(a, rows, p, b, b_out, acc);
          b += NR;
        }
      }
    }
  }
  if (pf) {
    const char* run = pf->first;
    for (int64_t i = 0; i < pf->rows; ++i, run += pf->ld)
      for (int64_t l = 0; l < pf->row_lines; ++l, ++p) {
        __builtin_prefetch(run + l * 64, 0, 2);
        gemm_tile_step<V, MR, NV, Packed, PackB>(a, rows, p, b, b_out, acc);
        if (Packed) a += a_step;
        b += PackB ? ldb : NR;
        if (PackB) b_out += NR;
        if (pf->every == 2) {  // a second step before the next line
          ++p;
          gemm_tile_step<V, MR, NV, Packed, PackB>(a, rows, p, b, b_out, acc);
          if (Packed) a += a_step;
          b += PackB ? ldb : NR;
          if (PackB) b_out += NR;
        }
      }
  }
  for (; p < kc; ++p) {
    gemm_tile_step<V, MR, NV, Packed, PackB>(a, rows, p, b, b_out, acc);
    if (Packed) a += a_step;
    b += PackB ? ldb : NR;
    if (PackB) b_out += NR;
  }
}

// C[0:m, 0:n] (+)= alpha * acc, clipped to the real tile.
template <class V, int MR, int NV>
inline void gemm_tile_store(V (&acc)[MR][NV], float alpha, float* c, int64_t ldc, int64_t m, int64_t n,
                            bool overwrite) {
  constexpr int W = static_cast<int>(V::size);
  constexpr int NR = NV * W;
  const V va(alpha);
  if (m == MR && n == NR) {
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        float* cp = c + r * ldc + v * W;
        if (overwrite)
          (va * acc[r][v]).store_unaligned(cp);
        else
          fmadd(va, acc[r][v], V::load_unaligned(cp)).store_unaligned(cp);
      }
    return;
  }
  // Unrolled, so that acc can stay in registers: a loop over it had GCC keep
  // every tile's accumulators on the stack, stored after the kc loop and
  // loaded back for the full tile's write-back too (48 moves of 64 bytes).
  alignas(64) float tile[MR * NR];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v].store_aligned(tile + r * NR + v * W);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j)
      c[r * ldc + j] = alpha * tile[r * NR + j] + (overwrite ? 0.0f : c[r * ldc + j]);
}

// Asks for the tile's rows of C while the kc loop runs, so the write-back
// does not wait on them: C's rows are often a power of two apart, and a
// large C is past L2 (GEMM 1024^3: the write-back was 12% of the tile).
// ROWS is the rows the tile writes (a partial tile's are its real rows).
template <int ROWS, int NR>
inline void gemm_tile_prefetch_c(const float* c, int64_t ldc) {
#pragma GCC unroll 32
  for (int r = 0; r < ROWS; ++r) {
    __builtin_prefetch(c + r * ldc, 1);
    __builtin_prefetch(c + r * ldc + NR - 1, 1);
  }
}

// The tile's work on its first ROWS rows (ROWS <= MR): a product's last row
// tile is usually partial (ResNet50's 7x7 convs: 49 rows, 8 tiles of 6 and
// one row), and accumulating only the real rows costs that tile ROWS / MR of
// a full one instead of all of it. A packed sliver's step stays MR.
//
// lda == 0: a is a packed A sliver. lda > 0: a is A itself, row-major with
// leading dimension lda (row r of the tile at a + r * lda): a GEMM whose B is
// one sliver uses each A value once, so packing A would only add a pass over
// it. lda < 0: a is A^T in place, step p's MR values at a + p * (-lda),
// already the packed layout.
//
// With PackB, b is B itself (step p's NR values at b + p * ldb), and the tile
// writes the sliver it reads to b_out, packed.
template <class Arch, int MR, int ROWS, int NV, bool PackB = false>
__attribute__((always_inline)) inline void gemm_tile_run(int64_t kc, const float* a, int64_t lda,
                                                         const float* b, float alpha, float* c, int64_t ldc,
                                                         int64_t m, int64_t n, bool overwrite,
                                                         const TilePrefetch* pf, int64_t ldb = 0,
                                                         float* b_out = nullptr) {
  using V = xsimd::batch<float, Arch>;
  gemm_tile_prefetch_c<ROWS, NV* static_cast<int>(V::size)>(c, ldc);
  V acc[ROWS][NV];
  // Packed A gets its own copy of the loop with a constant step: a step
  // chosen inside the loop cost V8 six instructions per step (wasm).
  if (lda == 0) {
    gemm_tile_accumulate<V, ROWS, NV, true, PackB>(kc, a, nullptr, b, acc, MR, pf, ldb, b_out);
  } else if (lda < 0) {
    gemm_tile_accumulate<V, ROWS, NV, true, PackB>(kc, a, nullptr, b, acc, -lda, pf, ldb, b_out);
  } else {
    const float* rows[ROWS];
    for (int r = 0; r < ROWS; ++r) rows[r] = a + r * lda;
    gemm_tile_accumulate<V, ROWS, NV, false, PackB>(kc, nullptr, rows, b, acc, MR, pf, ldb, b_out);
  }
  gemm_tile_store<V, ROWS, NV>(acc, alpha, c, ldc, m, n, overwrite);
}

template <class Arch, int MR, int ROWS, int NV>
void gemm_tile_part(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                    int64_t ldc, int64_t m, int64_t n, bool overwrite) {
  gemm_tile_run<Arch, MR, ROWS, NV>(kc, a, lda, b, alpha, c, ldc, m, n, overwrite, nullptr);
}

// KernelTable::gemm_tile_prefetch: the whole tile, asking L2 for pf's lines.
template <class Arch, int MR, int NV>
void gemm_tile_prefetch_simd(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                             int64_t ldc, int64_t n, bool overwrite, const TilePrefetch& pf) {
  gemm_tile_run<Arch, MR, MR, NV>(kc, a, lda, b, alpha, c, ldc, MR, n, overwrite, &pf);
}

// KernelTable::gemm_tile_pack_b: the whole tile on B where it lies, packing
// its sliver on the way.
template <class Arch, int MR, int NV>
void gemm_tile_pack_b_simd(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* b_out,
                           float alpha, float* c, int64_t ldc, int64_t n, bool overwrite,
                           const TilePrefetch* pf) {
  gemm_tile_run<Arch, MR, MR, NV, true>(kc, a, lda, b, alpha, c, ldc, MR, n, overwrite, pf, ldb, b_out);
}

// KernelTable::gemm_tile_wide: MR + 1 rows of packed A, step MR + 1.
template <class Arch, int MR, int NV>
void gemm_tile_wide_simd(int64_t kc, const float* a, const float* b, float alpha, float* c, int64_t ldc,
                         int64_t n, bool overwrite, const TilePrefetch* pf) {
  using V = xsimd::batch<float, Arch>;
  gemm_tile_prefetch_c<MR + 1, NV* static_cast<int>(V::size)>(c, ldc);
  // alpha waits in memory: kept in a vector register through the loop, it
  // left GCC one short, and it spilled a vector of B (13 loads more a step).
  volatile float alpha_later = alpha;
  V acc[MR + 1][NV];
  gemm_tile_accumulate<V, MR + 1, NV, true>(kc, a, nullptr, b, acc, MR + 1, pf);
  gemm_tile_store<V, MR + 1, NV>(acc, alpha_later, c, ldc, MR + 1, n, overwrite);
}

// The same with A's rows anywhere: row r of the tile at rows[r] + offset (a
// convolution's windows read straight from its input; see gemm_rows).
template <class Arch, int ROWS, int NV>
void gemm_tile_rows_part(int64_t kc, const float* const* rows_in, int64_t offset, const float* b, float alpha,
                         float* c, int64_t ldc, int64_t m, int64_t n, bool overwrite) {
  using V = xsimd::batch<float, Arch>;
  V acc[ROWS][NV];
  const float* rows[ROWS];
  for (int r = 0; r < ROWS; ++r) rows[r] = rows_in[r] + offset;
  gemm_tile_accumulate<V, ROWS, NV, false>(kc, nullptr, rows, b, acc);
  gemm_tile_store<V, ROWS, NV>(acc, alpha, c, ldc, m, n, overwrite);
}

// KernelTable::gemm_tile_rows_prefetch: the whole rows tile, asking for
// the next tile's rows of A as it goes.
template <class Arch, int MR, int NV>
void gemm_tile_rows_prefetch_simd(int64_t kc, const float* const* rows_in, int64_t offset, const float* b,
                                  float alpha, float* c, int64_t ldc, int64_t n, bool overwrite,
                                  const RowsPrefetch& pf) {
  using V = xsimd::batch<float, Arch>;
  V acc[MR][NV];
  const float* rows[MR];
  for (int r = 0; r < MR; ++r) rows[r] = rows_in[r] + offset;
  gemm_tile_accumulate<V, MR, NV, false>(kc, nullptr, rows, b, acc, MR, nullptr, 0, nullptr, &pf);
  gemm_tile_store<V, MR, NV>(acc, alpha, c, ldc, MR, n, overwrite);
}

using TileFn = void (*)(int64_t, const float*, int64_t, const float*, float, float*, int64_t, int64_t,
                        int64_t, bool);
using RowsTileFn = void (*)(int64_t, const float* const*, int64_t, const float*, float, float*, int64_t,
                            int64_t, int64_t, bool);

// The partial tiles of 1 .. MR-1 rows, indexed by rows - 1.
template <class Arch, int MR, int NV, int... R>
constexpr std::array<TileFn, sizeof...(R)> partial_tiles(std::integer_sequence<int, R...>) {
  return {&gemm_tile_part<Arch, MR, R + 1, NV>...};
}
template <class Arch, int NV, int... R>
constexpr std::array<RowsTileFn, sizeof...(R)> partial_rows_tiles(std::integer_sequence<int, R...>) {
  return {&gemm_tile_rows_part<Arch, R + 1, NV>...};
}

// The MR x (NV vectors) tile; m < MR takes the tile of exactly m rows.
template <class Arch, int MR, int NV>
void gemm_tile_simd(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                    int64_t ldc, int64_t m, int64_t n, bool overwrite) {
  if constexpr (MR > 1) {
    static constexpr auto partial = partial_tiles<Arch, MR, NV>(std::make_integer_sequence<int, MR - 1>{});
    if (m < MR) return partial[static_cast<size_t>(m - 1)](kc, a, lda, b, alpha, c, ldc, m, n, overwrite);
  }
  gemm_tile_part<Arch, MR, MR, NV>(kc, a, lda, b, alpha, c, ldc, m, n, overwrite);
}

template <class Arch, int MR, int NV>
void gemm_tile_rows_simd(int64_t kc, const float* const* rows, int64_t offset, const float* b, float alpha,
                         float* c, int64_t ldc, int64_t m, int64_t n, bool overwrite) {
  if constexpr (MR > 1) {
    static constexpr auto partial = partial_rows_tiles<Arch, NV>(std::make_integer_sequence<int, MR - 1>{});
    if (m < MR)
      return partial[static_cast<size_t>(m - 1)](kc, rows, offset, b, alpha, c, ldc, m, n, overwrite);
  }
  gemm_tile_rows_part<Arch, MR, NV>(kc, rows, offset, b, alpha, c, ldc, m, n, overwrite);
}

// The last ROWS rows of a packed product (a 7x7 conv's 49 rows leave one
// after eight tiles of 6) against G consecutive slivers of packed B at once
// (sliver g at b + g * kc * NR): C[0:ROWS, 0:n] (+)= alpha * acc, n <= G * NR.
// The partial tile of one row has NV accumulators, too few to hide the
// multiply-add latency, and reads its sliver of B for a single row; across G
// slivers it has ROWS * G * NV (the same register budget as a 4-row tile).
template <class Arch, int MR, int ROWS, int NV, int G>
void gemm_tile_tail_part(int64_t kc, const float* a, const float* b, float alpha, float* c, int64_t ldc,
                         int64_t n, bool overwrite) {
  using V = xsimd::batch<float, Arch>;
  constexpr int W = static_cast<int>(V::size);
  constexpr int NR = NV * W;
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g) gemm_tile_prefetch_c<ROWS, NR>(c + g * NR, ldc);
  V acc[G][ROWS][NV];
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g)
#pragma GCC unroll 32
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[g][r][v] = V(0.0f);
  const int64_t stride = kc * NR;
  for (int64_t p = 0; p < kc; ++p) {
    V av[ROWS];
#pragma GCC unroll 32
    for (int r = 0; r < ROWS; ++r) av[r] = V(a[r]);
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const V bv = V::load_aligned(b + g * stride + v * W);
#pragma GCC unroll 32
        for (int r = 0; r < ROWS; ++r) acc[g][r][v] = fmadd(av[r], bv, acc[g][r][v]);
      }
    a += MR;
    b += NR;
  }
  // Sliver by sliver, as the partial tile stores: a column's result then
  // does not depend on how the slivers were grouped (by the thread count).
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g)
    gemm_tile_store<V, ROWS, NV>(acc[g], alpha, c + g * NR, ldc, ROWS, std::min<int64_t>(NR, n - g * NR),
                                 overwrite);
}

// KernelTable::gemm_tile_tail: 1 row across up to kTailSlivers slivers, or
// 2 rows across up to half as many.
template <class Arch, int MR, int NV>
void gemm_tile_tail_simd(int64_t kc, int64_t rows, const float* a, const float* b, int64_t slivers,
                         float alpha, float* c, int64_t ldc, int64_t n, bool overwrite) {
  static_assert(kTailSlivers == 4, "the cases below cover 1 to 4 slivers");
  if (rows == 1) {
    switch (slivers) {
      case 1:
        return gemm_tile_tail_part<Arch, MR, 1, NV, 1>(kc, a, b, alpha, c, ldc, n, overwrite);
      case 2:
        return gemm_tile_tail_part<Arch, MR, 1, NV, 2>(kc, a, b, alpha, c, ldc, n, overwrite);
      case 3:
        return gemm_tile_tail_part<Arch, MR, 1, NV, 3>(kc, a, b, alpha, c, ldc, n, overwrite);
      default:
        return gemm_tile_tail_part<Arch, MR, 1, NV, 4>(kc, a, b, alpha, c, ldc, n, overwrite);
    }
  }
  if (slivers == 1) return gemm_tile_tail_part<Arch, MR, 2, NV, 1>(kc, a, b, alpha, c, ldc, n, overwrite);
  gemm_tile_tail_part<Arch, MR, 2, NV, 2>(kc, a, b, alpha, c, ldc, n, overwrite);
}

// A register-only multiply-add loop: ACC independent accumulators hide the
// latency, so it runs at the core's peak. Returns the flops done. Without
// FMA (SSE4.1, wasm SIMD128; not the relaxed-SIMD modules) a multiply-add is
// two instructions that can issue on separate ports, so the multiplies and
// adds run as independent chains instead of one dependent mul -> add per
// step, which would measure latency rather than throughput.
template <class Arch, int ACC>
double peak_flops_simd(int64_t iterations, float* sink) {
  using V = xsimd::batch<float, Arch>;
  constexpr bool fused = std::is_base_of_v<xsimd::fma3<xsimd::sse4_2>, Arch> ||
                         std::is_base_of_v<xsimd::fma3<xsimd::avx2>, Arch> ||
#ifdef __wasm_relaxed_simd__
                         std::is_base_of_v<xsimd::sse4_1, Arch> ||  // f32x4.relaxed_madd (simd_fma.h)
#endif
                         std::is_base_of_v<xsimd::avx512f, Arch>;
  V acc[ACC];
  for (int i = 0; i < ACC; ++i) acc[i] = V(static_cast<float>(i) * 1e-3f);
  const V x(0.999999f), y(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    if constexpr (fused) {
#pragma GCC unroll 32
      for (int i = 0; i < ACC; ++i) acc[i] = fmadd(acc[i], x, y);
    } else {
#pragma GCC unroll 32
      for (int i = 0; i < ACC; i += 2) {
        acc[i] = acc[i] * x;
        acc[i + 1] = acc[i + 1] + y;
      }
    }
  }
  V total = acc[0];
  for (int i = 1; i < ACC; ++i) total += acc[i];
  alignas(64) float lanes[V::size];
  total.store_aligned(lanes);
  float sum = 0;
  for (float l : lanes) sum += l;
  *sink = sum;
  // A fused step is 2 flops per lane; an unfused one (a multiply or an add) is 1.
  return (fused ? 2.0 : 1.0) * static_cast<double>(iterations) * ACC * V::size;
}

}  // namespace
}  // namespace cnn::kernels
