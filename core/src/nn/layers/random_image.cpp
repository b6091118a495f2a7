// Keras's random image layers: RandomFlip, RandomRotation, RandomZoom and
// RandomTranslation (tf.keras 2.12's draws and transforms; Keras 3 draws
// the same per image).
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "nn/layers/layer_config.h"

namespace cnn::nn {

namespace {

const char* fill_name(ImageFill f) {
  switch (f) {
    case ImageFill::Reflect:
      return "reflect";
    case ImageFill::Wrap:
      return "wrap";
    case ImageFill::Constant:
      return "constant";
    case ImageFill::Nearest:
      return "nearest";
  }
  return "reflect";
}

nlohmann::ordered_json factor_json(const FactorRange& f) {
  if (f.single) return float_json(f.upper);
  return {float_json(f.lower), float_json(f.upper)};
}

void transform_config(nlohmann::ordered_json& c, const ImageTransformOptions& o) {
  c["fill_mode"] = fill_name(o.fill_mode);
  c["fill_value"] = float_json(o.fill_value);
  c["interpolation"] = o.interpolation == ImageInterpolation::Nearest ? "nearest" : "bilinear";
}

using Map = std::array<float, 6>;

// Keras's get_rotation_matrix, get_zoom_matrix and get_translation_matrix
// for an image of h x w: where each output pixel reads.
Map rotation_map(float angle, int64_t h, int64_t w) {
  const float c = std::cos(angle), s = std::sin(angle);
  const float wd = static_cast<float>(w - 1), hd = static_cast<float>(h - 1);
  const float x_offset = (wd - (c * wd - s * hd)) / 2.0f;
  const float y_offset = (hd - (s * wd + c * hd)) / 2.0f;
  return {c, -s, x_offset, s, c, y_offset};
}

Map zoom_map(float zoom_x, float zoom_y, int64_t h, int64_t w) {
  const float x_offset = (static_cast<float>(w) - 1.0f) / 2.0f * (1.0f - zoom_x);
  const float y_offset = (static_cast<float>(h) - 1.0f) / 2.0f * (1.0f - zoom_y);
  return {zoom_x, 0.0f, x_offset, 0.0f, zoom_y, y_offset};
}

ops::ImageTransform transform_of(const ImageTransformOptions& o) {
  ops::ImageTransform t;
  t.fill_mode = o.fill_mode;
  t.interpolation = o.interpolation;
  t.fill_value = o.fill_value;
  return t;
}

void check_range(const std::string& who, const char* what, const FactorRange& f, bool within_one) {
  if (!(f.lower <= f.upper) || !std::isfinite(f.lower) || !std::isfinite(f.upper))
    throw ValueError(str_cat(who, ": ", what, " [", f.lower, ", ", f.upper,
                             "] must be a range of finite numbers, lower <= upper"));
  if (within_one && (std::abs(f.lower) > 1.0f || std::abs(f.upper) > 1.0f))
    throw ValueError(str_cat(who, ": ", what, " [", f.lower, ", ", f.upper, "] must lie within [-1, 1]"));
}

}  // namespace

ImageFill parse_image_fill(const std::string& s) {
  for (ImageFill f : {ImageFill::Reflect, ImageFill::Wrap, ImageFill::Constant, ImageFill::Nearest})
    if (s == fill_name(f)) return f;
  throw ValueError("fill_mode '" + s + "' is not supported, expected reflect, wrap, constant or nearest");
}

ImageInterpolation parse_image_interpolation(const std::string& s) {
  if (s == "bilinear") return ImageInterpolation::Bilinear;
  if (s == "nearest") return ImageInterpolation::Nearest;
  throw ValueError("interpolation '" + s + "' is not supported, expected bilinear or nearest");
}

// ---- RandomImageLayer ---------------------------------------------------------

RandomImageLayer::RandomImageLayer(std::optional<int64_t> seed, std::string name)
    : Layer(std::move(name)), seed_(seed) {
  if (seed_) own_rng_ = std::make_unique<Rng>(static_cast<uint64_t>(*seed_));
}

Shape RandomImageLayer::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  if (s.size() != 4)
    throw ShapeError(who() + ": input " + shape_str(s) + " must be images (batch, height, width, channels)");
  return s;
}

Tensor RandomImageLayer::call(const std::vector<Tensor>& inputs, const CallContext& ctx) {
  const Tensor& x = inputs.at(0);
  if (!ctx.training) return x;
  Rng* rng = own_rng_ ? own_rng_.get() : ctx.rng;
  if (!rng) throw ValueError(who() + ": training needs a random number generator (CallContext::rng)");
  if (x.ndim() != 4)
    throw ShapeError(who() + ": input " + shape_str(x.shape()) +
                     " must be images (batch, height, width, channels)");
  if (x.dim(0) == 0) return x;
  return augment(x, *rng);
}

