#include "cnn/data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "cnn/error.h"

namespace cnn::data {

FillMode parse_fill_mode(const std::string& s) {
  if (s == "nearest") return FillMode::Nearest;
  if (s == "constant") return FillMode::Constant;
  if (s == "reflect") return FillMode::Reflect;
  if (s == "wrap") return FillMode::Wrap;
  throw ValueError("fill_mode '" + s + "' is not supported, expected nearest, constant, reflect or wrap");
}

bool AugmentOptions::any() const {
  return horizontal_flip || vertical_flip || rotate90 || rotation_range != 0 || width_shift_range != 0 ||
         height_shift_range != 0 || zoom_range[0] != 1 || zoom_range[1] != 1 || shear_range != 0 ||
         brightness_range[1] != 0 || contrast_range[1] != 0 || blur_sigma != 0 || sharpen != 0 ||
         noise_stddev != 0;
}

AugmentOptions AugmentOptions::parse(const std::string& spec) {
  AugmentOptions o;
  std::stringstream ss(spec);
  std::string item;
  auto number = [](const std::string& key, const std::string& v) {
    char* end = nullptr;
    const float f = std::strtof(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(f))
      throw ValueError("augment: '" + key + "' needs a number, got '" + v + "'");
    return f;
  };
  auto range = [&](const std::string& key, const std::string& v) -> std::array<float, 2> {
    const size_t colon = v.find(':');
    if (colon == std::string::npos) {  // Keras: a single z means [1 - z, 1 + z]
      const float z = number(key, v);
      return {1 - z, 1 + z};
    }
    return {number(key, v.substr(0, colon)), number(key, v.substr(colon + 1))};
  };
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const size_t at = item.find('@');
    if (at != std::string::npos) {
      const float p = number("probability of " + item.substr(0, at), item.substr(at + 1));
      if (!(p >= 0 && p <= 1)) throw ValueError("augment: the probability in '" + item + "' must be in [0, 1]");
      o.probabilities[item.substr(0, item.find('='))] = p;
      item = item.substr(0, at);
    }
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "horizontal_flip")
      o.horizontal_flip = true;
    else if (key == "vertical_flip")
      o.vertical_flip = true;
    else if (key == "rotate90")
      o.rotate90 = true;
    else if (key == "rotation_range")
      o.rotation_range = number(key, value);
    else if (key == "width_shift_range")
      o.width_shift_range = number(key, value);
    else if (key == "height_shift_range")
      o.height_shift_range = number(key, value);
    else if (key == "zoom_range")
      o.zoom_range = range(key, value);
    else if (key == "shear_range")
      o.shear_range = number(key, value);
    else if (key == "brightness_range")
      o.brightness_range = range(key, value);
    else if (key == "contrast_range")
      o.contrast_range = range(key, value);
    else if (key == "blur")
      o.blur_sigma = number(key, value);
    else if (key == "sharpen")
      o.sharpen = number(key, value);
    else if (key == "noise")
      o.noise_stddev = number(key, value);
    else if (key == "fill_mode")
      o.fill_mode = parse_fill_mode(value);
    else if (key == "cval")
      o.cval = number(key, value);
    else if (key == "probability")
      o.probability = number(key, value);
    else if (key == "untouched_fraction")
      o.untouched_fraction = number(key, value);
    else
      throw ValueError(
          "augment: unknown option '" + key +
          "', expected horizontal_flip, vertical_flip, rotate90, rotation_range, width_shift_range, "
          "height_shift_range, zoom_range, shear_range, brightness_range, contrast_range, blur, "
          "sharpen, noise, fill_mode, cval, probability or untouched_fraction");
  }
  if (o.zoom_range[0] <= 0 || o.zoom_range[1] < o.zoom_range[0])
    throw ValueError("augment: zoom_range must be lo:hi with 0 < lo <= hi");
  if (!(o.probability >= 0 && o.probability <= 1) ||
      !(o.untouched_fraction >= 0 && o.untouched_fraction <= 1))
    throw ValueError("augment: probability and untouched_fraction must be in [0, 1]");
  return o;
}

