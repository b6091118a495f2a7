// The instruction set the SIMD kernels use: chosen once at start-up (the best
// this CPU runs, or CNN_ISA=scalar|sse4.1|avx2|avx512 from the environment),
// and the one place that knows which kernels exist. The WebAssembly builds
// have scalar and sse4.1 (lowered to wasm SIMD128, or to relaxed SIMD in the
// -relaxed modules).
#pragma once

#include <cstdint>
#include <vector>

namespace cnn::kernels {

enum class Isa { Scalar, SSE41, AVX2, AVX512 };

const char* isa_name(Isa isa);  // "scalar", "sse4.1", "avx2", "avx512"
// Every ISA this build has kernels for and this CPU runs, best last.
std::vector<Isa> supported_isas();
Isa active_isa();
// What the sse4.1 kernels were compiled to: "sse4.1" natively; in wasm
// "wasm-simd128", or "wasm-relaxed-simd" where their multiply-adds are relaxed
// SIMD's f32x4.relaxed_madd.
const char* sse41_target();
// Switches the kernels (tests compare each against the scalar reference;
// benchmarks compare them). Throws ValueError when the ISA is not supported.
void set_isa(Isa isa);

// Runs the active ISA's register-only multiply-add loop (the core's peak, for
// benchmarks to compare a kernel against); returns the flops it did.
double run_peak_flops_loop(int64_t iterations);

}  // namespace cnn::kernels
