// The CUDA backend's per-image contrast and brightness (ops::image_levels),
// as the CPU computes them: channel means by column sums, one thread a
// value, the gradient's share through the mean by column sums again.
#include <vector>

#include "cnn/autograd.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_runtime.h"

namespace cnn::ops::cuda_impl {

namespace {

struct Levels {
  const float* contrast;  // per image, or null
  const float* delta;     // per image, or null
  float low, high;
  int64_t pixels, c;
};

__device__ inline float level(float x, const float* sums, const Levels& l, int64_t i) {
  const int64_t k = i % l.c, b = i / (l.pixels * l.c);
  float v = x;
  if (l.contrast) {
    const float m = sums[b * l.c + k] / static_cast<float>(l.pixels);
    v = (v - m) * l.contrast[b] + m;
  }
  if (l.delta) v += l.delta[b];
  return v;
}

__global__ void levels_kernel(const float* x, const float* sums, float* y, Levels l, int64_t n) {
  CNN_GRID_LOOP(i, n) {
    const float v = level(x[i], sums, l, i);
    y[i] = v != v ? v : fminf(fmaxf(v, l.low), l.high);  // NaN kept, as std::clamp on the CPU keeps it
  }
}

// g = dy where the clip did not bite, else 0.
__global__ void passed_kernel(const float* x, const float* sums, const float* dy, float* g, Levels l,
                              int64_t n) {
  CNN_GRID_LOOP(i, n) {
    const float v = level(x[i], sums, l, i);
    g[i] = v < l.low || v > l.high ? 0.0f : dy[i];
  }
}

__global__ void levels_backward_kernel(const float* g, const float* passed, float* dx, Levels l, int64_t n) {
  CNN_GRID_LOOP(i, n) {
    const int64_t k = i % l.c, b = i / (l.pixels * l.c);
    const float f = l.contrast ? l.contrast[b] : 1.0f;
    const float through_mean =
        l.contrast ? (1.0f - f) * passed[b * l.c + k] / static_cast<float>(l.pixels) : 0.0f;
    dx[i] += f * g[i] + through_mean;
  }
}

// Per-(image, channel) sums of v (N, P, C) into a fresh (N * C) tensor.
Tensor channel_sums(const float* v, int64_t n, int64_t pixels, int64_t c) {
  Tensor sums = Tensor::empty({n * c}, Device::CUDA);
  cuda::fill(ptr(sums), static_cast<size_t>(n * c), 0.0f);
  for (int64_t b = 0; b < n; ++b) cuda::add_column_sums(ptr(sums) + b * c, v + b * pixels * c, pixels, c);
  return sums;
}

Tensor on_device(const std::vector<float>& v) {
  return v.empty() ? Tensor() : Tensor({static_cast<int64_t>(v.size())}, v).to(Device::CUDA);
}

}  // namespace

Tensor image_levels(const Tensor& x, const ImageLevels& levels) {
  const int64_t batch = x.dim(0), pixels = x.dim(1) * x.dim(2), c = x.dim(3);
  const Tensor contrast = on_device(levels.contrast), delta = on_device(levels.delta);
  const Tensor sums = levels.contrast.empty() ? Tensor() : channel_sums(ptr(x), batch, pixels, c);
  const Levels l{ptr(contrast), ptr(delta), levels.low, levels.high, pixels, c};
  Tensor y = Tensor::empty(x.shape(), Device::CUDA);
  const int64_t n = y.numel();
  if (n) {
    levels_kernel<<<blocks_for(n), kThreads>>>(ptr(x), ptr(sums), ptr(y), l, n);
    check_launch("image_levels");
  }
  record(y, "image_levels", {x},
         [x, contrast, delta, sums, l, batch, pixels, c](const Tensor& out, const float* dy) {
           const int64_t n = out.numel();
           if (!n) return;
           Tensor g = cuda::scratch(n);
           passed_kernel<<<blocks_for(n), kThreads>>>(ptr(x), ptr(sums), dy, ptr(g), l, n);
           check_launch("image_levels backward");
           const Tensor passed = l.contrast ? channel_sums(ptr(g), batch, pixels, c) : Tensor();
           levels_backward_kernel<<<blocks_for(n), kThreads>>>(ptr(g), ptr(passed), x.device_grad(), l, n);
           check_launch("image_levels backward");
         });
  return y;
}

}  // namespace cnn::ops::cuda_impl
