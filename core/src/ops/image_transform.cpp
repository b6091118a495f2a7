// Per-image affine transforms (ops::image_transform; checked in
// ops/dispatch.cpp): each output pixel sums its taps; the backward finds the
// same taps again and adds the gradient back along them.
#include <vector>

#include "cnn/autograd.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "ops/cpu_ops.h"
#include "ops/image_sampling.h"

namespace cnn::ops::cpu {

Tensor image_transform(const Tensor& x, const ImageTransform& t) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  Tensor y = Tensor::empty(x.shape());  // every value written below
  const float* src = x.data();
  float* dst = y.data();
  parallel_for(n * h, 4, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / h, row = r % h;
      const float* image = src + b * h * w * c;
      const float* m = t.maps[b].data();
      const bool bilinear = t.interpolation == ImageInterpolation::Bilinear;
      const float last_x = static_cast<float>(w - 1), last_y = static_cast<float>(h - 1);
      for (int64_t col = 0; col < w; ++col) {
        float* out = dst + (r * w + col) * c;
        const float sx = sampling::source_x(m, col, row), sy = sampling::source_y(m, col, row);
        if (bilinear && sx >= 0 && sy >= 0 && sx < last_x && sy < last_y) {
          // All four taps inside, where no fill mode moves the point: the
          // general path's sums, in its order, without its bookkeeping.
          const int64_t x0 = static_cast<int64_t>(sx), y0 = static_cast<int64_t>(sy);
          const float fx0 = static_cast<float>(x0), fy0 = static_cast<float>(y0), fx1 = fx0 + 1,
                      fy1 = fy0 + 1;
          const float w00 = (fy1 - sy) * (fx1 - sx), w01 = (fy1 - sy) * (sx - fx0);
          const float w10 = (sy - fy0) * (fx1 - sx), w11 = (sy - fy0) * (sx - fx0);
          const float* p00 = image + (y0 * w + x0) * c;
          const float *p01 = p00 + c, *p10 = p00 + w * c, *p11 = p10 + c;
          for (int64_t k = 0; k < c; ++k)
            out[k] = 0.0f + w00 * p00[k] + w01 * p01[k] + w10 * p10[k] + w11 * p11[k];
          continue;
        }
        if (!bilinear && sx >= 0 && sy >= 0 && sx <= last_x && sy <= last_y) {
          // Nearest inside the image (a flip's every pixel): one pixel copied.
          const float* p =
              image + (static_cast<int64_t>(roundf(sy)) * w + static_cast<int64_t>(roundf(sx))) * c;
          for (int64_t k = 0; k < c; ++k) out[k] = 0.0f + 1.0f * p[k];
          continue;
        }
        const sampling::Taps tp = sampling::taps_at(sx, sy, h, w, t.fill_mode, t.interpolation, t.fill_value);
        for (int64_t k = 0; k < c; ++k) out[k] = tp.fill;
        for (int i = 0; i < tp.count; ++i) {
          const float* in = image + tp.index[i] * c;
          for (int64_t k = 0; k < c; ++k) out[k] += tp.weight[i] * in[k];
        }
      }
    }
  });
  record(y, "image_transform", {x}, [x, t, n, h, w, c](const Tensor&, const float* dy) {
    float* dx = x.grad_data();
    // One image per task: its taps add only into its own pixels.
    parallel_for(n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        float* image = dx + b * h * w * c;
        for (int64_t row = 0; row < h; ++row)
          for (int64_t col = 0; col < w; ++col) {
            const sampling::Taps tp =
                sampling::taps(t.maps[b].data(), col, row, h, w, t.fill_mode, t.interpolation, t.fill_value);
            const float* g = dy + ((b * h + row) * w + col) * c;
            for (int i = 0; i < tp.count; ++i) {
              float* in = image + tp.index[i] * c;
              for (int64_t k = 0; k < c; ++k) in[k] += tp.weight[i] * g[k];
            }
          }
      }
    });
  });
  return y;
}

}  // namespace cnn::ops::cpu
