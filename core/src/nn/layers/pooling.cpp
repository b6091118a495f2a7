// MaxPooling2D, AveragePooling2D and their global forms.
#include <nlohmann/json.hpp>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "nn/layers/layer_config.h"

namespace cnn::nn {

namespace {
std::string rank4(const std::string& who, const Shape& s) {
  return who + ": input has shape " + shape_str(s) + ", expected rank 4 (batch, height, width, channels)";
}
}  // namespace

Pooling2D::Pooling2D(bool is_max, Pool2DOptions opt, std::string name)
    : Layer(std::move(name)), max_(is_max), opt_(std::move(opt)) {
  for (int i = 0; i < 2; ++i)
    if (opt_.pool_size[i] < 1 || opt_.strides[i] < 0)
      throw ValueError(class_name() + ": pool_size must be >= 1 and strides >= 1");
  ops::parse_padding(opt_.padding, max_ ? "MaxPooling2D" : "AveragePooling2D");
}

ops::Pool2DOptions Pooling2D::op_options() const {
  ops::Pool2DOptions o;
  o.pool_h = opt_.pool_size[0];
  o.pool_w = opt_.pool_size[1];
  o.stride_h = opt_.strides[0] ? opt_.strides[0] : opt_.pool_size[0];
  o.stride_w = opt_.strides[1] ? opt_.strides[1] : opt_.pool_size[1];
  o.padding = ops::parse_padding(opt_.padding, "pooling");
  return o;
}

Shape Pooling2D::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  if (s.size() != 4) throw ShapeError(rank4(who(), s));
  const ops::Pool2DOptions o = op_options();
  const std::string w = who();
  auto gh = ops::axis_geometry(w.c_str(), "height", s[1], o.pool_h, o.stride_h, 1, o.padding);
  auto gw = ops::axis_geometry(w.c_str(), "width", s[2], o.pool_w, o.stride_w, 1, o.padding);
  return {s[0], gh.out, gw.out, s[3]};
}

Tensor Pooling2D::call(const std::vector<Tensor>& inputs, const CallContext&) {
  return max_ ? ops::max_pool2d(inputs.at(0), op_options()) : ops::avg_pool2d(inputs.at(0), op_options());
}

nlohmann::ordered_json Pooling2D::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["pool_size"] = pair_json(opt_.pool_size);
  c["padding"] = opt_.padding;
  const ops::Pool2DOptions o = op_options();
  c["strides"] = {o.stride_h, o.stride_w};
  c["data_format"] = "channels_last";
  return c;
}

GlobalPooling2D::GlobalPooling2D(bool is_max, std::string name) : Layer(std::move(name)), max_(is_max) {}

Shape GlobalPooling2D::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  if (s.size() != 4) throw ShapeError(rank4(who(), s));
  return {s[0], s[3]};
}

Tensor GlobalPooling2D::call(const std::vector<Tensor>& inputs, const CallContext&) {
  return max_ ? ops::global_max_pool2d(inputs.at(0)) : ops::global_avg_pool2d(inputs.at(0));
}

nlohmann::ordered_json GlobalPooling2D::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["data_format"] = "channels_last";
  c["keepdims"] = false;
  return c;
}

}  // namespace cnn::nn
