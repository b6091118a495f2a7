// Differentiable ops. Each returns a new tensor and, when an input requires
// grad, records its backward (defined beside the forward in src/ops/<op>.cpp).
// Images are NHWC, conv kernels HWIO, dense kernels (in, out).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cnn/tensor.h"

namespace cnn {
class Rng;
}

namespace cnn::ops {

enum class Padding { Valid, Same, Explicit };

// Padding as "valid"/"same" (Keras strings); throws on anything else.
Padding parse_padding(const std::string& s, const char* who);
const char* padding_name(Padding p);

// Output length and padding of one spatial axis. TensorFlow's 'same' rule:
// out = ceil(in / s), total = max((out - 1) * s + d * (k - 1) + 1 - in, 0),
// before = total / 2, after = total - before (the extra pixel goes after).
struct AxisGeometry {
  int64_t out, pad_before, pad_after;
};
AxisGeometry axis_geometry(const char* op, const char* axis, int64_t in, int64_t k, int64_t stride,
                           int64_t dilation, Padding padding, int64_t explicit_before = 0,
                           int64_t explicit_after = 0);

struct Conv2DOptions {
  int64_t stride_h = 1, stride_w = 1;
  Padding padding = Padding::Valid;
  // Used when padding == Explicit: zeros added on each side.
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  // relu(conv + b) in one op: the ReLU is applied in the bias pass and its
  // mask in backward, instead of a separate op with its own tensors.
  bool relu = false;
};

// x (N, H, W, C), w (KH, KW, C, O), b (O) or undefined -> (N, OH, OW, O).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt = {});

// Inference only (nothing is recorded): per output channel o,
//   y = act((conv(x, w) + b) * scale[o] + shift[o] + residual)
// in the conv's one pass over its output: a BatchNormalization in inference
// mode folded into the conv, then a ResNet block's Add and ReLU.
struct ConvEpilogue {
  Tensor scale, shift;  // (O) each on the conv's device, or undefined for 1 and 0
  Tensor residual;      // the conv's output shape, or undefined
  bool relu = false;
};
Tensor conv2d_inference(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt,
                        const ConvEpilogue& epilogue);

struct Pool2DOptions {
  int64_t pool_h = 2, pool_w = 2;
  int64_t stride_h = 0, stride_w = 0;  // 0: the pool size (Keras strides=None)
  Padding padding = Padding::Valid;
};

// 'same' max pooling pads with -inf; 'same' average divides each window by the
// number of real (unpadded) pixels in it, as TensorFlow does.
Tensor max_pool2d(const Tensor& x, const Pool2DOptions& opt = {});
Tensor avg_pool2d(const Tensor& x, const Pool2DOptions& opt = {});
Tensor global_avg_pool2d(const Tensor& x);  // (N, H, W, C) -> (N, C)
Tensor global_max_pool2d(const Tensor& x);  // (N, H, W, C) -> (N, C)

// x (..., in), w (in, out), b (out) or undefined -> (..., out).
Tensor dense(const Tensor& x, const Tensor& w, const Tensor& b);

Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 allowed
Tensor flatten(const Tensor& x);                      // (N, ...) -> (N, prod(...))
// Adds zero rows/columns around each image: (N, H, W, C) -> (N, H+t+b, W+l+r, C).
Tensor zero_padding2d(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right);

Tensor add(const Tensor& a, const Tensor& b);                 // same shapes
Tensor concat(const std::vector<Tensor>& xs, int axis = -1);  // along one axis
// sum(x * g) as a scalar, with g a constant: backward seeds x's gradient with
// g (a vector-Jacobian product).
Tensor sum_product(const Tensor& x, const Tensor& g);
Tensor scale_shift(const Tensor& x, float scale, float offset);  // x * scale + offset

Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softmax(const Tensor& x);  // over the last axis
// By Keras name: linear, relu, sigmoid, tanh, softmax.
Tensor activation(const Tensor& x, const std::string& name);
bool is_known_activation(const std::string& name);

// Normalises over every axis but the last. Training: batch mean and biased
// variance, and moving_mean/var updated in place as
// moving = moving * momentum + batch * (1 - momentum); the moving variance
// takes the Bessel-corrected batch variance when unbiased_moving_var is set
// (TensorFlow's fused kernel, used by Keras for 4-D input).
// Inference: the moving statistics. gamma/beta may be undefined (scale/center off).
struct BatchNormOptions {
  bool training = false;
  float momentum = 0.99f;
  float epsilon = 1e-3f;
  bool unbiased_moving_var = true;
};
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& moving_mean,
                  Tensor& moving_var, const BatchNormOptions& opt);