Tensor RandomTransformLayer::augment(const Tensor& x, Rng& rng) const {
  return ops::image_transform(x, draw(x.dim(0), x.dim(1), x.dim(2), rng));
}

nlohmann::ordered_json RandomImageLayer::seeded_config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["seed"] = seed_ ? nlohmann::ordered_json(*seed_) : nlohmann::ordered_json(nullptr);
  return c;
}

// ---- RandomFlip -------------------------------------------------------------------

RandomFlip::RandomFlip(std::string mode, std::optional<int64_t> seed, std::string name)
    : RandomTransformLayer(seed, std::move(name)), mode_(std::move(mode)) {
  horizontal_ = mode_ == "horizontal" || mode_ == "horizontal_and_vertical";
  vertical_ = mode_ == "vertical" || mode_ == "horizontal_and_vertical";
  if (!horizontal_ && !vertical_)
    throw ValueError("RandomFlip: mode '" + mode_ +
                     "' is not supported, expected horizontal, vertical or horizontal_and_vertical");
}

ops::ImageTransform RandomFlip::draw(int64_t n, int64_t h, int64_t w, Rng& rng) const {
  // A mirror reads whole pixels: nearest sampling is exact.
  ops::ImageTransform t;
  t.interpolation = ImageInterpolation::Nearest;
  for (int64_t i = 0; i < n; ++i) {
    const bool left_right = horizontal_ && rng.uniform() < 0.5f;
    const bool up_down = vertical_ && rng.uniform() < 0.5f;
    t.maps.push_back({left_right ? -1.0f : 1.0f, 0.0f, left_right ? static_cast<float>(w - 1) : 0.0f, 0.0f,
                      up_down ? -1.0f : 1.0f, up_down ? static_cast<float>(h - 1) : 0.0f});
  }
  return t;
}

nlohmann::ordered_json RandomFlip::config() const {
  nlohmann::ordered_json c = seeded_config();
  c["mode"] = mode_;
  return c;
}

// ---- RandomRotation -----------------------------------------------------------------

RandomRotation::RandomRotation(FactorRange factor, ImageTransformOptions o, std::optional<int64_t> seed,
                               std::string name)
    : RandomTransformLayer(seed, std::move(name)), factor_(factor), o_(o) {
  check_range("RandomRotation", "factor", factor_, false);
}

ops::ImageTransform RandomRotation::draw(int64_t n, int64_t h, int64_t w, Rng& rng) const {
  constexpr float kTwoPi = 6.283185307179586f;
  ops::ImageTransform t = transform_of(o_);
  for (int64_t i = 0; i < n; ++i)
    t.maps.push_back(rotation_map(rng.uniform(factor_.lower * kTwoPi, factor_.upper * kTwoPi), h, w));
  return t;
}

nlohmann::ordered_json RandomRotation::config() const {
  nlohmann::ordered_json c = seeded_config();
  c["factor"] = factor_json(factor_);
  transform_config(c, o_);
  return c;
}

// ---- RandomZoom -----------------------------------------------------------------------

RandomZoom::RandomZoom(FactorRange height, std::optional<FactorRange> width, ImageTransformOptions o,
                       std::optional<int64_t> seed, std::string name)
    : RandomTransformLayer(seed, std::move(name)), height_(height), width_(width), o_(o) {
  check_range("RandomZoom", "height_factor", height_, true);
  if (width_) check_range("RandomZoom", "width_factor", *width_, true);
}

ops::ImageTransform RandomZoom::draw(int64_t n, int64_t h, int64_t w, Rng& rng) const {
  ops::ImageTransform t = transform_of(o_);
  for (int64_t i = 0; i < n; ++i) {
    const float zoom_y = rng.uniform(1.0f + height_.lower, 1.0f + height_.upper);
    const float zoom_x = width_ ? rng.uniform(1.0f + width_->lower, 1.0f + width_->upper) : zoom_y;
    t.maps.push_back(zoom_map(zoom_x, zoom_y, h, w));
  }
  return t;
}

nlohmann::ordered_json RandomZoom::config() const {
  nlohmann::ordered_json c = seeded_config();
  c["height_factor"] = factor_json(height_);
  c["width_factor"] = width_ ? factor_json(*width_) : nlohmann::ordered_json(nullptr);
  transform_config(c, o_);
  return c;
}

// ---- RandomTranslation ------------------------------------------------------------------

