// The public ops: each finds the device its inputs share and runs that
// device's implementation (backend/backend.h). Reshape, flatten and the
// activation-by-name switch need no device code and live here.
#include <cmath>
#include <cstdint>
#include <limits>

#include "backend/backend.h"
#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"

namespace cnn::ops {

namespace {
const backend::Backend& on(const char* op, std::initializer_list<const Tensor*> tensors) {
  return backend::backend(backend::common_device(op, tensors));
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt) {
  return on("conv2d", {&x, &w, &b}).conv2d(x, w, b, opt);
}

Tensor conv2d_inference(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt,
                        const ConvEpilogue& ep) {
  return on("conv2d_inference", {&x, &w, &b, &ep.scale, &ep.shift, &ep.residual})
      .conv2d_inference(x, w, b, opt, ep);
}

namespace {
// Max pooling records where each maximum came from as a 32-bit index into
// the whole input, for backward: an input past 2^31 values would wrap them
// (ResNet50's first pooling at batch 2,675), so training on one is refused.
void check_argmax_fits(const char* op, const Tensor& x) {
  if (x.numel() > std::numeric_limits<int32_t>::max() && any_requires_grad({x}))
    throw ShapeError(
        str_cat(op, ": input ", shape_str(x.shape()), " holds ", x.numel(),
                " values, more than training through it can index (2^31 - 1): use a smaller batch"));
}
}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2DOptions& opt) {
  check_argmax_fits("max_pool2d", x);
  return on("max_pool2d", {&x}).max_pool2d(x, opt);
}
Tensor avg_pool2d(const Tensor& x, const Pool2DOptions& opt) {
  return on("avg_pool2d", {&x}).avg_pool2d(x, opt);
}
Tensor global_avg_pool2d(const Tensor& x) { return on("global_avg_pool2d", {&x}).global_avg_pool2d(x); }
Tensor global_max_pool2d(const Tensor& x) {
  check_argmax_fits("global_max_pool2d", x);
  return on("global_max_pool2d", {&x}).global_max_pool2d(x);
}

Tensor dense(const Tensor& x, const Tensor& w, const Tensor& b) {
  return on("dense", {&x, &w, &b}).dense(x, w, b);
}

Tensor image_transform(const Tensor& x, const ImageTransform& t) {
  if (x.ndim() != 4)
    throw ShapeError("image_transform: input " + shape_str(x.shape()) +
                     " must be 4-D (batch, height, width, channels)");
  if (static_cast<int64_t>(t.maps.size()) != x.dim(0))
    throw ShapeError(str_cat("image_transform: ", t.maps.size(), " maps for ", x.dim(0), " images"));
  // Pixel coordinates exact in float, pixel indices in int32.
  if (x.dim(1) >= (int64_t{1} << 24) || x.dim(2) >= (int64_t{1} << 24) ||
      x.dim(1) * x.dim(2) > std::numeric_limits<int32_t>::max())
    throw ShapeError("image_transform: images of " + shape_str(x.shape()) + " are too large to transform");
  // Coordinates stay far inside the integers the fill modes convert them to.
  for (const std::array<float, 6>& m : t.maps)
    for (float v : m)
      if (!(std::abs(v) < 1e8f))
        throw ValueError(str_cat("image_transform: map entry ", v, " is not a finite number below 1e8"));
  return on("image_transform", {&x}).image_transform(x, t);
}

Tensor image_levels(const Tensor& x, const ImageLevels& l) {
  if (x.ndim() != 4)
    throw ShapeError("image_levels: input " + shape_str(x.shape()) +
                     " must be 4-D (batch, height, width, channels)");
  for (const std::vector<float>* v : {&l.contrast, &l.delta})
    if (!v->empty() && static_cast<int64_t>(v->size()) != x.dim(0))
      throw ShapeError(str_cat("image_levels: ", v->size(), " values for ", x.dim(0), " images"));
  if (!(l.low <= l.high))
    throw ValueError(str_cat("image_levels: the range [", l.low, ", ", l.high, "] is empty"));
  return on("image_levels", {&x}).image_levels(x, l);
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = x.view(shape);  // shares storage: no copy
  record(y, "reshape", {x}, [x](const Tensor& out, const float* dy) {
    backend::backend(x.device()).accumulate(x.device_grad(), dy, out.numel());
  });
  return y;
}

Tensor flatten(const Tensor& x) {
  if (x.ndim() < 1) shape_fail("flatten", "input is a scalar, expected (batch, ...)");
  return reshape(x, {x.dim(0), x.dim(0) == 0 ? 0 : -1});
}

Tensor zero_padding2d(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  return on("zero_padding2d", {&x}).zero_padding2d(x, top, bottom, left, right);
}

Tensor add(const Tensor& a, const Tensor& b) { return on("add", {&a, &b}).add(a, b); }

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  if (xs.empty()) throw ValueError("concat: no inputs");
  for (const Tensor& t : xs) backend::common_device("concat", {&xs[0], &t});
  return backend::backend(xs[0].device()).concat(xs, axis);
}

