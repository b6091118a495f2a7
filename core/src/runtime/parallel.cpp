#include "cnn/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "cnn/error.h"

namespace cnn {

namespace {

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
constexpr bool kHasThreads = false;
#else
constexpr bool kHasThreads = true;
#endif
#ifdef __EMSCRIPTEN__
// The threaded wasm build pre-starts this many workers at most (see
// bindings/wasm.cmake); a thread beyond them could not start synchronously.
constexpr int kWasmPoolLimit = 8;
#endif

int hardware_threads() {
  if (!kHasThreads) return 1;
  int n = static_cast<int>(std::thread::hardware_concurrency());
  n = std::max(n, 1);
#ifdef __EMSCRIPTEN__
  n = std::min(n, kWasmPoolLimit);
#endif
  return n;
}

int default_threads() {
  const int hw = hardware_threads();
  if (const char* env = std::getenv("CNN_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return std::min(n, hw);
  }
  return hw;
}

thread_local bool t_inside_pool = false;  // set while a thread runs a parallel_for chunk

// How long a thread spins for the next job (a worker) or for the last chunk
// (the caller) before it sleeps. A training step posts hundreds of jobs with
// short serial stretches between them; a thread that slept in one of those
// stretches costs a futex wake-up, which in a VM takes tens of microseconds
// and more. Runtimes with OpenMP spin for milliseconds for the same reason.
//
// WebAssembly threads cannot offer their core (sched_yield returns at once
// there), so a spinning thread holds it from the page, the browser and
// other tabs for the whole spin: in wasm the spin is short. LeNet's training
// in the playground page's threaded engine (Chromium, 2 cores), 20 us
// alternated with 1 ms five times: +4% to +16%, median +5% (Node beside an
// idle Chromium: W1 -3% to +12%, median +9%); in one quiet Node process:
// W1 -3%, W2 -1%, ResNet50 batch 8 +1.6%.
#ifdef __EMSCRIPTEN__
constexpr auto kSpinFor = std::chrono::microseconds(20);
#else
constexpr auto kSpinFor = std::chrono::microseconds(1000);
#endif
inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

// Spins until done() or kSpinFor has passed; true if done. Every 64 spins
// (a few microseconds on x86, where a spin is a pause; much less where
// relax() is only a fence) the spinning thread offers its core to any other
// thread that is ready to run there: when the machine is busy (another
// program, other browser tabs), the worker being waited for may be that
// thread, and a spin that kept the core made every job wait for the
// scheduler to come back to it. With one other process busy on this 2-core
// VM, 2 threads: W2 training 2.4x faster, ResNet50 batch 1 1.7x, batch 8 and
// W4 +14-19%; when nothing else runs, the yield returns at once and the
// figures did not move.
template <class F>
bool spin_until(const F& done) {
  const auto until = std::chrono::steady_clock::now() + kSpinFor;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      relax();
    }
    std::this_thread::yield();
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

// A fixed set of worker threads that wait for a job to be posted. One job at
// a time: a second caller finds `busy_` taken and runs its loop itself. The
// hand-offs are atomics; the mutex and condition variables are touched only
// when a thread has spun out and sleeps (counted in sleepers_), so back-to-
// back jobs make no system calls.
class Pool {
 public:
  explicit Pool(int threads) : cursors_(new std::atomic<int64_t>[static_cast<size_t>(threads)]) {
    for (int i = 1; i < threads; ++i) {
      try {
        workers_.emplace_back([this, i] { work(i); });
      } catch (const std::system_error&) {
        break;  // the system (or the wasm worker pool) has no more threads: use what started
      }
    }
  }
  ~Pool() {
    quit_.store(true);
    { std::lock_guard<std::mutex> lock(mu_); }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Returns false (and runs nothing) when another caller holds the pool.
  // With `affine`, thread t (the caller 0, worker i i + 1) starts on share t
  // of [0, n) (see parallel_for_affine).
  bool run(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn, bool affine) {
    bool expected = false;
    if (!busy_.compare_exchange_strong(expected, true, std::memory_order_acquire)) return false;
    fn_ = &fn;
    n_ = n;
    chunk_ = chunk;
    affine_ = affine;
    error_ = nullptr;
    next_.store(0, std::memory_order_relaxed);
    for (int t = 0; t < threads(); ++t)
      cursors_[static_cast<size_t>(t)].store(share_begin(t), std::memory_order_relaxed);
    remaining_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1);  // seq_cst: publishes the job before sleepers_ is read
    if (sleepers_.load() > 0) {
      { std::lock_guard<std::mutex> lock(mu_); }
      wake_.notify_all();
    }
    take_chunks(0);
    const auto finished = [this] { return remaining_.load() == 0; };
    if (!spin_until(finished)) {
      std::unique_lock<std::mutex> lock(mu_);
      caller_sleeps_.store(true);
      done_.wait(lock, finished);
      caller_sleeps_.store(false);
    }
    fn_ = nullptr;
    std::exception_ptr error = error_;
    busy_.store(false, std::memory_order_release);
    if (error) std::rethrow_exception(error);
    return true;
  }

 private:
  int64_t share_begin(int t) const { return t * n_ / threads(); }

  // Runs one chunk; an error stops the others from taking more.
  void run_chunk(int64_t begin, int64_t end) {
    try {
      (*fn_)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
      next_.store(n_, std::memory_order_relaxed);  // the others stop taking chunks
    }
  }

  // Thread `me`'s part of the job: chunks from the shared counter, or (affine)
  // from its own share first, then from each other share in turn.
  void take_chunks(int me) {
    t_inside_pool = true;
    if (!affine_) {
      for (;;) {
        const int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
        if (begin >= n_) break;
        run_chunk(begin, std::min(n_, begin + chunk_));
      }
    } else {
      for (int k = 0; k < threads() && next_.load(std::memory_order_relaxed) < n_; ++k) {
        const int t = (me + k) % threads();
        const int64_t end = share_begin(t + 1);
        for (;;) {
          const int64_t begin = cursors_[static_cast<size_t>(t)].fetch_add(chunk_, std::memory_order_relaxed);
          if (begin >= end || next_.load(std::memory_order_relaxed) >= n_) break;
          run_chunk(begin, std::min(end, begin + chunk_));
        }
      }
    }
    t_inside_pool = false;
  }

  void work(int me) {
    uint64_t seen = 0;
    for (;;) {
      const auto posted = [&] { return quit_.load() || generation_.load() != seen; };
      if (!spin_until(posted)) {
        std::unique_lock<std::mutex> lock(mu_);
        sleepers_.fetch_add(1);  // seq_cst: read by run() after it posts
        wake_.wait(lock, posted);
        sleepers_.fetch_sub(1);
      }
      if (quit_.load()) return;
      seen = generation_.load();
      take_chunks(me);
      if (remaining_.fetch_sub(1) == 1 && caller_sleeps_.load()) {
        { std::lock_guard<std::mutex> lock(mu_); }
        done_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::atomic<bool> busy_{false}, quit_{false}, caller_sleeps_{false};
  std::atomic<uint64_t> generation_{0};  // one per posted job
  std::atomic<int> sleepers_{0};         // workers asleep on wake_
  std::atomic<int> remaining_{0};        // workers yet to finish the current job
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 1;
  bool affine_ = false;
  std::atomic<int64_t> next_{0};  // the next chunk; with affine_, n_ once an error stops the job
  std::unique_ptr<std::atomic<int64_t>[]> cursors_;  // affine_: each share's next chunk
  std::exception_ptr error_;
};

std::mutex g_config_mu;
int g_threads = 0;       // 0: not chosen yet
Pool* g_pool = nullptr;  // leaked at exit on purpose: joining threads from static destructors can hang
int g_pool_size = 0;     // the thread count g_pool was made for

Pool* pool() {
  std::lock_guard<std::mutex> lock(g_config_mu);
  if (g_threads == 0) g_threads = default_threads();
  if (g_threads > 1 && g_pool_size != g_threads) {
    delete g_pool;
    g_pool = new Pool(g_threads);
    g_pool_size = g_threads;
  }
  return g_threads > 1 ? g_pool : nullptr;
}

}  // namespace

int max_threads() { return hardware_threads(); }

int num_threads() {
  std::lock_guard<std::mutex> lock(g_config_mu);
  if (g_threads == 0) g_threads = default_threads();
  return g_threads;
}

int threads_here() { return t_inside_pool ? 1 : num_threads(); }

void set_num_threads(int n) {
  if (n < 1 || n > max_threads())
    throw ValueError(
        str_cat("set_num_threads: expected 1 to ", max_threads(), " threads on this machine, got ", n));
  std::lock_guard<std::mutex> lock(g_config_mu);
  g_threads = n;
}

namespace {

void run_on_pool(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn, bool affine) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n <= grain || t_inside_pool) {
    fn(0, n);
    return;
  }
  Pool* p = pool();
  if (p) {
    // Many chunks per thread, taken as threads come free, even out uneven work
    // (and a thread that starts late); each costs one atomic add.
    const int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, int64_t{16} * p->threads());
    const int64_t chunk = (n + chunks - 1) / chunks;
    if (p->run(n, chunk, fn, affine)) return;
  }
  fn(0, n);
}

}  // namespace

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  run_on_pool(n, grain, fn, false);
}

void parallel_for_affine(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  run_on_pool(n, grain, fn, true);
}

}  // namespace cnn
