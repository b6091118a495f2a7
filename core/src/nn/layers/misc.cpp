// Activation, BatchNormalization, Dropout, Rescaling, Add and Concatenate.
#include <cmath>
#include <nlohmann/json.hpp>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "nn/layers/layer_config.h"

namespace cnn::nn {

// ---- Activation ---------------------------------------------------------------

Activation::Activation(std::string activation, std::string name)
    : Layer(std::move(name)), activation_(std::move(activation)) {
  if (!ops::is_known_activation(activation_))
    throw ValueError("Activation: '" + activation_ +
                     "' is not supported, expected one of linear, relu, sigmoid, tanh, softmax");
}

Shape Activation::compute_output_shape(const std::vector<Shape>& in) const { return single_input(who(), in); }

Tensor Activation::call(const std::vector<Tensor>& inputs, const CallContext& ctx) {
  return ctx.skip_activation ? inputs.at(0) : ops::activation(inputs.at(0), activation_);
}

nlohmann::ordered_json Activation::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["activation"] = activation_;
  return c;
}

// ---- BatchNormalization ---------------------------------------------------------

BatchNormalization::BatchNormalization(BatchNormOptions opt, std::string name)
    : Layer(std::move(name)), opt_(opt) {
  if (!(opt_.epsilon > 0.0f)) throw ValueError("BatchNormalization: epsilon must be > 0");
  if (!(opt_.momentum >= 0.0f && opt_.momentum <= 1.0f))
    throw ValueError("BatchNormalization: momentum must be in [0, 1]");
}

Shape BatchNormalization::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  if (s.size() < 2)
    throw ShapeError(who() + ": input has shape " + shape_str(s) + ", expected (batch, ..., channels)");
  const int64_t last = static_cast<int64_t>(s.size()) - 1;
  // An axis past the input's last is this engine's own old files: it wrote
  // [3] whatever the rank (Keras refuses that), meaning the channels axis.
  if (opt_.axis != -1 && opt_.axis < last)
    throw ShapeError(str_cat(who(), ": axis ", opt_.axis, " of input ", shape_str(s),
                             " is not supported, expected the channels axis (-1 or ", last, ")"));
  return s;
}

void BatchNormalization::build(const std::vector<Shape>& in, Rng&) {
  const int64_t c = in.at(0).back();
  rank_ = static_cast<int64_t>(in.at(0).size());
  if (opt_.scale) add_weight("gamma", {c}, true).value.fill(1.0f);
  if (opt_.center) add_weight("beta", {c}, true);
  add_weight("moving_mean", {c}, false);
  add_weight("moving_variance", {c}, false).value.fill(1.0f);
  mark_built();
}

Tensor BatchNormalization::call(const std::vector<Tensor>& inputs, const CallContext& ctx) {
  size_t i = 0;
  Tensor gamma = opt_.scale ? weights()[i++].value : Tensor();
  Tensor beta = opt_.center ? weights()[i++].value : Tensor();
  ops::BatchNormOptions o;
  // A frozen BatchNormalization runs in inference mode (Keras >= 2.1 semantics).
  o.training = !uses_moving_statistics(ctx);
  o.momentum = opt_.momentum;
  o.epsilon = opt_.epsilon;
  // Keras takes TensorFlow's fused kernel for 4-D input, whose moving variance
  // uses the Bessel-corrected batch variance; other ranks use the biased one.
  o.unbiased_moving_var = inputs.at(0).ndim() == 4;
  return ops::batch_norm(inputs[0], gamma, beta, weights()[i].value, weights()[i + 1].value, o);
}

ops::BatchNormAffine BatchNormalization::inference_affine() const {
  size_t i = 0;
  const Tensor gamma = opt_.scale ? weights()[i++].value : Tensor();
  const Tensor beta = opt_.center ? weights()[i++].value : Tensor();
  return ops::batch_norm_affine(gamma, beta, weights()[i].value, weights()[i + 1].value, opt_.epsilon);
}

bool BatchNormalization::any_weight_requires_grad() const {
  for (const Weight& w : weights())
    if (w.value.requires_grad()) return true;
  return false;
}

