// Conv2D and Dense: the two layers with kernels.
#include <nlohmann/json.hpp>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "nn/layers/layer_config.h"

namespace cnn::nn {

const Shape& single_input(const std::string& who, const std::vector<Shape>& in) {
  if (in.size() != 1) throw ShapeError(str_cat(who, ": expected 1 input, got ", in.size()));
  return in[0];
}

// ---- Conv2D -----------------------------------------------------------------

Conv2D::Conv2D(Conv2DOptions opt, std::string name) : Layer(std::move(name)), opt_(std::move(opt)) {
  const std::string w = "Conv2D";
  if (opt_.filters < 1) throw ValueError(str_cat(w, ": filters must be >= 1, got ", opt_.filters));
  for (int i = 0; i < 2; ++i)
    if (opt_.kernel_size[i] < 1 || opt_.strides[i] < 1 || opt_.dilation_rate[i] < 1)
      throw ValueError(w + ": kernel_size, strides and dilation_rate must be >= 1");
  if ((opt_.strides[0] > 1 || opt_.strides[1] > 1) &&
      (opt_.dilation_rate[0] > 1 || opt_.dilation_rate[1] > 1))
    throw ValueError(w + ": strides > 1 together with dilation_rate > 1 is not supported (as in Keras)");
  ops::parse_padding(opt_.padding, "Conv2D");
  if (!ops::is_known_activation(opt_.activation))
    throw ValueError(w + ": activation '" + opt_.activation +
                     "' is not supported, expected one of linear, relu, sigmoid, tanh, softmax");
  for (const std::string* init : {&opt_.kernel_initializer, &opt_.bias_initializer})
    if (!is_known_initializer(*init)) throw ValueError(w + ": unknown initializer '" + *init + "'");
}

ops::Conv2DOptions Conv2D::op_options() const {
  ops::Conv2DOptions o;
  o.stride_h = opt_.strides[0];
  o.stride_w = opt_.strides[1];
  o.padding = ops::parse_padding(opt_.padding, "Conv2D");
  o.dilation_h = opt_.dilation_rate[0];
  o.dilation_w = opt_.dilation_rate[1];
  return o;
}

Shape Conv2D::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  if (s.size() != 4)
    throw ShapeError(who() + ": input has shape " + shape_str(s) +
                     ", expected rank 4 (batch, height, width, channels)");
  const ops::Conv2DOptions o = op_options();
  const std::string w = who();
  auto gh =
      ops::axis_geometry(w.c_str(), "height", s[1], opt_.kernel_size[0], o.stride_h, o.dilation_h, o.padding);
  auto gw =
      ops::axis_geometry(w.c_str(), "width", s[2], opt_.kernel_size[1], o.stride_w, o.dilation_w, o.padding);
  return {s[0], gh.out, gw.out, opt_.filters};
}

void Conv2D::build(const std::vector<Shape>& in, Rng& rng) {
  const Shape& s = in.at(0);
  const int64_t kh = opt_.kernel_size[0], kw = opt_.kernel_size[1], c = s[3];
  Weight& k = add_weight("kernel", {kh, kw, c, opt_.filters}, true);
  initialize(k.value, opt_.kernel_initializer, kh * kw * c, kh * kw * opt_.filters, rng);
  if (opt_.use_bias) {
    Weight& b = add_weight("bias", {opt_.filters}, true);
    initialize(b.value, opt_.bias_initializer, opt_.filters, opt_.filters, rng);
  }
  mark_built();
}

Tensor Conv2D::call(const std::vector<Tensor>& inputs, const CallContext& ctx) {
  Tensor bias = opt_.use_bias ? weights()[1].value : Tensor();
  ops::Conv2DOptions o = op_options();
  o.relu = opt_.activation == "relu" && !ctx.skip_activation;  // fused into the conv's own passes
  Tensor y = ops::conv2d(inputs.at(0), weights()[0].value, bias, o);
  return ctx.skip_activation || o.relu ? y : ops::activation(y, opt_.activation);
}

nlohmann::ordered_json Conv2D::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["filters"] = opt_.filters;
  c["kernel_size"] = pair_json(opt_.kernel_size);
  c["strides"] = pair_json(opt_.strides);
  c["padding"] = opt_.padding;
  c["data_format"] = "channels_last";
  c["dilation_rate"] = pair_json(opt_.dilation_rate);
  c["groups"] = 1;
  c["activation"] = opt_.activation;
  c["use_bias"] = opt_.use_bias;
  c["kernel_initializer"] = initializer_json(opt_.kernel_initializer);
  c["bias_initializer"] = initializer_json(opt_.bias_initializer);
  for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                        "bias_constraint"})
    c[k] = nullptr;
  return c;
}

// ---- Dense ------------------------------------------------------------------

Dense::Dense(DenseOptions opt, std::string name) : Layer(std::move(name)), opt_(std::move(opt)) {
  if (opt_.units < 1) throw ValueError(str_cat("Dense: units must be >= 1, got ", opt_.units));
  if (!ops::is_known_activation(opt_.activation))
    throw ValueError("Dense: activation '" + opt_.activation +
                     "' is not supported, expected one of linear, relu, sigmoid, tanh, softmax");
  for (const std::string* init : {&opt_.kernel_initializer, &opt_.bias_initializer})
    if (!is_known_initializer(*init)) throw ValueError("Dense: unknown initializer '" + *init + "'");
}

Shape Dense::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  if (s.size() < 2)
    throw ShapeError(who() + ": input has shape " + shape_str(s) + ", expected (batch, features)");
  // Like Keras, a Dense on (batch, ..., features) acts on the last axis.
  Shape out = s;
  out.back() = opt_.units;
  return out;
}

void Dense::build(const std::vector<Shape>& in, Rng& rng) {
  const int64_t fan_in = in.at(0).back();
  Weight& k = add_weight("kernel", {fan_in, opt_.units}, true);
  initialize(k.value, opt_.kernel_initializer, fan_in, opt_.units, rng);
  if (opt_.use_bias) {
    Weight& b = add_weight("bias", {opt_.units}, true);
    initialize(b.value, opt_.bias_initializer, opt_.units, opt_.units, rng);
  }
  mark_built();
}

Tensor Dense::call(const std::vector<Tensor>& inputs, const CallContext& ctx) {
  Tensor bias = opt_.use_bias ? weights()[1].value : Tensor();
  Tensor y = ops::dense(inputs.at(0), weights()[0].value, bias);
  return ctx.skip_activation ? y : ops::activation(y, opt_.activation);
}

nlohmann::ordered_json Dense::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["units"] = opt_.units;
  c["activation"] = opt_.activation;
  c["use_bias"] = opt_.use_bias;
  c["kernel_initializer"] = initializer_json(opt_.kernel_initializer);
  c["bias_initializer"] = initializer_json(opt_.bias_initializer);
  for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                        "bias_constraint"})
    c[k] = nullptr;
  return c;
}

}  // namespace cnn::nn
