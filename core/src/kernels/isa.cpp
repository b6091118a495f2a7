// Picks the kernel table once: the best ISA this CPU runs (CNN_ISA may ask
// for another), and lets tests and benchmarks switch.
#include "cnn/kernels/isa.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "cnn/error.h"
#include "kernels/kernel_table.h"

namespace cnn::kernels {

namespace {

const KernelTable* table_for(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return &kScalarKernels;
#if CNN_HAVE_SSE41_KERNELS
    case Isa::SSE41:
      return &kSse41Kernels;
#endif
#if CNN_HAVE_X86_KERNELS
    case Isa::AVX2:
      return &kAvx2Kernels;
    case Isa::AVX512:
      return &kAvx512Kernels;
#endif
    default:
      return nullptr;
  }
}

bool cpu_runs(Isa isa) {
#if CNN_HAVE_X86_KERNELS
  switch (isa) {
    case Isa::Scalar:
      return true;
    case Isa::SSE41:
      return __builtin_cpu_supports("sse4.1");
    case Isa::AVX2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::AVX512:
      return __builtin_cpu_supports("avx512f");
  }
  return false;
#elif defined(__EMSCRIPTEN__)
  return isa == Isa::Scalar || isa == Isa::SSE41;  // the build requires SIMD128
#else
  return isa == Isa::Scalar;
#endif
}

const KernelTable* choose() {
  const std::vector<Isa> isas = supported_isas();
  if (const char* env = std::getenv("CNN_ISA"))
    for (Isa isa : isas)
      if (env == std::string(isa_name(isa))) return table_for(isa);
  return table_for(isas.back());
}

std::atomic<const KernelTable*> g_active{nullptr};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::SSE41:
      return "sse4.1";
    case Isa::AVX2:
      return "avx2";
    case Isa::AVX512:
      return "avx512";
  }
  return "unknown";
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Scalar, Isa::SSE41, Isa::AVX2, Isa::AVX512})
    if (table_for(isa) && cpu_runs(isa)) out.push_back(isa);
  return out;
}

const KernelTable& active_kernels() {
  const KernelTable* t = g_active.load(std::memory_order_acquire);
  if (!t) {
    t = choose();
    g_active.store(t, std::memory_order_release);
  }
  return *t;
}

Isa active_isa() { return active_kernels().isa; }

void set_isa(Isa isa) {
  for (Isa s : supported_isas())
    if (s == isa) {
      g_active.store(table_for(isa), std::memory_order_release);
      return;
    }
  throw ValueError(std::string("set_isa: this build or CPU has no ") + isa_name(isa) + " kernels");
}

double run_peak_flops_loop(int64_t iterations) {
  [[maybe_unused]] static volatile float sink;
  float out = 0;
  const double flops = active_kernels().peak_flops(iterations, &out);
  sink = out;
  return flops;
}

}  // namespace cnn::kernels
