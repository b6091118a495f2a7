// The engine's threads: one small persistent pool that the kernels (GEMM,
// im2col, pooling, optimizers) split their loops over. Natively it is sized
// to the hardware; in the threaded wasm build to the pre-started worker pool;
// in the single-thread wasm build it is always 1.
#pragma once

#include <cstdint>
#include <functional>

namespace cnn {

// Threads the kernels use, the calling thread included (>= 1). The default is
// the hardware's thread count, or CNN_NUM_THREADS from the environment.
int num_threads();
// Sets it (1 runs everything on the calling thread), between kernel calls:
// not while another thread is inside parallel_for. Throws ValueError for
// n < 1, or above max_threads().
void set_num_threads(int n);
// The most threads this build can use (1 without thread support).
int max_threads();
// The threads a parallel_for called from here would use: 1 inside a
// parallel_for's fn (a nested call runs serially), else num_threads().
// Kernels shape their work by it.
int threads_here();

// Runs fn(begin, end) over disjoint chunks covering [0, n), each at least
// `grain` long (but the last), on the pool and the calling thread, and
// returns when all are done; the first exception thrown by fn is rethrown.
// A call from inside fn, or while another thread's call holds the pool, runs
// serially on its own thread: callers with threads of their own never
// oversubscribe the machine.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

// parallel_for in which each thread, the calling thread first, starts on its
// own contiguous share of [0, n) and then takes chunks of the others': a
// loop that runs over the same data call after call (the rows of one
// layer's output, then of the next layer's input) finds each share in the
// cache of the core that had it before, while a thread that comes late still
// has its share taken by the others.
void parallel_for_affine(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

// parallel_for for an element-wise pass over n values, in chunks of 32K
// values: memory-bound passes smaller than that stay on the calling thread.
inline void parallel_elementwise(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn) {
  parallel_for(n, int64_t{1} << 15, fn);
}

}  // namespace cnn