namespace {

// Maps a coordinate outside [0, n) back inside, per fill mode (scipy's
// 'nearest', 'reflect' (half-sample symmetric) and 'wrap' (periodic)).
inline bool fold(double& v, int64_t n, FillMode mode) {
  if (v >= 0 && v <= n - 1) return true;
  switch (mode) {
    case FillMode::Constant:
      return false;
    case FillMode::Nearest:
      v = std::clamp(v, 0.0, static_cast<double>(n - 1));
      return true;
    case FillMode::Wrap:
      v = std::fmod(v, static_cast<double>(n));
      if (v < 0) v += n;
      if (v > n - 1) v = n - 1;
      return true;
    case FillMode::Reflect: {
      const double period = 2.0 * n;
      double t = std::fmod(v + 0.5, period);
      if (t < 0) t += period;
      v = (t < n ? t : period - t) - 0.5;
      v = std::clamp(v, 0.0, static_cast<double>(n - 1));
      return true;
    }
  }
  return true;
}

// out(r, c) = in(A * (r, c) + b), bilinear, per channel.
void affine(std::vector<float>& px, int64_t h, int64_t w, int64_t ch, const double A[2][2], const double b[2],
            FillMode mode, float cval) {
  std::vector<float> out(px.size());
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) {
      double sr = A[0][0] * r + A[0][1] * c + b[0], sc = A[1][0] * r + A[1][1] * c + b[1];
      float* dst = &out[static_cast<size_t>((r * w + c) * ch)];
      if (!fold(sr, h, mode) || !fold(sc, w, mode)) {
        for (int64_t k = 0; k < ch; ++k) dst[k] = cval;
        continue;
      }
      const int64_t r0 = static_cast<int64_t>(std::floor(sr)), c0 = static_cast<int64_t>(std::floor(sc));
      const int64_t r1 = std::min(r0 + 1, h - 1), c1 = std::min(c0 + 1, w - 1);
      const float fr = static_cast<float>(sr - r0), fc = static_cast<float>(sc - c0);
      for (int64_t k = 0; k < ch; ++k) {
        auto at = [&](int64_t rr, int64_t cc) { return px[static_cast<size_t>((rr * w + cc) * ch + k)]; };
        dst[k] = (1 - fr) * ((1 - fc) * at(r0, c0) + fc * at(r0, c1)) +
                 fr * ((1 - fc) * at(r1, c0) + fc * at(r1, c1));
      }
    }
  px.swap(out);
}

void gaussian_blur(std::vector<float>& px, int64_t h, int64_t w, int64_t ch, float sigma) {
  if (sigma <= 0.05f) return;
  const int radius = static_cast<int>(std::ceil(3 * sigma));
  std::vector<float> k(static_cast<size_t>(2 * radius + 1));
  float sum = 0;
  for (int i = -radius; i <= radius; ++i)
    sum += k[static_cast<size_t>(i + radius)] = std::exp(-0.5f * i * i / (sigma * sigma));
  for (float& v : k) v /= sum;
  std::vector<float> tmp(px.size());
  for (int pass = 0; pass < 2; ++pass) {  // rows then columns, edges clamped
    for (int64_t r = 0; r < h; ++r)
      for (int64_t c = 0; c < w; ++c)
        for (int64_t q = 0; q < ch; ++q) {
          float s = 0;
          for (int i = -radius; i <= radius; ++i) {
            const int64_t rr = pass ? std::clamp<int64_t>(r + i, 0, h - 1) : r;
            const int64_t cc = pass ? c : std::clamp<int64_t>(c + i, 0, w - 1);
            s += k[static_cast<size_t>(i + radius)] * px[static_cast<size_t>((rr * w + cc) * ch + q)];
          }
          tmp[static_cast<size_t>((r * w + c) * ch + q)] = s;
        }
    px.swap(tmp);
  }
}

}  // namespace

