// Seeded random numbers that are identical on every platform: std::mt19937
// is fully specified, but the std:: distributions and std::shuffle are not,
// so native and wasm builds would draw different weights with them.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace cnn {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : gen_(static_cast<std::mt19937::result_type>(seed ^ (seed >> 32))) {}

  uint32_t next_u32() { return static_cast<uint32_t>(gen_()); }
  // Uniform in [0, 1) with 24 random bits.
  float uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n).
  uint32_t below(uint32_t n) {
    uint64_t m = static_cast<uint64_t>(next_u32()) * n;  // Lemire's multiply-shift
    return static_cast<uint32_t>(m >> 32);
  }
  // Standard normal by Box-Muller.
  float normal() {
    double u1 = (static_cast<double>(next_u32()) + 1.0) / 4294967297.0;
    double u2 = static_cast<double>(next_u32()) / 4294967296.0;
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(static_cast<uint32_t>(i))]);
  }

 private:
  std::mt19937 gen_;
};

}  // namespace cnn