nlohmann::ordered_json BatchNormalization::config() const {
  nlohmann::ordered_json c = base_config(*this);
  // Keras stores the positive index once built ([3] on images, [1] after Dense).
  if (rank_ > 0)
    c["axis"] = {rank_ - 1};
  else
    c["axis"] = opt_.axis;
  c["momentum"] = float_json(opt_.momentum);
  c["epsilon"] = float_json(opt_.epsilon);
  c["center"] = opt_.center;
  c["scale"] = opt_.scale;
  c["beta_initializer"] = initializer_json("zeros");
  c["gamma_initializer"] = initializer_json("ones");
  c["moving_mean_initializer"] = initializer_json("zeros");
  c["moving_variance_initializer"] = initializer_json("ones");
  for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
    c[k] = nullptr;
  return c;
}

// ---- Dropout --------------------------------------------------------------------

Dropout::Dropout(float rate, std::string name) : Layer(std::move(name)), rate_(rate) {
  if (!(rate_ >= 0.0f && rate_ < 1.0f))
    throw ValueError(str_cat("Dropout: rate ", rate_, " is out of range, expected 0 <= rate < 1"));
}

Shape Dropout::compute_output_shape(const std::vector<Shape>& in) const { return single_input(who(), in); }

Tensor Dropout::call(const std::vector<Tensor>& inputs, const CallContext& ctx) {
  if (!ctx.training) return inputs.at(0);
  if (!ctx.rng) throw ValueError(who() + ": training needs a random generator");
  return ops::dropout(inputs.at(0), rate_, true, *ctx.rng);
}

nlohmann::ordered_json Dropout::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["rate"] = float_json(rate_);
  c["noise_shape"] = nullptr;
  c["seed"] = nullptr;
  return c;
}

// ---- Rescaling ------------------------------------------------------------------

Rescaling::Rescaling(float scale, float offset, std::string name)
    : Layer(std::move(name)), scale_(scale), offset_(offset) {}

Shape Rescaling::compute_output_shape(const std::vector<Shape>& in) const { return single_input(who(), in); }

Tensor Rescaling::call(const std::vector<Tensor>& inputs, const CallContext&) {
  return ops::scale_shift(inputs.at(0), scale_, offset_);
}

nlohmann::ordered_json Rescaling::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["scale"] = float_json(scale_);
  c["offset"] = float_json(offset_);
  return c;
}

// ---- Add, Concatenate -------------------------------------------------------------

Shape Add::compute_output_shape(const std::vector<Shape>& in) const {
  if (in.size() < 2) throw ShapeError(str_cat(who(), ": expected at least 2 inputs, got ", in.size()));
  for (const Shape& s : in)
    if (s != in[0])
      throw ShapeError(who() + ": inputs have shapes " + shape_str(in[0]) + " and " + shape_str(s) +
                       ", expected equal shapes");
  return in[0];
}

Tensor Add::call(const std::vector<Tensor>& inputs, const CallContext&) {
  Tensor y = inputs.at(0);
  for (size_t i = 1; i < inputs.size(); ++i) y = ops::add(y, inputs[i]);
  return y;
}

nlohmann::ordered_json Add::config() const { return base_config(*this); }

Concatenate::Concatenate(int axis, std::string name) : Layer(std::move(name)), axis_(axis) {}

Shape Concatenate::compute_output_shape(const std::vector<Shape>& in) const {
  if (in.size() < 2) throw ShapeError(str_cat(who(), ": expected at least 2 inputs, got ", in.size()));
  const int rank = static_cast<int>(in[0].size());
  const int axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis <= 0 || axis >= rank) throw ShapeError(str_cat(who(), ": axis ", axis_, " is out of range"));
  Shape out = in[0];
  out[axis] = 0;
  for (const Shape& s : in) {
    Shape a = s, b = in[0];
    if (a.size() == b.size()) a[axis] = b[axis] = 0;
    if (a != b)
      throw ShapeError(str_cat(who(), ": inputs ", shape_str(in[0]), " and ", shape_str(s),
                               " must match except on the concatenation axis ", axis_));
    out[axis] += s[axis];
  }
  return out;
}

Tensor Concatenate::call(const std::vector<Tensor>& inputs, const CallContext&) {
  return ops::concat(inputs, axis_);
}

nlohmann::ordered_json Concatenate::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["axis"] = axis_;
  return c;
}

}  // namespace cnn::nn
