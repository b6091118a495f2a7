// The GEMM peer: OpenBLAS's cblas_sgemm on the shapes cnnp-bench times
// (row-major C = A @ B, inputs in [-1, 1]), with OpenBLAS's own threads.
// usage: openblas-sgemm --m M --n N --k K [--threads T] [--seconds S]
// Prints {"peer": "openblas", "core", "m", "n", "k", "threads", "gflops"} as one JSON line; core is
// the kernels OpenBLAS chose for this CPU (openblas_get_corename). --seconds 0 times nothing.
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

extern "C" void openblas_set_num_threads(int);

int main(int argc, char** argv) {
  long m = 1024, n = 1024, k = 1024;
  int threads = 1;
  double seconds = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--m"))
      m = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--n"))
      n = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--k"))
      k = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds"))
      seconds = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "openblas-sgemm: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  openblas_set_num_threads(threads);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  // 64-byte aligned, as cnnp-bench's operands (the engine's tensors) are.
  const auto aligned = [](long floats) {
    const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
    return std::unique_ptr<float[], decltype(&std::free)>(static_cast<float*>(std::aligned_alloc(64, bytes)),
                                                          &std::free);
  };
  auto A = aligned(m * k), B = aligned(k * n), C = aligned(m * n);
  if (!A || !B || !C) {
    std::fprintf(stderr, "openblas-sgemm: out of memory\n");
    return 1;
  }
  for (long i = 0; i < m * k; ++i) A[i] = u(rng);
  for (long i = 0; i < k * n; ++i) B[i] = u(rng);
  auto once = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, A.get(), k, B.get(), n, 0.0f,
                C.get(), n);
  };
  once();  // warm-up: OpenBLAS starts its threads and touches the buffers
  using clock = std::chrono::steady_clock;
  long runs = 0;
  const auto t0 = clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    once();
    ++runs;
    elapsed = std::chrono::duration<double>(clock::now() - t0).count();
  }
  std::printf(
      "{\"peer\": \"openblas\", \"core\": \"%s\", \"m\": %ld, \"n\": %ld, \"k\": %ld, \"threads\": %d, "
      "\"gflops\": %.2f}\n",
      openblas_get_corename(), m, n, k, threads, runs ? 2.0 * m * n * k * runs / elapsed / 1e9 : 0.0);
  return 0;
}
