// Resizing exactly as PIL's Image.resize does it (what Keras's load_img
// calls), so images decoded here match Keras's pixel for pixel.
#include <cmath>
#include <vector>

#include "cnn/data/image.h"
#include "cnn/error.h"

namespace cnn::data {

namespace {

// PIL's ImagingScaleAffine: source coordinates accumulated step by step from
// the first pixel centre, floored.
std::vector<int64_t> nearest_map(int64_t in, int64_t out) {
  std::vector<int64_t> map(static_cast<size_t>(out));
  const double step = static_cast<double>(in) / static_cast<double>(out);
  double v = step * 0.5;
  for (int64_t i = 0; i < out; ++i, v += step) {
    int64_t s = v < 0.0 ? -1 : static_cast<int64_t>(v);
    map[static_cast<size_t>(i)] = s < 0 ? 0 : (s >= in ? in - 1 : s);
  }
  return map;
}

constexpr int kPrecisionBits = 32 - 8 - 2;

// PIL's precompute_coeffs + normalize_coeffs_8bpc for the bilinear
// (triangle, support 1) filter: per output pixel, the first source pixel,
// the tap count and fixed-point weights.
struct Coeffs {
  int64_t ksize;
  std::vector<int64_t> first, count;
  std::vector<int32_t> k;  // (out, ksize)
};

Coeffs bilinear_coeffs(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;
  Coeffs c;
  c.ksize = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  c.first.resize(static_cast<size_t>(out));
  c.count.resize(static_cast<size_t>(out));
  c.k.assign(static_cast<size_t>(out * c.ksize), 0);
  std::vector<double> w(static_cast<size_t>(c.ksize));
  for (int64_t xx = 0; xx < out; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int64_t xmin = static_cast<int64_t>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int64_t xmax = static_cast<int64_t>(center + support + 0.5);
    if (xmax > in) xmax = in;
    xmax -= xmin;
    double ww = 0.0;
    for (int64_t x = 0; x < xmax; ++x) {
      double t = std::fabs((x + xmin - center + 0.5) * ss);
      w[static_cast<size_t>(x)] = t < 1.0 ? 1.0 - t : 0.0;
      ww += w[static_cast<size_t>(x)];
    }
    for (int64_t x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[static_cast<size_t>(x)] / ww : w[static_cast<size_t>(x)];
      c.k[static_cast<size_t>(xx * c.ksize + x)] =
          static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.first[static_cast<size_t>(xx)] = xmin;
    c.count[static_cast<size_t>(xx)] = xmax;
  }
  return c;
}

inline uint8_t clip8(int64_t v) {
  if (v >= (static_cast<int64_t>(1) << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

}  // namespace

Image resize_image(const Image& img, int64_t height, int64_t width, Interpolation interp) {
  if (height < 1 || width < 1)
    throw ValueError("resize: target size " + std::to_string(height) + "x" + std::to_string(width) +
                     " must be at least 1x1");
  if (img.height < 1 || img.width < 1) throw ValueError("resize: the image is empty");
  if (height == img.height && width == img.width) return img;  // PIL/Keras skip equal sizes
  const int64_t C = img.channels;
  Image out;
  out.height = height;
  out.width = width;
  out.channels = C;
  out.pixels.resize(static_cast<size_t>(height * width * C));

  if (interp == Interpolation::Nearest) {
    const auto ys = nearest_map(img.height, height), xs = nearest_map(img.width, width);
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x)
        for (int64_t c = 0; c < C; ++c)
          out.pixels[static_cast<size_t>((y * width + x) * C + c)] = img.pixels[static_cast<size_t>(
              (ys[static_cast<size_t>(y)] * img.width + xs[static_cast<size_t>(x)]) * C + c)];
    return out;
  }

  // Bilinear: PIL resamples horizontally (only the rows the vertical pass
  // will read), rounds to 8 bits, then vertically.
  const Coeffs ch = bilinear_coeffs(img.width, width), cv = bilinear_coeffs(img.height, height);
  const bool need_h = width != img.width, need_v = height != img.height;
  const int64_t y_first = cv.first[0];
  const int64_t y_last =
      cv.first[static_cast<size_t>(height - 1)] + cv.count[static_cast<size_t>(height - 1)];
  const Image* src = &img;
  int64_t row0 = 0;  // source row that temp row 0 stands for
  Image temp;
  if (need_h) {
    temp.height = y_last - y_first;
    temp.width = width;
    temp.channels = C;
    temp.pixels.resize(static_cast<size_t>(temp.height * width * C));
    for (int64_t y = 0; y < temp.height; ++y)
      for (int64_t x = 0; x < width; ++x) {
        const int32_t* k = &ch.k[static_cast<size_t>(x * ch.ksize)];
        const int64_t x0 = ch.first[static_cast<size_t>(x)], n = ch.count[static_cast<size_t>(x)];
        for (int64_t c = 0; c < C; ++c) {
          int64_t ss = static_cast<int64_t>(1) << (kPrecisionBits - 1);
          for (int64_t t = 0; t < n; ++t)
            ss += static_cast<int64_t>(
                      img.pixels[static_cast<size_t>(((y + y_first) * img.width + x0 + t) * C + c)]) *
                  k[t];
          temp.pixels[static_cast<size_t>((y * width + x) * C + c)] = clip8(ss);
        }
      }
    src = &temp;
    row0 = y_first;
  }
  if (!need_v) {
    out.pixels = src->pixels;
    return out;
  }
  for (int64_t y = 0; y < height; ++y) {
    const int32_t* k = &cv.k[static_cast<size_t>(y * cv.ksize)];
    const int64_t y0 = cv.first[static_cast<size_t>(y)] - row0, n = cv.count[static_cast<size_t>(y)];
    for (int64_t x = 0; x < width; ++x)
      for (int64_t c = 0; c < C; ++c) {
        int64_t ss = static_cast<int64_t>(1) << (kPrecisionBits - 1);
        for (int64_t t = 0; t < n; ++t)
          ss += static_cast<int64_t>(src->pixels[static_cast<size_t>(((y0 + t) * src->width + x) * C + c)]) *
                k[t];
        out.pixels[static_cast<size_t>((y * width + x) * C + c)] = clip8(ss);
      }
  }
  return out;
}

}  // namespace cnn::data
