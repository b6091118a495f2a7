// The Keras layers the course uses, with Keras's names and defaults.
// An empty name means "assign Keras's default name when added to a model".
#pragma once

#include <array>
#include <memory>
#include <optional>

#include "cnn/nn/layer.h"
#include "cnn/ops.h"
#include "cnn/rng.h"

namespace cnn::nn {

// Keras initializers by name: glorot_uniform, glorot_normal, he_uniform,
// he_normal, lecun_uniform, lecun_normal, zeros, ones. fan_in/fan_out follow
// Keras (conv: receptive field * channels).
void initialize(Tensor& t, const std::string& initializer, int64_t fan_in, int64_t fan_out, Rng& rng);
bool is_known_initializer(const std::string& name);

class InputLayer : public Layer {
 public:
  explicit InputLayer(Shape shape, std::string name = "");  // shape without batch
  std::string class_name() const override { return "InputLayer"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;
  bool accepts_input_count(size_t n) const override { return n == 0; }
  const Shape& shape() const { return shape_; }

 private:
  Shape shape_;
};

struct Conv2DOptions {
  int64_t filters = 1;
  std::array<int64_t, 2> kernel_size{3, 3};
  std::array<int64_t, 2> strides{1, 1};
  std::string padding = "valid";
  std::array<int64_t, 2> dilation_rate{1, 1};
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
};

class Conv2D : public Layer {
 public:
  explicit Conv2D(Conv2DOptions opt, std::string name = "");
  std::string class_name() const override { return "Conv2D"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  void build(const std::vector<Shape>& in, Rng& rng) override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;
  std::string activation_name() const override { return opt_.activation; }
  const Conv2DOptions& options() const { return opt_; }
  ops::Conv2DOptions op_options() const;  // strides, padding and dilation for ops::conv2d

 private:
  Conv2DOptions opt_;
};

struct DenseOptions {
  int64_t units = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
};

class Dense : public Layer {
 public:
  explicit Dense(DenseOptions opt, std::string name = "");
  std::string class_name() const override { return "Dense"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  void build(const std::vector<Shape>& in, Rng& rng) override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;
  std::string activation_name() const override { return opt_.activation; }

 private:
  DenseOptions opt_;
};

struct Pool2DOptions {
  std::array<int64_t, 2> pool_size{2, 2};
  std::array<int64_t, 2> strides{0, 0};  // 0: None, i.e. the pool size
  std::string padding = "valid";
};

class Pooling2D : public Layer {
 public:
  Pooling2D(bool is_max, Pool2DOptions opt, std::string name);
  std::string class_name() const override { return max_ ? "MaxPooling2D" : "AveragePooling2D"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;

 private:
  ops::Pool2DOptions op_options() const;
  bool max_;
  Pool2DOptions opt_;
};

class MaxPooling2D : public Pooling2D {
 public:
  explicit MaxPooling2D(Pool2DOptions opt = {}, std::string name = "")
      : Pooling2D(true, opt, std::move(name)) {}
};

class AveragePooling2D : public Pooling2D {
 public:
  explicit AveragePooling2D(Pool2DOptions opt = {}, std::string name = "")
      : Pooling2D(false, opt, std::move(name)) {}
};

class GlobalPooling2D : public Layer {
 public:
  GlobalPooling2D(bool is_max, std::string name);
  std::string class_name() const override { return max_ ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;

 private:
  bool max_;
};

class GlobalAveragePooling2D : public GlobalPooling2D {
 public:
  explicit GlobalAveragePooling2D(std::string name = "") : GlobalPooling2D(false, std::move(name)) {}
};

class GlobalMaxPooling2D : public GlobalPooling2D {
 public:
  explicit GlobalMaxPooling2D(std::string name = "") : GlobalPooling2D(true, std::move(name)) {}
};

class Flatten : public Layer {
 public:
  explicit Flatten(std::string name = "") : Layer(std::move(name)) {}
  std::string class_name() const override { return "Flatten"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;
};

class Reshape : public Layer {
 public:
  explicit Reshape(Shape target_shape, std::string name = "");  // without batch; one -1 allowed
  std::string class_name() const override { return "Reshape"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;

 private:
  Shape target_;
};

class Activation : public Layer {
 public:
  explicit Activation(std::string activation, std::string name = "");
  std::string class_name() const override { return "Activation"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;
  std::string activation_name() const override { return activation_; }

 private:
  std::string activation_;
};

class ZeroPadding2D : public Layer {
 public:
  // ((top, bottom), (left, right)), as Keras's padding argument.
  explicit ZeroPadding2D(std::array<std::array<int64_t, 2>, 2> padding = {{{1, 1}, {1, 1}}},
                         std::string name = "");
  std::string class_name() const override { return "ZeroPadding2D"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;

 private:
  std::array<std::array<int64_t, 2>, 2> pad_;
};

struct BatchNormOptions {
  float momentum = 0.99f;
  float epsilon = 1e-3f;
  bool center = true;
  bool scale = true;
  // The normalized axis as Keras gives it: -1, or its positive index, which
  // must be the last (channels) axis of the input.
  int64_t axis = -1;
};

class BatchNormalization : public Layer {
 public:
  explicit BatchNormalization(BatchNormOptions opt = {}, std::string name = "");
  std::string class_name() const override { return "BatchNormalization"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  void build(const std::vector<Shape>& in, Rng& rng) override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;

  // Whether call() uses the moving statistics (not training, frozen, or
  // pinned to inference).
  bool uses_moving_statistics(const CallContext& ctx) const {
    return inference_only_ || !(ctx.training && trainable());
  }
  // Keras's layer(x, training=False): inference mode even while training,
  // gamma and beta still learning where trainable (a backbone called so
  // keeps its statistics when unfrozen for fine-tuning).
  void set_inference_only(bool on) { inference_only_ = on; }
  bool inference_only() const { return inference_only_; }
  // Inference as y = x * scale + shift per channel (what a conv can fold in).
  ops::BatchNormAffine inference_affine() const;
  // Whether gamma or beta would receive a gradient.
  bool any_weight_requires_grad() const;
  float epsilon() const { return opt_.epsilon; }
  // Weight files made with another epsilon (keras-applications 0.2) set theirs.
  void set_epsilon(float epsilon) { opt_.epsilon = epsilon; }

 private:
  BatchNormOptions opt_;
  int64_t rank_ = 0;  // of the input, once built: config() writes axis as rank - 1, as Keras does
  bool inference_only_ = false;
};

class Dropout : public Layer {
 public:
  explicit Dropout(float rate, std::string name = "");
  std::string class_name() const override { return "Dropout"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;

 private:
  float rate_;
};

class Add : public Layer {
 public:
  explicit Add(std::string name = "") : Layer(std::move(name)) {}
  std::string class_name() const override { return "Add"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;
  bool accepts_input_count(size_t n) const override { return n >= 2; }
};

class Concatenate : public Layer {
 public:
  explicit Concatenate(int axis = -1, std::string name = "");
  std::string class_name() const override { return "Concatenate"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;
  bool accepts_input_count(size_t n) const override { return n >= 2; }

 private:
  int axis_;
};

class Rescaling : public Layer {
 public:
  explicit Rescaling(float scale, float offset = 0.0f, std::string name = "");
  std::string class_name() const override { return "Rescaling"; }
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;
  nlohmann::ordered_json config() const override;