// The per-channel map an inference-mode batch norm applies, y = x * scale +
// shift: scale = gamma / sqrt(var + epsilon), shift = beta - mean * scale
// (gamma/beta may be undefined). Not recorded for autograd.
struct BatchNormAffine {
  Tensor scale, shift;
};
BatchNormAffine batch_norm_affine(const Tensor& gamma, const Tensor& beta, const Tensor& moving_mean,
                                  const Tensor& moving_var, float epsilon);

// Training: zeroes each value with probability `rate`, scales the rest by
// 1 / (1 - rate). Otherwise the identity.
Tensor dropout(const Tensor& x, float rate, bool training, Rng& rng);

// Per-image affine transforms of NHWC images, for Keras's random image
// layers (TensorFlow's ImageProjectiveTransformV3): output pixel (x =
// column, y = row) of image n reads the input at (a0 x + a1 y + a2,
// b0 x + b1 y + b2) of that image's map, brought into the image by the
// fill mode and sampled bilinearly or at the nearest pixel (halves rounded
// away from zero). reflect mirrors about the edge, (d c b a | a b c d |
// d c b a); wrap tiles; constant reads fill_value; nearest repeats the
// edge pixel.
enum class ImageFill { Reflect, Wrap, Constant, Nearest };
enum class ImageInterpolation { Bilinear, Nearest };
struct ImageTransform {
  std::vector<std::array<float, 6>> maps;  // {a0, a1, a2, b0, b1, b2}, one per image
  ImageFill fill_mode = ImageFill::Reflect;
  ImageInterpolation interpolation = ImageInterpolation::Bilinear;
  float fill_value = 0.0f;
};
Tensor image_transform(const Tensor& x, const ImageTransform& t);

// Per-image contrast and brightness of NHWC images, for Keras's
// RandomContrast and RandomBrightness: each channel of image n becomes
// (x - mean) * contrast[n] + mean (its mean over the image's pixels), then
// delta[n] is added, and the result clipped to [low, high]. An empty list
// leaves that step out.
struct ImageLevels {
  std::vector<float> contrast, delta;
  float low = 0.0f, high = 255.0f;
};
Tensor image_levels(const Tensor& x, const ImageLevels& l);

// Losses return a scalar (shape ()), reduced as Keras's sum_over_batch_size.
// With from_logits the input is pre-softmax/sigmoid: the numerically stable
// fused path Keras takes when the last layer is softmax/sigmoid.
constexpr float kEpsilon = 1e-7f;  // Keras backend epsilon
// pred (N, K), labels (N) holding class indices.
Tensor sparse_categorical_crossentropy(const Tensor& pred, const Tensor& labels, bool from_logits);
Tensor categorical_crossentropy(const Tensor& pred, const Tensor& targets, bool from_logits);
Tensor binary_crossentropy(const Tensor& pred, const Tensor& targets, bool from_logits);
Tensor mean_squared_error(const Tensor& pred, const Tensor& targets);

// Fraction of correct predictions (not differentiable).
double sparse_categorical_accuracy(const Tensor& pred, const Tensor& labels);
double categorical_accuracy(const Tensor& pred, const Tensor& targets);
double binary_accuracy(const Tensor& pred, const Tensor& targets, float threshold = 0.5f);

}  // namespace cnn::ops
