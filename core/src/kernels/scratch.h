// Private: a grow-only, 64-byte-aligned float buffer. Kernels keep one per
// thread (thread_local) for packed panels and im2col columns, so a training
// step does not pay for large allocations (and their page faults) each call.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>

namespace cnn::kernels {

class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(p_); }
  // At least n floats; the contents are not kept when it grows.
  float* get(int64_t n) {
    if (n > cap_) {
      std::free(p_);
      p_ = nullptr;
      cap_ = 0;
      const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
      p_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p_) throw std::bad_alloc();
      cap_ = n;
    }
    return p_;
  }

 private:
  float* p_ = nullptr;
  int64_t cap_ = 0;
};

}  // namespace cnn::kernels