 private:
  float scale_, offset_;
};

// ---- Keras's random image layers ---------------------------------------------

// How a transformed image is filled where it reads outside the input, and
// how it samples between pixels (ops::image_transform says how).
using ImageFill = ops::ImageFill;
using ImageInterpolation = ops::ImageInterpolation;
// Keras's names ("reflect", ..., "bilinear"); ValueError naming the choices.
ImageFill parse_image_fill(const std::string& s);
ImageInterpolation parse_image_interpolation(const std::string& s);

// A range a factor is drawn from, as Keras takes it: one number f for
// [-f, f], or a pair [lower, upper]; kept as given for the config.
struct FactorRange {
  float lower = 0, upper = 0;
  bool single = false;  // given as one number
};

// RandomFlip, RandomRotation, RandomZoom and RandomTranslation: in training
// each image of the batch gets its own random transform (of the same size);
// in inference the layer passes its input through. Draws come from the
// layer's own stream where Keras's `seed` is set (it advances with each
// training call, as Keras's SeedGenerator, and starts again from the seed
// in a model read from a file), else from the training run's. Input
// (batch, height, width, channels).
class RandomImageLayer : public Layer {
 public:
  Shape compute_output_shape(const std::vector<Shape>& in) const override;
  Tensor call(const std::vector<Tensor>& inputs, const CallContext& ctx) override;

 protected:
  RandomImageLayer(std::optional<int64_t> seed, std::string name);
  // x (n >= 1 images) changed by draws from rng.
  virtual Tensor augment(const Tensor& x, Rng& rng) const = 0;
  // base_config with the seed (null when none).
  nlohmann::ordered_json seeded_config() const;

 private:
  std::optional<int64_t> seed_;
  std::unique_ptr<Rng> own_rng_;
};

// The geometric ones: each image sampled by an affine map of its own.
class RandomTransformLayer : public RandomImageLayer {
 protected:
  using RandomImageLayer::RandomImageLayer;
  Tensor augment(const Tensor& x, Rng& rng) const override;
  // The transforms of n images of h x w, each drawn from rng.
  virtual ops::ImageTransform draw(int64_t n, int64_t h, int64_t w, Rng& rng) const = 0;
};

// mode: "horizontal", "vertical" or "horizontal_and_vertical"; each axis
// flipped with probability 1/2, for each image.
class RandomFlip : public RandomTransformLayer {
 public:
  explicit RandomFlip(std::string mode = "horizontal_and_vertical",
                      std::optional<int64_t> seed = std::nullopt, std::string name = "");
  std::string class_name() const override { return "RandomFlip"; }
  nlohmann::ordered_json config() const override;

