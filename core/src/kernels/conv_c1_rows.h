// Private: the single-channel direct conv's row kernels (ConvC1Rows and
// ConvC1Grad in kernels/kernel_table.h), written once over xsimd and compiled
// per ISA like the GEMM tile. A row is cut into chunks of up to MAXV vectors
// whose accumulators stay in registers across every tap; each tap is then
// one load of the expanded input and one of the tiled weights per vector.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <xsimd/xsimd.hpp>

#include "kernels/kernel_table.h"

namespace cnn::kernels {
namespace {

template <class V, int NV>
void c1_forward_chunk(const ConvC1Rows& a, const float* xrow, float* yrow, int64_t f0) {
  constexpr int64_t W = V::size;
  V acc[NV];
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) acc[v] = V::load_aligned(a.br + f0 + v * W);
  for (int64_t kh = 0; kh < a.kh; ++kh) {
    const float* src = xrow + kh * a.xs + f0;
    const float* wt = a.wr + kh * a.kw * a.rl + f0;
    for (int64_t kw = 0; kw < a.kw; ++kw, src += a.o, wt += a.rl) {
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v)
        acc[v] = xsimd::fma(V::load_unaligned(src + v * W), V::load_aligned(wt + v * W), acc[v]);
    }
  }
  if (a.relu) {  // v < 0 ? 0 : v, so NaN stays NaN as in the other ReLUs
    const V zero(0.0f);
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[v] = xsimd::select(acc[v] < zero, zero, acc[v]);
  }
  // The row's last vector may run past len: it goes through a buffer so no
  // write leaves the row (the next row may belong to another thread).
  const int64_t whole = std::min<int64_t>(NV, (a.len - f0) / W);
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v)
    if (v < whole) acc[v].store_unaligned(yrow + f0 + v * W);
  if (whole < NV) {
    alignas(64) float tail[W];
    acc[whole].store_aligned(tail);
    std::copy(tail, tail + (a.len - f0 - whole * W), yrow + f0 + whole * W);
  }
}

template <class V, int NV>
void c1_filter_chunk(const ConvC1Grad& a, int64_t f0) {
  constexpr int64_t W = V::size;
  for (int64_t kh = 0; kh < a.kh; ++kh)
    for (int64_t kw = 0; kw < a.kw; ++kw) {
      float* g = a.g + (kh * a.kw + kw) * a.rl + f0;
      V acc[NV];
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[v] = V::load_aligned(g + v * W);
      const float* src = a.xe + kh * a.xs + kw * a.o + f0;
      const float* d = a.dy + f0;
      for (int64_t r = 0; r < a.rows; ++r, src += a.xs, d += a.rl) {
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v)
          acc[v] = xsimd::fma(V::load_unaligned(src + v * W), V::load_aligned(d + v * W), acc[v]);
      }
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[v].store_aligned(g + v * W);
    }
}

// Chunk kernels for 1..MAXV vectors, so a row's last chunk keeps its
// accumulators in registers too.
template <class V, int MAXV, int... I>
constexpr auto c1_forward_table(std::integer_sequence<int, I...>) {
  return std::array<void (*)(const ConvC1Rows&, const float*, float*, int64_t), MAXV>{
      &c1_forward_chunk<V, I + 1>...};
}
template <class V, int MAXV, int... I>
constexpr auto c1_filter_table(std::integer_sequence<int, I...>) {
  return std::array<void (*)(const ConvC1Grad&, int64_t), MAXV>{&c1_filter_chunk<V, I + 1>...};
}

template <class Arch, int MAXV>
void conv_c1_forward_simd(const ConvC1Rows& a) {
  using V = xsimd::batch<float, Arch>;
  constexpr int64_t W = V::size;
  static constexpr auto chunk = c1_forward_table<V, MAXV>(std::make_integer_sequence<int, MAXV>{});
  const int64_t vectors = (a.len + W - 1) / W;
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t v0 = 0; v0 < vectors; v0 += MAXV)
      chunk[std::min<int64_t>(MAXV, vectors - v0) - 1](a, a.xe + r * a.xs, a.y + r * a.len, v0 * W);
}

template <class Arch, int MAXV>
void conv_c1_filter_simd(const ConvC1Grad& a) {
  using V = xsimd::batch<float, Arch>;
  constexpr int64_t W = V::size;
  static constexpr auto chunk = c1_filter_table<V, MAXV>(std::make_integer_sequence<int, MAXV>{});
  const int64_t vectors = (a.len + W - 1) / W;
  for (int64_t v0 = 0; v0 < vectors; v0 += MAXV) chunk[std::min<int64_t>(MAXV, vectors - v0) - 1](a, v0 * W);
}

}  // namespace
}  // namespace cnn::kernels
