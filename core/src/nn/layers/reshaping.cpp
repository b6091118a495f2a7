// InputLayer, Flatten, Reshape and ZeroPadding2D: layers that change shapes.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "nn/layers/layer_config.h"

namespace cnn::nn {

namespace {
// The values one sample holds: its shape's product, refused (naming the
// layer) where it overflows or passes what one tensor may hold.
int64_t sample_values(const std::string& who, const Shape& s, size_t first = 1) {
  int64_t n = 0;
  if (!checked_shape_numel(Shape(s.begin() + static_cast<std::ptrdiff_t>(first), s.end()), &n) ||
      static_cast<uint64_t>(n) > kMaxTensorElements)
    throw ShapeError(str_cat(who, ": input shape ", shape_str(s),
                             " holds more values per sample than one tensor ", "may (", kMaxTensorElements,
                             ")"));
  return n;
}
}  // namespace

InputLayer::InputLayer(Shape shape, std::string name) : Layer(std::move(name)), shape_(std::move(shape)) {
  if (shape_.empty()) throw ValueError("InputLayer: shape must have at least one dimension");
  for (int64_t d : shape_)
    if (d < 1)
      throw ValueError("InputLayer: every dimension of the input shape " + shape_str(shape_) +
                       " must be >= 1");
  sample_values("InputLayer", shape_, 0);
}

Shape InputLayer::compute_output_shape(const std::vector<Shape>&) const {
  Shape s{-1};
  s.insert(s.end(), shape_.begin(), shape_.end());
  return s;
}

Tensor InputLayer::call(const std::vector<Tensor>& inputs, const CallContext&) { return inputs.at(0); }

nlohmann::ordered_json InputLayer::config() const {
  nlohmann::ordered_json shape = nlohmann::ordered_json::array({nullptr});
  for (int64_t d : shape_) shape.push_back(d);
  return {{"batch_input_shape", shape},
          {"dtype", "float32"},
          {"sparse", false},
          {"ragged", false},
          {"name", name()}};
}

Shape Flatten::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  if (s.size() < 2) throw ShapeError(who() + ": input has shape " + shape_str(s) + ", expected (batch, ...)");
  return {s[0], sample_values(who(), s)};
}

Tensor Flatten::call(const std::vector<Tensor>& inputs, const CallContext&) {
  return ops::flatten(inputs.at(0));
}

nlohmann::ordered_json Flatten::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["data_format"] = "channels_last";
  return c;
}

Reshape::Reshape(Shape target, std::string name) : Layer(std::move(name)), target_(std::move(target)) {
  int unknown = 0;
  for (int64_t d : target_) {
    if (d == -1)
      ++unknown;
    else if (d < 1)
      throw ValueError("Reshape: target_shape " + shape_str(target_) + " has a dimension < 1");
  }
  if (unknown > 1) throw ValueError("Reshape: target_shape " + shape_str(target_) + " has more than one -1");
  Shape known = target_;
  std::replace(known.begin(), known.end(), int64_t{-1}, int64_t{1});
  sample_values("Reshape", known, 0);
}

Shape Reshape::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  const int64_t n = sample_values(who(), s);
  int64_t known = 1;
  Shape out{s[0]};
  for (int64_t d : target_) {
    if (d != -1) known *= d;
    out.push_back(d);
  }
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i] == -1) {
      if (n % known) break;
      out[i] = n / known, known = n;
    }
  if (known != n)
    throw ShapeError(str_cat(who(), ": cannot reshape input ", shape_str(s), " (", n,
                             " values per sample) into target_shape ", shape_str(target_)));
  return out;
}

Tensor Reshape::call(const std::vector<Tensor>& inputs, const CallContext&) {
  Shape s{inputs.at(0).dim(0)};
  s.insert(s.end(), target_.begin(), target_.end());
  return ops::reshape(inputs[0], s);
}

nlohmann::ordered_json Reshape::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["target_shape"] = target_;
  return c;
}

ZeroPadding2D::ZeroPadding2D(std::array<std::array<int64_t, 2>, 2> padding, std::string name)
    : Layer(std::move(name)), pad_(padding) {
  for (auto& p : pad_)
    if (p[0] < 0 || p[1] < 0) throw ValueError("ZeroPadding2D: padding must be >= 0");
}

Shape ZeroPadding2D::compute_output_shape(const std::vector<Shape>& in) const {
  const Shape& s = single_input(who(), in);
  if (s.size() != 4)
    throw ShapeError(who() + ": input has shape " + shape_str(s) +
                     ", expected rank 4 (batch, height, width, channels)");
  return {s[0], s[1] + pad_[0][0] + pad_[0][1], s[2] + pad_[1][0] + pad_[1][1], s[3]};
}

Tensor ZeroPadding2D::call(const std::vector<Tensor>& inputs, const CallContext&) {
  return ops::zero_padding2d(inputs.at(0), pad_[0][0], pad_[0][1], pad_[1][0], pad_[1][1]);
}

nlohmann::ordered_json ZeroPadding2D::config() const {
  nlohmann::ordered_json c = base_config(*this);
  c["padding"] = {pair_json(pad_[0]), pair_json(pad_[1])};
  c["data_format"] = "channels_last";
  return c;
}

}  // namespace cnn::nn