Tensor sum_product(const Tensor& x, const Tensor& g) { return on("sum_product", {&x, &g}).sum_product(x, g); }
Tensor scale_shift(const Tensor& x, float scale, float offset) {
  return on("scale_shift", {&x}).scale_shift(x, scale, offset);
}

Tensor relu(const Tensor& x) { return on("relu", {&x}).relu(x); }
Tensor sigmoid(const Tensor& x) { return on("sigmoid", {&x}).sigmoid(x); }
Tensor tanh(const Tensor& x) { return on("tanh", {&x}).tanh(x); }
Tensor softmax(const Tensor& x) { return on("softmax", {&x}).softmax(x); }

bool is_known_activation(const std::string& name) {
  return name == "linear" || name == "relu" || name == "sigmoid" || name == "tanh" || name == "softmax";
}

Tensor activation(const Tensor& x, const std::string& name) {
  if (name == "linear") return x;
  if (name == "relu") return relu(x);
  if (name == "sigmoid") return sigmoid(x);
  if (name == "tanh") return tanh(x);
  if (name == "softmax") return softmax(x);
  throw ValueError("activation: '" + name +
                   "' is not supported, expected one of linear, relu, sigmoid, tanh, softmax");
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& moving_mean,
                  Tensor& moving_var, const BatchNormOptions& opt) {
  return on("batch_norm", {&x, &gamma, &beta, &moving_mean, &moving_var})
      .batch_norm(x, gamma, beta, moving_mean, moving_var, opt);
}

BatchNormAffine batch_norm_affine(const Tensor& gamma, const Tensor& beta, const Tensor& moving_mean,
                                  const Tensor& moving_var, float epsilon) {
  return on("batch_norm_affine", {&gamma, &beta, &moving_mean, &moving_var})
      .batch_norm_affine(gamma, beta, moving_mean, moving_var, epsilon);
}

Tensor dropout(const Tensor& x, float rate, bool training, Rng& rng) {
  return on("dropout", {&x}).dropout(x, rate, training, rng);
}

Tensor sparse_categorical_crossentropy(const Tensor& pred, const Tensor& labels, bool from_logits) {
  return on("sparse_categorical_crossentropy", {&pred, &labels})
      .sparse_categorical_crossentropy(pred, labels, from_logits);
}
Tensor categorical_crossentropy(const Tensor& pred, const Tensor& targets, bool from_logits) {
  return on("categorical_crossentropy", {&pred, &targets})
      .categorical_crossentropy(pred, targets, from_logits);
}
Tensor binary_crossentropy(const Tensor& pred, const Tensor& targets, bool from_logits) {
  return on("binary_crossentropy", {&pred, &targets}).binary_crossentropy(pred, targets, from_logits);
}
Tensor mean_squared_error(const Tensor& pred, const Tensor& targets) {
  return on("mean_squared_error", {&pred, &targets}).mean_squared_error(pred, targets);
}

double sparse_categorical_accuracy(const Tensor& pred, const Tensor& labels) {
  return on("accuracy", {&pred, &labels}).sparse_categorical_accuracy(pred, labels);
}
double categorical_accuracy(const Tensor& pred, const Tensor& targets) {
  return on("accuracy", {&pred, &targets}).categorical_accuracy(pred, targets);
}
double binary_accuracy(const Tensor& pred, const Tensor& targets, float threshold) {
  return on("accuracy", {&pred, &targets}).binary_accuracy(pred, targets, threshold);
}

}  // namespace cnn::ops