RandomTranslation::RandomTranslation(FactorRange height, FactorRange width, ImageTransformOptions o,
                                     std::optional<int64_t> seed, std::string name)
    : RandomTransformLayer(seed, std::move(name)), height_(height), width_(width), o_(o) {
  check_range("RandomTranslation", "height_factor", height_, true);
  check_range("RandomTranslation", "width_factor", width_, true);
}

ops::ImageTransform RandomTranslation::draw(int64_t n, int64_t h, int64_t w, Rng& rng) const {
  ops::ImageTransform t = transform_of(o_);
  for (int64_t i = 0; i < n; ++i) {
    const float dy = rng.uniform(height_.lower, height_.upper) * static_cast<float>(h);
    const float dx = rng.uniform(width_.lower, width_.upper) * static_cast<float>(w);
    t.maps.push_back({1.0f, 0.0f, -dx, 0.0f, 1.0f, -dy});  // Keras's get_translation_matrix
  }
  return t;
}

nlohmann::ordered_json RandomTranslation::config() const {
  nlohmann::ordered_json c = seeded_config();
  c["height_factor"] = factor_json(height_);
  c["width_factor"] = factor_json(width_);
  transform_config(c, o_);
  return c;
}

// ---- RandomContrast, RandomBrightness ---------------------------------------------------

namespace {

void check_value_range(const std::string& who, const std::array<float, 2>& r) {
  if (!(r[0] < r[1]) || !std::isfinite(r[0]) || !std::isfinite(r[1]))
    throw ValueError(
        str_cat(who, ": value_range [", r[0], ", ", r[1], "] must be [low, high] with low < high"));
}

}  // namespace

RandomLevelsLayer::RandomLevelsLayer(const char* who, FactorRange factor, std::array<float, 2> value_range,
                                     std::optional<int64_t> seed, std::string name)
    : RandomImageLayer(seed, std::move(name)), factor_(factor), value_range_(value_range) {
  check_value_range(who, value_range_);
}

Tensor RandomLevelsLayer::augment(const Tensor& x, Rng& rng) const {
  ops::ImageLevels l;
  draw(x.dim(0), rng, l);
  l.low = value_range_[0];
  l.high = value_range_[1];
  return ops::image_levels(x, l);
}

RandomContrast::RandomContrast(FactorRange factor, std::array<float, 2> value_range,
                               std::optional<int64_t> seed, std::string name)
    : RandomLevelsLayer("RandomContrast", factor, value_range, seed, std::move(name)) {
  if (!(factor_.lower >= 0.0f && factor_.upper >= 0.0f && factor_.lower <= 1.0f &&
        std::isfinite(factor_.upper)))
    throw ValueError(str_cat("RandomContrast: factor [", factor_.lower, ", ", factor_.upper,
                             "] must be two numbers >= 0 (the contrast drawn in [1 - lower, 1 + upper]), "
                             "lower <= 1"));
}

void RandomContrast::draw(int64_t n, Rng& rng, ops::ImageLevels& l) const {
  for (int64_t i = 0; i < n; ++i)
    l.contrast.push_back(rng.uniform(1.0f - factor_.lower, 1.0f + factor_.upper));
}

nlohmann::ordered_json RandomContrast::config() const {
  nlohmann::ordered_json c = seeded_config();
  // Always a pair: one number f means [1 - f, 1 + f] to tf.keras 2 but
  // [1, 1 + f] to Keras 3's code, where a pair means the same to both.
  c["factor"] = {float_json(factor_.lower), float_json(factor_.upper)};
  // tf.keras 2 has no value_range here (it clips to [0, 255]): written only where it differs.
  if (value_range_ != std::array<float, 2>{0.0f, 255.0f})
    c["value_range"] = {float_json(value_range_[0]), float_json(value_range_[1])};
  return c;
}

RandomBrightness::RandomBrightness(FactorRange factor, std::array<float, 2> value_range,
                                   std::optional<int64_t> seed, std::string name)
    : RandomLevelsLayer("RandomBrightness", factor, value_range, seed, std::move(name)) {
  check_range("RandomBrightness", "factor", factor_, true);
}

void RandomBrightness::draw(int64_t n, Rng& rng, ops::ImageLevels& l) const {
  const float span = value_range_[1] - value_range_[0];
  for (int64_t i = 0; i < n; ++i) l.delta.push_back(rng.uniform(factor_.lower, factor_.upper) * span);
}

nlohmann::ordered_json RandomBrightness::config() const {
  nlohmann::ordered_json c = seeded_config();
  c["factor"] = factor_json(factor_);
  c["value_range"] = {float_json(value_range_[0]), float_json(value_range_[1])};
  return c;
}

}  // namespace cnn::nn
