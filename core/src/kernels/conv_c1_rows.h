// Private: the single-channel direct conv's row kernels (ConvC1Rows and
// ConvC1Grad in kernels/kernel_table.h), written once over xsimd and compiled
// per ISA like the GEMM tile. Rows are cut into blocks of R rows by up to
// MAXV vectors, and the kernel rows into blocks of KB, so that each loaded
// input vector serves every output row (forward) or kernel row (filter
// gradient) of the block it reaches.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <xsimd/xsimd.hpp>

#include "kernels/kernel_table.h"
#include "kernels/simd_fma.h"

namespace cnn::kernels {
namespace {

// The heart of both kernels: input row j of a block (from src, rows xs
// apart) reaches output row j - k through kernel row k. Each row's NV
// vectors are loaded once and handed to f(i, k, xv) for every such pair
// with 0 <= i < R (and i < rows when Partial). Stepping a pointer row by
// row, not j * xs: GCC kept each such offset in a register of its own, and
// spilled them.
template <class V, int NV, int R, int KB, bool Partial = false, class F>
inline void c1_each_reach(const float* src, int64_t xs, int64_t rows, F&& f) {
  constexpr int64_t W = V::size;
#pragma GCC unroll 32
  for (int j = 0; j < R + KB - 1; ++j, src += xs) {
    V xv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) xv[v] = V::load_unaligned(src + v * W);
#pragma GCC unroll 16
    for (int k = 0; k < KB; ++k)
      if (j - k >= 0 && j - k < R && (!Partial || j - k < rows)) f(j - k, k, xv);
  }
}

// A block of R output rows by NV vectors from f0, over the kernel rows in
// blocks of KB (a divisor of a.kh; a.kb == KB). Each expanded input row
// reaches KB of the block's output rows, one per kernel row: per tap column
// its vectors are loaded once and serve all of them, with the KB weight
// vectors of that column held in registers. About 0.4 loads per multiply-add
// (R 8, KB 5), where a tap at a time took 1.5, half of them across cache
// lines. The block's rows past a.rows are computed (the caller pads xe) but
// not stored.
template <class V, int NV, int R, int KB>
__attribute__((always_inline)) inline void c1_forward_block(const ConvC1Rows& a, int64_t r0, int64_t f0) {
  constexpr int64_t W = V::size;
  V acc[R][NV];
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) {
    const V bias = V::load_aligned(a.br + f0 + v * W);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) acc[i][v] = bias;
  }
  for (int64_t k0 = 0; k0 < a.kh; k0 += KB) {
    const float* src = a.xe + (r0 + k0) * a.xs + f0;
    const float* wt = a.wr + k0 * a.kw * a.rl + f0;
    for (int64_t kw = 0; kw < a.kw; ++kw, src += a.o, wt += a.rl) {
      V wv[KB][NV];
      const float* wk = wt;
#pragma GCC unroll 16
      for (int k = 0; k < KB; ++k, wk += a.kw * a.rl)
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) wv[k][v] = V::load_aligned(wk + v * W);
      c1_each_reach<V, NV, R, KB>(src, a.xs, R, [&](int i, int k, const V(&xv)[NV]) {
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) acc[i][v] = fmadd(xv[v], wv[k][v], acc[i][v]);
      });
    }
  }
  if (a.relu) {  // v < 0 ? 0 : v, so NaN stays NaN as in the other ReLUs
    const V zero(0.0f);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[i][v] = xsimd::select(acc[i][v] < zero, zero, acc[i][v]);
  }
  // The row's last vector may run past len: it goes through a buffer so no
  // write leaves the row (the next row may belong to another thread). acc
  // is indexed by unrolled constants only: a run-time index would keep it in
  // memory, and clang then stored every accumulator on every tap (wasm).
  const int64_t whole = std::min<int64_t>(NV, (a.len - f0) / W);
  const int64_t rows = std::min<int64_t>(R, a.rows - r0);
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
    if (i >= rows) break;
    float* out = a.y + (r0 + i) * a.len + f0;
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      if (v < whole) {
        acc[i][v].store_unaligned(out + v * W);
      } else if (v == whole) {
        alignas(64) float tail[W];
        acc[i][v].store_aligned(tail);
        std::copy(tail, tail + (a.len - f0 - whole * W), out + whole * W);
      }
    }
  }
}

// The blocks of R rows from r0 by NV vectors from f0 to f1 (a multiple of
// NV vectors apart), in one call. A call per block (4 rows by 1 vector in
// wasm) cost V8 the call and the reloads of a's fields every 800 flops:
// LeNet's first conv at batch 32, Intel Xeon (Emerald Rapids), in V8:
// forward 398-436 -> 323-357 us, the filter gradient (c1_filter_blocks)
// 406-424 -> 377-402 us; wasm W1 +2% (median of 10 alternated pairs);
// natively level.
template <class V, int NV, int R, int KB>
void c1_forward_blocks(const ConvC1Rows& a, int64_t r0, int64_t f0, int64_t f1) {
  constexpr int64_t step = NV * static_cast<int64_t>(V::size);
  for (int64_t f = f0; f < f1; f += step) c1_forward_block<V, NV, R, KB>(a, r0, f);
}

// One block of R rows of the filter gradient below (Partial: only its first
// n rows; the products past them are skipped, not taken times zero, which
// would turn an Inf in the input there into NaN).
template <class V, int NV, int R, int KB, bool Partial>
inline void c1_filter_rows(const ConvC1Grad& a, const float* src, const float* d, int64_t n,
                           V (&acc)[KB][NV]) {
  constexpr int64_t W = V::size;
  V dv[R][NV];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i, d += a.rl)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) dv[i][v] = !Partial || i < n ? V::load_aligned(d + v * W) : V(0.0f);
  c1_each_reach<V, NV, R, KB, Partial>(src, a.xs, n, [&](int i, int k, const V(&xv)[NV]) {
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[k][v] = fmadd(xv[v], dv[i][v], acc[k][v]);
  });
}

