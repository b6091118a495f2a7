// Private: the kernels of one instruction set, behind one table. Each ISA's
// table is compiled in its own file with that ISA's flags (x86/avx2.cpp is
// built with -mavx2 -mfma, ...), so the rest of the engine is built for the
// baseline CPU and picks a table at run time.
#pragma once

#include <cstdint>

#include "cnn/kernels/isa.h"

namespace cnn::kernels {

struct KernelTable {
  Isa isa;
  // GEMM register tile: MR rows of packed A by NR columns of packed B.
  int64_t mr, nr;
  // acc(MR, NR) = sum over kc of a(p, 0:MR)^T b(p, 0:NR), from panels packed
  // as (kc, MR) and (kc, NR) slivers (b 64-byte aligned) -- or, with lda > 0,
  // from A unpacked (row r at a + r * lda; rows past m are not read); then
  // C[0:m, 0:n] += alpha * acc (= alpha * acc with overwrite, which ignores
  // what C held), clipped to the real tile (m <= MR, n <= NR).
  void (*gemm_tile)(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                    int64_t ldc, int64_t m, int64_t n, bool overwrite);
  // The same for narrow products (N <= narrow_nr, e.g. LeNet's 6-filter
  // convs): one vector per row, more rows, so few lanes idle.
  int64_t narrow_mr, narrow_nr;
  void (*gemm_tile_narrow)(int64_t kc, const float* a, int64_t lda, const float* b, float alpha, float* c,
                           int64_t ldc, int64_t m, int64_t n, bool overwrite);
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
