// Private: the single-channel direct conv's row kernels (ConvC1Rows and
// ConvC1Grad in kernels/kernel_table.h), written once over xsimd and compiled
// per ISA like the GEMM tile. A row is cut into chunks of up to MAXV vectors
// whose accumulators stay in registers across every tap; each tap is then
// one load of the expanded input per vector, plus one load of the tiled
// weights (forward) or of dy (filter gradient) per vector for R output rows
// or KB taps (the ISA's table picks R and KB).
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

// R output rows at once: each weight vector loaded serves all R rows.
template <class V, int NV, int R>
void c1_forward_chunk(const ConvC1Rows& a, const float* xrow, float* yrow, int64_t f0) {
  constexpr int64_t W = V::size;
  V acc[R][NV];
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) {
    const V bias = V::load_aligned(a.br + f0 + v * W);
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) acc[i][v] = bias;
  }
  for (int64_t kh = 0; kh < a.kh; ++kh) {
    const float* src = xrow + kh * a.xs + f0;
    const float* wt = a.wr + kh * a.kw * a.rl + f0;
    for (int64_t kw = 0; kw < a.kw; ++kw, src += a.o, wt += a.rl) {
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) {
        const V wv = V::load_aligned(wt + v * W);
#pragma GCC unroll 4
        for (int i = 0; i < R; ++i)
          acc[i][v] = fmadd(V::load_unaligned(src + i * a.xs + v * W), wv, acc[i][v]);
      }
    }
  }
  if (a.relu) {  // v < 0 ? 0 : v, so NaN stays NaN as in the other ReLUs
    const V zero(0.0f);
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[i][v] = xsimd::select(acc[i][v] < zero, zero, acc[i][v]);
  }
  // The row's last vector may run past len: it goes through a buffer so no
  // write leaves the row (the next row may belong to another thread). acc
  // is indexed by unrolled constants only: a run-time index would keep it in
  // memory, and clang then stored every accumulator on every tap (wasm).
  const int64_t whole = std::min<int64_t>(NV, (a.len - f0) / W);
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) {
    float* out = yrow + i * a.len + f0;
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

// KB taps of one kernel row at once: each dy vector loaded serves all KB.
template <class V, int NV, int KB>
void c1_filter_taps(const ConvC1Grad& a, int64_t f0, int64_t kh, int64_t kw) {
  constexpr int64_t W = V::size;
  float* g = a.g + (kh * a.kw + kw) * a.rl + f0;
  V acc[KB][NV];
#pragma GCC unroll 4
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[k][v] = V::load_aligned(g + k * a.rl + v * W);
  const float* src = a.xe + kh * a.xs + kw * a.o + f0;
  const float* d = a.dy + f0;
  for (int64_t r = 0; r < a.rows; ++r, src += a.xs, d += a.rl) {
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      const V dv = V::load_aligned(d + v * W);
#pragma GCC unroll 4
      for (int k = 0; k < KB; ++k) acc[k][v] = fmadd(V::load_unaligned(src + k * a.o + v * W), dv, acc[k][v]);
    }
  }
#pragma GCC unroll 4
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[k][v].store_aligned(g + k * a.rl + v * W);
}

// A kernel row's taps KB at a time, then in a pair, then one by one.
template <class V, int NV, int KB>
void c1_filter_chunk(const ConvC1Grad& a, int64_t f0) {
  for (int64_t kh = 0; kh < a.kh; ++kh) {
    int64_t kw = 0;
    for (; kw + KB <= a.kw; kw += KB) c1_filter_taps<V, NV, KB>(a, f0, kh, kw);
    if constexpr (KB > 2)
      for (; kw + 2 <= a.kw; kw += 2) c1_filter_taps<V, NV, 2>(a, f0, kh, kw);
    for (; kw < a.kw; ++kw) c1_filter_taps<V, NV, 1>(a, f0, kh, kw);
  }
}

// Chunk kernels for 1..MAXV vectors, so a row's last chunk keeps its
// accumulators in registers too.
template <class V, int MAXV, int R, int... I>
constexpr auto c1_forward_table(std::integer_sequence<int, I...>) {
  return std::array<void (*)(const ConvC1Rows&, const float*, float*, int64_t), MAXV>{
      &c1_forward_chunk<V, I + 1, R>...};
}
template <class V, int MAXV, int KB, int... I>
constexpr auto c1_filter_table(std::integer_sequence<int, I...>) {
  return std::array<void (*)(const ConvC1Grad&, int64_t), MAXV>{&c1_filter_chunk<V, I + 1, KB>...};
}

// R rows at a time (MAXV vectors per row and chunk), then the rest one by
// one. More rows share each weight load: SIMD128 takes 4 rows of 2 vectors
// (1.25 loads per multiply-add instead of 1.5 with 2 rows of 4: in V8 the
// loads, many crossing cache lines, bound this loop), x86 2 rows of up to 12.
template <class Arch, int MAXV, int R>
void conv_c1_forward_simd(const ConvC1Rows& a) {
  using V = xsimd::batch<float, Arch>;
  constexpr int64_t W = V::size;
  static constexpr auto group = c1_forward_table<V, MAXV, R>(std::make_integer_sequence<int, MAXV>{});
  static constexpr auto single = c1_forward_table<V, MAXV, 1>(std::make_integer_sequence<int, MAXV>{});
  const int64_t vectors = (a.len + W - 1) / W;
  for (int64_t r = 0; r < a.rows;) {
    const bool whole = r + R <= a.rows;
    const auto& chunk = whole ? group : single;
    for (int64_t v0 = 0; v0 < vectors; v0 += MAXV)
      chunk[std::min<int64_t>(MAXV, vectors - v0) - 1](a, a.xe + r * a.xs, a.y + r * a.len, v0 * W);
    r += whole ? R : 1;
  }
}

// KB taps share each dy load (SIMD128: 4 taps of 2 vectors; x86: 2 of up
// to 12), as R rows share each weight load in the forward rows.
template <class Arch, int MAXV, int KB>
void conv_c1_filter_simd(const ConvC1Grad& a) {
  using V = xsimd::batch<float, Arch>;
  constexpr int64_t W = V::size;
  static constexpr auto chunk = c1_filter_table<V, MAXV, KB>(std::make_integer_sequence<int, MAXV>{});
  const int64_t vectors = (a.len + W - 1) / W;
  for (int64_t v0 = 0; v0 < vectors; v0 += MAXV) chunk[std::min<int64_t>(MAXV, vectors - v0) - 1](a, v0 * W);
}

}  // namespace
}  // namespace cnn::kernels