// The filter gradient of KB kernel rows from k0 at tap column kw, NV vectors
// from f0: g[k0 + k][kw] += sum over rows r of xe[r + k0 + k] (shifted kw
// taps) * dy[r]. The KB sums stay in registers over all rows; the rows go R
// at a time, their dy vectors in registers, so each input row's vectors are
// loaded once per block and serve the KB sums it reaches (about 0.5 loads
// per multiply-add).
template <class V, int NV, int R, int KB>
__attribute__((always_inline)) inline void c1_filter_block(const ConvC1Grad& a, int64_t f0, int64_t k0,
                                                           int64_t kw) {
  constexpr int64_t W = V::size;
  float* g = a.g + (k0 * a.kw + kw) * a.rl + f0;
  V acc[KB][NV];
#pragma GCC unroll 16
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[k][v] = V::load_aligned(g + k * a.kw * a.rl + v * W);
  const float* src = a.xe + k0 * a.xs + kw * a.o + f0;
  const float* d = a.dy + f0;
  int64_t r0 = 0;
  for (; r0 + R <= a.rows; r0 += R, src += R * a.xs, d += R * a.rl)
    c1_filter_rows<V, NV, R, KB, false>(a, src, d, R, acc);
  if (r0 < a.rows) c1_filter_rows<V, NV, R, KB, true>(a, src, d, a.rows - r0, acc);
#pragma GCC unroll 16
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[k][v].store_aligned(g + k * a.kw * a.rl + v * W);
}

// The filter gradient's blocks of NV vectors from f0 to f1 (a multiple of NV
// vectors apart), every kernel row and tap column, in one call.
template <class V, int NV, int R, int KB>
void c1_filter_blocks(const ConvC1Grad& a, int64_t f0, int64_t f1) {
  constexpr int64_t step = NV * static_cast<int64_t>(V::size);
  for (int64_t f = f0; f < f1; f += step)
    for (int64_t k0 = 0; k0 < a.kh; k0 += KB)
      for (int64_t kw = 0; kw < a.kw; ++kw) c1_filter_block<V, NV, R, KB>(a, f, k0, kw);
}

// Runs of blocks for KB = 1..MAXKB kernel rows by 1..MAXV vectors, so a
// row's last chunk and a short kernel keep their accumulators in registers
// too.
template <class V, int MAXV, int R, int KB, int... I>
constexpr auto c1_forward_row(std::integer_sequence<int, I...>) {
  return std::array<void (*)(const ConvC1Rows&, int64_t, int64_t, int64_t), MAXV>{
      &c1_forward_blocks<V, I + 1, R, KB>...};
}
template <class V, int MAXV, int R, int... K>
constexpr auto c1_forward_table(std::integer_sequence<int, K...>) {
  return std::array{c1_forward_row<V, MAXV, R, K + 1>(std::make_integer_sequence<int, MAXV>{})...};
}
template <class V, int MAXV, int R, int KB, int... I>
constexpr auto c1_filter_row(std::integer_sequence<int, I...>) {
  return std::array<void (*)(const ConvC1Grad&, int64_t, int64_t), MAXV>{
      &c1_filter_blocks<V, I + 1, R, KB>...};
}
template <class V, int MAXV, int R, int... K>
constexpr auto c1_filter_table(std::integer_sequence<int, K...>) {
  return std::array{c1_filter_row<V, MAXV, R, K + 1>(std::make_integer_sequence<int, MAXV>{})...};
}

// Blocks of R output rows (the table's c1_rows) by MAXV vectors, with the
// kernel rows in blocks of a.kb <= MAXKB (the table's c1_kernel_rows).
template <class Arch, int MAXV, int R, int MAXKB>
void conv_c1_forward_simd(const ConvC1Rows& a) {
  using V = xsimd::batch<float, Arch>;
  constexpr int64_t W = V::size;
  static constexpr auto table = c1_forward_table<V, MAXV, R>(std::make_integer_sequence<int, MAXKB>{});
  const auto& blocks = table[a.kb - 1];
  const int64_t vectors = (a.len + W - 1) / W;
  const int64_t whole = vectors / MAXV * MAXV;  // vectors in blocks of MAXV; a narrower block takes the rest
  for (int64_t r0 = 0; r0 < a.rows; r0 += R) {
    if (whole > 0) blocks[MAXV - 1](a, r0, 0, whole * W);
    if (whole < vectors) blocks[vectors - whole - 1](a, r0, whole * W, vectors * W);
  }
}

template <class Arch, int MAXV, int R, int MAXKB>
void conv_c1_filter_simd(const ConvC1Grad& a) {
  using V = xsimd::batch<float, Arch>;
  constexpr int64_t W = V::size;
  static constexpr auto table = c1_filter_table<V, MAXV, R>(std::make_integer_sequence<int, MAXKB>{});
  const auto& blocks = table[a.kb - 1];
  const int64_t vectors = (a.len + W - 1) / W;
  const int64_t whole = vectors / MAXV * MAXV;
  if (whole > 0) blocks[MAXV - 1](a, 0, whole * W);
  if (whole < vectors) blocks[vectors - whole - 1](a, whole * W, vectors * W);
}

}  // namespace
}  // namespace cnn::kernels