 protected:
  ops::ImageTransform draw(int64_t n, int64_t h, int64_t w, Rng& rng) const override;

 private:
  std::string mode_;
  bool horizontal_, vertical_;
};

// The options of the affine ones: fill and interpolation as above.
struct ImageTransformOptions {
  ImageFill fill_mode = ImageFill::Reflect;
  ImageInterpolation interpolation = ImageInterpolation::Bilinear;
  float fill_value = 0.0f;
};

// Rotation about the image centre by an angle drawn in factor * 2 pi
// (positive counter-clockwise).
class RandomRotation : public RandomTransformLayer {
 public:
  explicit RandomRotation(FactorRange factor, ImageTransformOptions o = {},
                          std::optional<int64_t> seed = std::nullopt, std::string name = "");
  std::string class_name() const override { return "RandomRotation"; }
  nlohmann::ordered_json config() const override;

 protected:
  ops::ImageTransform draw(int64_t n, int64_t h, int64_t w, Rng& rng) const override;

 private:
  FactorRange factor_;
  ImageTransformOptions o_;
};

// Zoom about the centre: each axis scaled by 1 + a factor drawn in its
// range (positive zooms out); without a width factor both axes take the
// height's draw. Factors within [-1, 1].
class RandomZoom : public RandomTransformLayer {
 public:
  RandomZoom(FactorRange height, std::optional<FactorRange> width, ImageTransformOptions o = {},
             std::optional<int64_t> seed = std::nullopt, std::string name = "");
  std::string class_name() const override { return "RandomZoom"; }
  nlohmann::ordered_json config() const override;

 protected:
  ops::ImageTransform draw(int64_t n, int64_t h, int64_t w, Rng& rng) const override;

 private:
  FactorRange height_;
  std::optional<FactorRange> width_;
  ImageTransformOptions o_;
};

// A shift by a fraction of the height and of the width, each drawn in its
// range (within [-1, 1]; positive moves the image down and right).
class RandomTranslation : public RandomTransformLayer {
 public:
  RandomTranslation(FactorRange height, FactorRange width, ImageTransformOptions o = {},
                    std::optional<int64_t> seed = std::nullopt, std::string name = "");
  std::string class_name() const override { return "RandomTranslation"; }
  nlohmann::ordered_json config() const override;

 protected:
  ops::ImageTransform draw(int64_t n, int64_t h, int64_t w, Rng& rng) const override;

 private:
  FactorRange height_, width_;
  ImageTransformOptions o_;
};

// The ones that change pixel values (ops::image_levels): a draw per image
// from `factor`, the result clipped to value_range [low, high].
class RandomLevelsLayer : public RandomImageLayer {
 protected:
  RandomLevelsLayer(const char* who, FactorRange factor, std::array<float, 2> value_range,
                    std::optional<int64_t> seed, std::string name);
  Tensor augment(const Tensor& x, Rng& rng) const override;
  // Fills l's per-image contrast or delta for n images from rng.
  virtual void draw(int64_t n, Rng& rng, ops::ImageLevels& l) const = 0;

  FactorRange factor_;
  std::array<float, 2> value_range_;
};

// Contrast: each channel of each image becomes (x - mean) * f + mean, f
// drawn per image (as Keras 3; tf.keras 2 drew one for the batch) in
// [1 - lower, 1 + upper] (both >= 0, lower <= 1), clipped to value_range.
class RandomContrast : public RandomLevelsLayer {
 public:
  explicit RandomContrast(FactorRange factor, std::array<float, 2> value_range = {0.0f, 255.0f},
                          std::optional<int64_t> seed = std::nullopt, std::string name = "");
  std::string class_name() const override { return "RandomContrast"; }
  nlohmann::ordered_json config() const override;

 protected:
  void draw(int64_t n, Rng& rng, ops::ImageLevels& l) const override;
};

// Brightness: a delta drawn per image in factor * (high - low) of
// value_range (factors within [-1, 1]) added, the result clipped to it.
class RandomBrightness : public RandomLevelsLayer {
 public:
  explicit RandomBrightness(FactorRange factor, std::array<float, 2> value_range = {0.0f, 255.0f},
                            std::optional<int64_t> seed = std::nullopt, std::string name = "");
  std::string class_name() const override { return "RandomBrightness"; }
  nlohmann::ordered_json config() const override;

 protected:
  void draw(int64_t n, Rng& rng, ops::ImageLevels& l) const override;
};

}  // namespace cnn::nn
