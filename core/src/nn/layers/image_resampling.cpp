#include "nn/layers/image_resampling.h"

#include <algorithm>
#include <cmath>

namespace cnn::nn {

namespace {

// TensorFlow's MapCoordinate: an input coordinate outside [0, len - 1]
// brought back in by the fill mode (constant leaves it out, to read
// fill_value), in float as TensorFlow computes it.
float map_coordinate(float in, int64_t len, ImageFill fill) {
  const float last = static_cast<float>(len - 1);
  switch (fill) {
    case ImageFill::Constant:
      return in;
    case ImageFill::Nearest:
      return std::clamp(in, 0.0f, last);
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
      return std::clamp(in, 0.0f, last);
    case ImageFill::Wrap:
      if (len <= 1) return 0.0f;
      if (in < 0) {
        in += static_cast<float>(len) * static_cast<float>(static_cast<int64_t>(-in / last) + 1);
      } else if (in > last) {
        in -= static_cast<float>(len) * static_cast<float>(static_cast<int64_t>(in / last));
      }
      return std::clamp(in, 0.0f, last);
  }
  return in;
}

// One output pixel's taps: up to 4, each an input pixel and its weight; a
// tap outside the image reads fill_value (its weight goes to the fill).
struct Taps {
  int32_t index[4];
  float weight[4];
  float fill;
};

Taps sample(float x, float y, int64_t h, int64_t w, const ImageTransformOptions& o) {
  Taps t{{-1, -1, -1, -1}, {0, 0, 0, 0}, 0.0f};
  int k = 0;
  auto tap = [&](float row, float col, float weight) {
    const bool inside = row >= 0 && col >= 0 && row < static_cast<float>(h) && col < static_cast<float>(w);
    if (inside) {
      t.index[k] = static_cast<int32_t>(static_cast<int64_t>(row) * w + static_cast<int64_t>(col));
      t.weight[k] = weight;
    } else {
      t.fill += weight * o.fill_value;
    }
    ++k;
  };
  if (o.interpolation == ImageInterpolation::Nearest) {
    tap(std::round(y), std::round(x), 1.0f);
    return t;
  }
  const float y0 = std::floor(y), x0 = std::floor(x), y1 = y0 + 1, x1 = x0 + 1;
  tap(y0, x0, (y1 - y) * (x1 - x));
  tap(y0, x1, (y1 - y) * (x - x0));
  tap(y1, x0, (y - y0) * (x1 - x));
  tap(y1, x1, (y - y0) * (x - x0));
  return t;
}

}  // namespace

ops::Resampling affine_resampling(int64_t h, int64_t w, const std::vector<AffineMap>& maps,
                                  const ImageTransformOptions& o) {
  ops::Resampling r;
  r.out_h = h;
  r.out_w = w;
  r.taps = o.interpolation == ImageInterpolation::Nearest ? 1 : 4;
  const size_t pixels = maps.size() * static_cast<size_t>(h * w);
  r.index.reserve(pixels * static_cast<size_t>(r.taps));
  r.weight.reserve(pixels * static_cast<size_t>(r.taps));
  std::vector<float> fill;
  fill.reserve(pixels);
  bool any_fill = false;
  for (const AffineMap& m : maps)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const float fx = static_cast<float>(x), fy = static_cast<float>(y);
        const float in_x = map_coordinate(m.a0 * fx + m.a1 * fy + m.a2, w, o.fill_mode);
        const float in_y = map_coordinate(m.b0 * fx + m.b1 * fy + m.b2, h, o.fill_mode);
        const Taps t = sample(in_x, in_y, h, w, o);
        r.index.insert(r.index.end(), t.index, t.index + r.taps);
        r.weight.insert(r.weight.end(), t.weight, t.weight + r.taps);
        fill.push_back(t.fill);
        any_fill = any_fill || t.fill != 0.0f;
      }
  if (any_fill) r.fill = std::move(fill);
  return r;
}

AffineMap rotation_map(float angle, int64_t h, int64_t w) {
  const float c = std::cos(angle), s = std::sin(angle);
  const float wd = static_cast<float>(w - 1), hd = static_cast<float>(h - 1);
  const float x_offset = (wd - (c * wd - s * hd)) / 2.0f;
  const float y_offset = (hd - (s * wd + c * hd)) / 2.0f;
  return {c, -s, x_offset, s, c, y_offset};
}

AffineMap zoom_map(float zoom_x, float zoom_y, int64_t h, int64_t w) {
  const float x_offset = (static_cast<float>(w) - 1.0f) / 2.0f * (1.0f - zoom_x);
  const float y_offset = (static_cast<float>(h) - 1.0f) / 2.0f * (1.0f - zoom_y);
  return {zoom_x, 0.0f, x_offset, 0.0f, zoom_y, y_offset};
}

AffineMap translation_map(float dx, float dy) { return {1.0f, 0.0f, -dx, 0.0f, 1.0f, -dy}; }

ops::Resampling flip_resampling(int64_t h, int64_t w, const std::vector<bool>& left_right,
                                const std::vector<bool>& up_down) {
  ops::Resampling r;
  r.out_h = h;
  r.out_w = w;
  r.taps = 1;
  r.index.reserve(left_right.size() * static_cast<size_t>(h * w));
  for (size_t n = 0; n < left_right.size(); ++n)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t row = up_down[n] ? h - 1 - y : y, col = left_right[n] ? w - 1 - x : x;
        r.index.push_back(static_cast<int32_t>(row * w + col));
      }
  r.weight.assign(r.index.size(), 1.0f);
  return r;
}

}  // namespace cnn::nn
