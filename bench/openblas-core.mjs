// OpenBLAS picks its kernels by CPU model, and one it does not know gets its
// SSE3 kernels (Debian's 0.3.21 on Intel's Emerald Rapids, model 207:
// "Prescott", a quarter of its speed on an AVX2 or AVX-512 core). The
// peers (its sgemm, and PyTorch, whose dense layers call it) should then run
// the kernels for the instruction sets the CPU reports; a core OpenBLAS
// knows keeps OpenBLAS's own choice.

// OpenBLAS's x86-64 cores with AVX2 kernels (openblas_get_corename's names).
const AVX2_CORES = ['Haswell', 'Zen', 'SkylakeX', 'Cooperlake', 'SapphireRapids'];

/**
 * The OPENBLAS_CORETYPE the peers should run with, or null to keep OpenBLAS's choice.
 * @param {string} chosen the core OpenBLAS chose
 * @param {string[]} flags the CPU's flags, as /proc/cpuinfo lists them
 */
export function fittedCoreType(chosen, flags) {
  if (!flags.includes('avx2') || AVX2_CORES.includes(chosen)) return null;
  return flags.includes('avx512f') ? 'SkylakeX' : 'Haswell';
}
