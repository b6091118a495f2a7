// Private: x * y + z as one fused multiply-add on every ISA that has one.
#pragma once

#include <type_traits>
#include <xsimd/xsimd.hpp>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace cnn::kernels {
// Internal linkage, as in gemm_tile.h: each ISA's file keeps its own copy.
namespace {

// xsimd 8.1 gives avx512f no fma of its own: its generic x * y + z leaves the
// fusing to the compiler, which fuses or not depending on the code around it.
// GCC left the tail tile's C update unfused while the partial tile's was
// fused, so a column's rounding depended on the thread count (seen on the
// first AVX-512 machine). Elsewhere xsimd::fma is already one instruction
// (FMA3) or two by design (SSE4.1, wasm SIMD128: no FMA; relaxed SIMD below).
template <class V>
inline V fmadd(const V& x, const V& y, const V& z) {
#ifdef __AVX512F__
  if constexpr (std::is_base_of_v<xsimd::avx512f, typename V::arch_type>)
    return V(_mm512_fmadd_ps(x, y, z));
  else
#endif
#ifdef __wasm_relaxed_simd__
    // The relaxed-SIMD wasm build: f32x4.relaxed_madd, one instruction where
    // the engine has FMA. LLVM 14 emits the proposal's prototype opcode, which
    // bindings/patch_relaxed_simd.mjs rewrites after the link; the operands
    // stay in this order, x * y + z.
    if constexpr (std::is_base_of_v<xsimd::sse4_1, typename V::arch_type>)
      return V(__builtin_wasm_fma_f32x4(x, y, z));
    else
#endif
      return xsimd::fma(x, y, z);
}

}  // namespace
}  // namespace cnn::kernels
