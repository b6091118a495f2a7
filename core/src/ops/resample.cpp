// Per-image resampling by tap tables (ops::Resampling; checked against the
// input in ops/dispatch.cpp): the forward reads each output pixel's taps,
// the backward adds the gradient back along them.
#include <memory>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "ops/cpu_ops.h"

namespace cnn::ops::cpu {

Tensor resample(const Tensor& x, const Resampling& r) {
  const int64_t n = x.dim(0), in_pixels = x.dim(1) * x.dim(2), c = x.dim(3);
  const int64_t out_pixels = r.out_h * r.out_w, taps = r.taps;
  Tensor y({n, r.out_h, r.out_w, c});
  const float* src = x.data();
  float* dst = y.data();
  parallel_for(n * out_pixels, 256, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float* image = src + p / out_pixels * in_pixels * c;
      float* out = dst + p * c;
      const float f = r.fill.empty() ? 0.0f : r.fill[p];
      for (int64_t k = 0; k < c; ++k) out[k] = f;
      for (int64_t t = p * taps; t < (p + 1) * taps; ++t) {
        if (r.index[t] < 0) continue;
        const float w = r.weight[t];
        const float* in = image + r.index[t] * c;
        for (int64_t k = 0; k < c; ++k) out[k] += w * in[k];
      }
    }
  });
  // The backward needs only where each pixel read (the tables copied only
  // where a gradient will flow: a first layer's input needs none).
  if (!any_requires_grad({x})) return y;
  auto tables = std::make_shared<const Resampling>(r);
  record(y, "resample", {x}, [x, tables, n, in_pixels, out_pixels, c](const Tensor&, const float* dy) {
    float* dx = x.grad_data();
    const Resampling& t = *tables;
    // One image per task: its taps add only into its own pixels.
    parallel_for(n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        float* image = dx + b * in_pixels * c;
        for (int64_t p = b * out_pixels; p < (b + 1) * out_pixels; ++p)
          for (int64_t i = p * t.taps; i < (p + 1) * t.taps; ++i) {
            if (t.index[i] < 0) continue;
            const float w = t.weight[i];
            float* in = image + t.index[i] * c;
            for (int64_t k = 0; k < c; ++k) in[k] += w * dy[p * c + k];
          }
      }
    });
  });
  return y;
}

}  // namespace cnn::ops::cpu
