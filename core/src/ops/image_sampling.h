// Private: where an output pixel of ops::image_transform reads, with
// TensorFlow's ImageProjectiveTransformV3 semantics (its MapCoordinate per
// fill mode, its nearest and bilinear interpolation, in float as it
// computes them). Shared by the CPU and CUDA backends, so both sample alike.
#pragma once

#include <cmath>
#include <cstdint>

#include "cnn/ops.h"

#ifdef __CUDACC__
#define CNN_HOST_DEVICE __host__ __device__
#else
#define CNN_HOST_DEVICE
#endif

namespace cnn::ops::sampling {

// Up to 4 input pixels (row * width + column) and their weights; a tap
// outside the image reads fill_value, which `fill` sums.
struct Taps {
  int32_t index[4];
  float weight[4];
  float fill;
  int count;
};

CNN_HOST_DEVICE inline float clamp_to(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

// An input coordinate outside [0, len - 1] brought back in by the fill
// mode; constant leaves it out, to read fill_value.
CNN_HOST_DEVICE inline float map_coordinate(float in, int64_t len, ImageFill fill) {
  const float last = static_cast<float>(len - 1);
  switch (fill) {
    case ImageFill::Constant:
      return in;
    case ImageFill::Nearest:
      return clamp_to(in, 0.0f, last);
    case ImageFill::Reflect:
      if (len <= 1) return 0.0f;
      if (in < 0) {
        const float sz2 = static_cast<float>(2 * len);
        if (in < sz2) in += sz2 * static_cast<float>(static_cast<int64_t>(-in / sz2));
        in = in < -static_cast<float>(len) ? in + sz2 : -in - 1;
      } else if (in > last) {
        const float sz2 = static_cast<float>(2 * len);
        in -= sz2 * static_cast<float>(static_cast<int64_t>(in / sz2));
        if (in >= static_cast<float>(len)) in = sz2 - in - 1;
      }
      return clamp_to(in, 0.0f, last);
    case ImageFill::Wrap:
      if (len <= 1) return 0.0f;
      if (in < 0) {
        in += static_cast<float>(len) * static_cast<float>(static_cast<int64_t>(-in / last) + 1);
      } else if (in > last) {
        in -= static_cast<float>(len) * static_cast<float>(static_cast<int64_t>(in / last));
      }
      return clamp_to(in, 0.0f, last);
  }
  return in;
}

CNN_HOST_DEVICE inline void add_tap(Taps& t, float row, float col, float weight, int64_t h, int64_t w,
                                    float fill_value) {
  if (row >= 0 && col >= 0 && row < static_cast<float>(h) && col < static_cast<float>(w)) {
    t.index[t.count] = static_cast<int32_t>(static_cast<int64_t>(row) * w + static_cast<int64_t>(col));
    t.weight[t.count] = weight;
    ++t.count;
  } else {
    t.fill += weight * fill_value;
  }
}

// Where output pixel (x, y) reads under map m = {a0, a1, a2, b0, b1, b2},
// before the fill mode.
CNN_HOST_DEVICE inline float source_x(const float* m, int64_t x, int64_t y) {
  return m[0] * static_cast<float>(x) + m[1] * static_cast<float>(y) + m[2];
}
CNN_HOST_DEVICE inline float source_y(const float* m, int64_t x, int64_t y) {
  return m[3] * static_cast<float>(x) + m[4] * static_cast<float>(y) + m[5];
}

// The taps of the input point (sx, sy) (source_x, source_y).
CNN_HOST_DEVICE inline Taps taps_at(float sx, float sy, int64_t h, int64_t w, ImageFill fill,
                                    ImageInterpolation interpolation, float fill_value) {
  const float in_x = map_coordinate(sx, w, fill);
  const float in_y = map_coordinate(sy, h, fill);
  Taps t{{0, 0, 0, 0}, {0, 0, 0, 0}, 0.0f, 0};
  if (interpolation == ImageInterpolation::Nearest) {
    add_tap(t, roundf(in_y), roundf(in_x), 1.0f, h, w, fill_value);
    return t;
  }
  const float y0 = floorf(in_y), x0 = floorf(in_x), y1 = y0 + 1, x1 = x0 + 1;
  add_tap(t, y0, x0, (y1 - in_y) * (x1 - in_x), h, w, fill_value);
  add_tap(t, y0, x1, (y1 - in_y) * (in_x - x0), h, w, fill_value);
  add_tap(t, y1, x0, (in_y - y0) * (x1 - in_x), h, w, fill_value);
  add_tap(t, y1, x1, (in_y - y0) * (in_x - x0), h, w, fill_value);
  return t;
}

// The taps of output pixel (x, y) under map m.
CNN_HOST_DEVICE inline Taps taps(const float* m, int64_t x, int64_t y, int64_t h, int64_t w, ImageFill fill,
                                 ImageInterpolation interpolation, float fill_value) {
  return taps_at(source_x(m, x, y), source_y(m, x, y), h, w, fill, interpolation, fill_value);
}

}  // namespace cnn::ops::sampling
