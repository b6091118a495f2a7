// Per-image contrast and brightness (ops::image_levels; checked in
// ops/dispatch.cpp). y = clip((x - m) * f + m + d); its gradient passes
// where the clip did not bite (TensorFlow's clip_by_value: the bounds
// included), each value's own share f and the channel mean's (1 - f) / P.
#include <algorithm>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "ops/cpu_ops.h"

namespace cnn::ops::cpu {

namespace {

// The per-(image, channel) means of x (N, P pixels, C), as doubles summed,
// an image per task.
std::vector<float> channel_means(const float* x, int64_t n, int64_t pixels, int64_t c) {
  std::vector<float> means(static_cast<size_t>(n * c));
  parallel_for(n, 1, [&](int64_t b0, int64_t b1) {
    std::vector<double> sum(static_cast<size_t>(c));
    for (int64_t b = b0; b < b1; ++b) {
      std::fill(sum.begin(), sum.end(), 0.0);
      const float* image = x + b * pixels * c;
      for (int64_t p = 0; p < pixels; ++p)
        for (int64_t k = 0; k < c; ++k) sum[k] += image[p * c + k];
      for (int64_t k = 0; k < c; ++k)
        means[b * c + k] = static_cast<float>(sum[k] / static_cast<double>(pixels));
    }
  });
  return means;
}

}  // namespace

Tensor image_levels(const Tensor& x, const ImageLevels& l) {
  const int64_t n = x.dim(0), pixels = x.dim(1) * x.dim(2), c = x.dim(3);
  const std::vector<float> means =
      l.contrast.empty() ? std::vector<float>{} : channel_means(x.data(), n, pixels, c);
  Tensor y = Tensor::empty(x.shape());  // every value written below
  const float* src = x.data();
  float* dst = y.data();
  parallel_for(n * pixels, 1024, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t b = p / pixels;
      for (int64_t k = 0; k < c; ++k) {
        float v = src[p * c + k];
        if (!l.contrast.empty()) v = (v - means[b * c + k]) * l.contrast[b] + means[b * c + k];
        if (!l.delta.empty()) v += l.delta[b];
        dst[p * c + k] = std::clamp(v, l.low, l.high);
      }
    }
  });
  record(y, "image_levels", {x}, [x, l, means, n, pixels, c](const Tensor&, const float* dy) {
    float* dx = x.grad_data();
    const float* src = x.data();
    // Where the clip bit, nothing flows back; elsewhere the gradient of
    // (x - m) * f + m is f for the value itself and (1 - f) / P for each
    // value through the mean.
    for (int64_t b = 0; b < n; ++b) {
      const float f = l.contrast.empty() ? 1.0f : l.contrast[b];
      std::vector<double> passed(static_cast<size_t>(c), 0.0);
      std::vector<float> g(static_cast<size_t>(pixels * c));
      for (int64_t p = 0; p < pixels; ++p)
        for (int64_t k = 0; k < c; ++k) {
          const int64_t i = (b * pixels + p) * c + k;
          float v = src[i];
          if (!l.contrast.empty()) v = (v - means[b * c + k]) * f + means[b * c + k];
          if (!l.delta.empty()) v += l.delta[b];
          const float gi = v < l.low || v > l.high ? 0.0f : dy[i];
          g[p * c + k] = gi;
          passed[k] += gi;
        }
      for (int64_t p = 0; p < pixels; ++p)
        for (int64_t k = 0; k < c; ++k) {
          const float through_mean =
              l.contrast.empty() ? 0.0f
                                 : static_cast<float>((1.0 - f) * passed[k] / static_cast<double>(pixels));
          dx[(b * pixels + p) * c + k] += f * g[p * c + k] + through_mean;
        }
    }
  });
  return y;
}

}  // namespace cnn::ops::cpu