void augment_image(std::vector<float>& px, int64_t h, int64_t w, int64_t ch, const AugmentOptions& o,
                   Rng& rng) {
  if (o.untouched_fraction > 0 && rng.uniform() < o.untouched_fraction) return;
  auto use = [&](const char* name) {
    auto it = o.probabilities.find(name);
    const float p = it != o.probabilities.end() ? it->second : o.probability;
    return p >= 1.0f || rng.uniform() < p;
  };
  constexpr double kDeg = 3.14159265358979323846 / 180.0;
  // Keras's random_transform draws: theta, tx (rows), ty (cols), shear, zx, zy.
  const double theta =
      o.rotation_range != 0 && use("rotation_range") ? rng.uniform(-o.rotation_range, o.rotation_range) * kDeg : 0;
  double tx = 0, ty = 0;
  if (o.height_shift_range != 0 && use("height_shift_range")) {
    tx = rng.uniform(-o.height_shift_range, o.height_shift_range);
    if (o.height_shift_range < 1) tx *= h;
  }
  if (o.width_shift_range != 0 && use("width_shift_range")) {
    ty = rng.uniform(-o.width_shift_range, o.width_shift_range);
    if (o.width_shift_range < 1) ty *= w;
  }
  const double shear = o.shear_range != 0 && use("shear_range") ? rng.uniform(-o.shear_range, o.shear_range) * kDeg : 0;
  double zx = 1, zy = 1;
  if ((o.zoom_range[0] != 1 || o.zoom_range[1] != 1) && use("zoom_range")) {
    zx = rng.uniform(o.zoom_range[0], o.zoom_range[1]);
    zy = rng.uniform(o.zoom_range[0], o.zoom_range[1]);
  }
  if (theta != 0 || tx != 0 || ty != 0 || shear != 0 || zx != 1 || zy != 1) {
    // M = rotation * shift * shear * zoom (Keras's order), about the centre.
    const double rot[2][2] = {{std::cos(theta), -std::sin(theta)}, {std::sin(theta), std::cos(theta)}};
    const double sh[2][2] = {{1, -std::sin(shear)}, {0, std::cos(shear)}};
    double rs[2][2], A[2][2];
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) rs[i][j] = rot[i][0] * sh[0][j] + rot[i][1] * sh[1][j];
    for (int i = 0; i < 2; ++i) {
      A[i][0] = rs[i][0] * zx;
      A[i][1] = rs[i][1] * zy;
    }
    const double t[2] = {rot[0][0] * tx + rot[0][1] * ty, rot[1][0] * tx + rot[1][1] * ty};
    const double o0 = h / 2.0 - 0.5, o1 = w / 2.0 - 0.5;
    const double b[2] = {o0 + t[0] - (A[0][0] * o0 + A[0][1] * o1),
                         o1 + t[1] - (A[1][0] * o0 + A[1][1] * o1)};
    affine(px, h, w, ch, A, b, o.fill_mode, o.cval);
  }
  if (o.horizontal_flip && rng.uniform() < 0.5f && use("horizontal_flip"))
    for (int64_t r = 0; r < h; ++r)
      for (int64_t c = 0; c < w / 2; ++c)
        for (int64_t k = 0; k < ch; ++k)
          std::swap(px[static_cast<size_t>((r * w + c) * ch + k)],
                    px[static_cast<size_t>((r * w + w - 1 - c) * ch + k)]);
  if (o.vertical_flip && rng.uniform() < 0.5f && use("vertical_flip"))
    for (int64_t r = 0; r < h / 2; ++r)
      for (int64_t c = 0; c < w * ch; ++c)
        std::swap(px[static_cast<size_t>(r * w * ch + c)], px[static_cast<size_t>((h - 1 - r) * w * ch + c)]);
  if (o.rotate90 && use("rotate90")) {
    // Exact quarter turns (counter-clockwise k times); non-square images only turn by 0 or 180.
    const uint32_t k = h == w ? rng.below(4) : 2 * rng.below(2);
    if (k) {
      std::vector<float> out(px.size());
      for (int64_t r = 0; r < h; ++r)
        for (int64_t c = 0; c < w; ++c) {
          int64_t rr = r, cc = c;  // where (r, c) of the output comes from
          if (k == 1) rr = c, cc = w - 1 - r;
          if (k == 2) rr = h - 1 - r, cc = w - 1 - c;
          if (k == 3) rr = h - 1 - c, cc = r;
          for (int64_t q = 0; q < ch; ++q)
            out[static_cast<size_t>((r * w + c) * ch + q)] = px[static_cast<size_t>((rr * w + cc) * ch + q)];
        }
      px.swap(out);
    }
  }
  auto clip = [&] {
    for (float& v : px) v = std::clamp(v, 0.0f, 255.0f);
  };
  if (o.brightness_range[1] != 0 && use("brightness_range")) {  // PIL's Brightness: blend with black
    const float f = rng.uniform(o.brightness_range[0], o.brightness_range[1]);
    for (float& v : px) v *= f;
    clip();
  }
  if (o.contrast_range[1] != 0 && use("contrast_range")) {  // PIL's Contrast: blend with the mean grey
    const float f = rng.uniform(o.contrast_range[0], o.contrast_range[1]);
    double mean = 0;
    for (float v : px) mean += v;
    mean /= static_cast<double>(px.size());
    for (float& v : px) v = static_cast<float>(mean + f * (v - mean));
    clip();
  }
  if (o.blur_sigma > 0 && use("blur")) gaussian_blur(px, h, w, ch, rng.uniform(0, o.blur_sigma));
  if (o.sharpen > 0 && use("sharpen")) {  // unsharp mask
    std::vector<float> blurred = px;
    gaussian_blur(blurred, h, w, ch, 1.0f);
    const float amount = rng.uniform(0, o.sharpen);
    for (size_t i = 0; i < px.size(); ++i) px[i] += amount * (px[i] - blurred[i]);
    clip();
  }
  if (o.noise_stddev > 0 && use("noise")) {
    for (float& v : px) v += o.noise_stddev * rng.normal();
    clip();
  }
}

}  // namespace cnn::data
