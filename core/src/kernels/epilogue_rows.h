// Private: the GEMM epilogue (cnn/kernels/gemm.h) on a block of C, written
// as plain loops and compiled per ISA (each ISA's file includes it), so the
// AVX-512 table runs it 16 lanes wide while the rest of the engine is built
// for the baseline CPU.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cnn/kernels/gemm.h"
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace cnn::kernels {
namespace {

// One row with its terms fixed at compile time, so the loop has no branches
// and vectorises. In wasm the vectors are written out: clang turns the
// ReLU's std::max into f32x4.max, whose NaN and signed-zero rules V8 meets
// with 8 x86 instructions, where f32x4.pmax (v < 0 ? 0 : v, std::max's own
// rule) is one. wasm W4 +1.5% in alternating runs on an Intel Xeon.
template <bool kScale, bool kShift, bool kResidual, bool kRelu>
void epilogue_row(float* __restrict c, const float* __restrict scale, const float* __restrict shift,
                  const float* __restrict res, int64_t n) {
  int64_t j = 0;
#ifdef __wasm_simd128__
  for (; j + 4 <= n; j += 4) {
    v128_t v = wasm_v128_load(c + j);
    if constexpr (kScale) v = wasm_f32x4_mul(v, wasm_v128_load(scale + j));
    if constexpr (kShift) v = wasm_f32x4_add(v, wasm_v128_load(shift + j));
    if constexpr (kResidual) v = wasm_f32x4_add(v, wasm_v128_load(res + j));
    if constexpr (kRelu) v = wasm_f32x4_pmax(v, wasm_f32x4_splat(0.0f));  // pmax(a, b) = a < b ? b : a
    wasm_v128_store(c + j, v);
  }
#endif
  for (; j < n; ++j) {
    float v = c[j];
    if constexpr (kScale) v *= scale[j];
    if constexpr (kShift) v += shift[j];
    if constexpr (kResidual) v += res[j];
    if constexpr (kRelu) v = std::max(v, 0.0f);
    c[j] = v;
  }
}

template <bool kScale, bool kShift, bool kResidual, bool kRelu>
void epilogue_block(const Epilogue& ep, float* C, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                    int64_t j1) {
  const auto at = [](const float* p, int64_t offset) { return p ? p + offset : nullptr; };
  for (int64_t i = i0; i < i1; ++i)
    epilogue_row<kScale, kShift, kResidual, kRelu>(C + i * ldc + j0, at(ep.scale, j0), at(ep.shift, j0),
                                                   at(ep.residual, i * ep.ldr + j0), j1 - j0);
}

// C[i0:i1, j0:j1] = relu?(C * scale + shift + residual), each term where given.
void epilogue_rows(const Epilogue& ep, float* C, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                   int64_t j1) {
  const bool sc = ep.scale, sh = ep.shift, res = ep.residual, relu = ep.relu;
  // Every combination gets its own branch-free loop.
  const int which = (sc ? 8 : 0) | (sh ? 4 : 0) | (res ? 2 : 0) | (relu ? 1 : 0);
  switch (which) {
#define CNN_EPILOGUE_CASE(n) \
  case n:                    \
    return epilogue_block<(n & 8) != 0, (n & 4) != 0, (n & 2) != 0, (n & 1) != 0>(ep, C, ldc, i0, i1, j0, j1);
    CNN_EPILOGUE_CASE(0)
    CNN_EPILOGUE_CASE(1)
    CNN_EPILOGUE_CASE(2)
    CNN_EPILOGUE_CASE(3)
    CNN_EPILOGUE_CASE(4)
    CNN_EPILOGUE_CASE(5)
    CNN_EPILOGUE_CASE(6)
    CNN_EPILOGUE_CASE(7)
    CNN_EPILOGUE_CASE(8)
    CNN_EPILOGUE_CASE(9)
    CNN_EPILOGUE_CASE(10)
    CNN_EPILOGUE_CASE(11)
    CNN_EPILOGUE_CASE(12)
    CNN_EPILOGUE_CASE(13)
    CNN_EPILOGUE_CASE(14)
    CNN_EPILOGUE_CASE(15)
#undef CNN_EPILOGUE_CASE
  }
}

}  // namespace
}  // namespace cnn::kernels
