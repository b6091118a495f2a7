#include "cnn/nn/layer.h"

#include <cctype>
#include <cmath>

#include "cnn/error.h"
#include "cnn/nn/layers.h"

namespace cnn::nn {

void Layer::build(const std::vector<Shape>&, Rng&) { built_ = true; }

void Layer::set_trainable(bool on) {
  trainable_ = on;
  for (Weight& w : weights_) w.value.set_requires_grad(weight_trainable(w));
}

Weight& Layer::add_weight(const std::string& name, const Shape& shape, bool trainable_kind) {
  Weight w{name, Tensor(shape), trainable_kind};
  w.value.set_requires_grad(trainable_ && trainable_kind);
  weights_.push_back(std::move(w));
  return weights_.back();
}

int64_t Layer::count_params() const {
  int64_t n = 0;
  for (const Weight& w : weights_) n += w.value.numel();
  return n;
}

int64_t Layer::count_trainable_params() const {
  int64_t n = 0;
  for (const Weight& w : weights_)
    if (weight_trainable(w)) n += w.value.numel();
  return n;
}

std::string Layer::who() const { return name_.empty() ? class_name() : class_name() + " '" + name_ + "'"; }

// Keras's generic_utils.to_snake_case, its two regex substitutions done by
// hand: "(.)([A-Z][a-z0-9]+)" -> "\1_\2", then "([a-z])([A-Z])" -> "\1_\2".
std::string default_layer_name(const std::string& c) {
  auto upper = [](char ch) { return std::isupper(static_cast<unsigned char>(ch)) != 0; };
  auto lower_or_digit = [](char ch) {
    return std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch));
  };
  std::string a;
  size_t pos = 0;
  while (pos < c.size()) {
    size_t m = pos;
    while (m + 2 < c.size() && !(upper(c[m + 1]) && lower_or_digit(c[m + 2]))) ++m;
    if (m + 2 >= c.size()) {
      a += c.substr(pos);
      break;
    }
    a += c.substr(pos, m + 1 - pos) + "_" + c[m + 1];
    pos = m + 2;
    while (pos < c.size() && lower_or_digit(c[pos])) a += c[pos++];
  }
  std::string b;
  for (size_t i = 0; i < a.size(); ++i) {
    b += a[i];
    if (i + 1 < a.size() && std::islower(static_cast<unsigned char>(a[i])) && upper(a[i + 1])) {
      b += '_';
      b += a[++i];
    }
  }
  for (char& ch : b) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return b;
}

bool is_known_initializer(const std::string& n) {
  return n == "glorot_uniform" || n == "glorot_normal" || n == "he_uniform" || n == "he_normal" ||
         n == "lecun_uniform" || n == "lecun_normal" || n == "zeros" || n == "ones";
}

void initialize(Tensor& t, const std::string& init, int64_t fan_in, int64_t fan_out, Rng& rng) {
  float* p = t.data();
  const int64_t n = t.numel();
  auto uniform = [&](double limit) {
    for (int64_t i = 0; i < n; ++i) p[i] = rng.uniform(static_cast<float>(-limit), static_cast<float>(limit));
  };
  // Keras's *_normal initializers draw a normal truncated at 2 stddev, whose
  // stddev is then 0.87962566 of the untruncated one: divide it back out.
  auto truncated = [&](double stddev) {
    const double s = stddev / 0.87962566103423978;
    for (int64_t i = 0; i < n; ++i) {
      float v;
      do v = rng.normal();
      while (std::fabs(v) > 2.0f);
      p[i] = static_cast<float>(v * s);
    }
  };
  const double fi = static_cast<double>(fan_in), fo = static_cast<double>(fan_out);
  if (init == "zeros")
    t.fill(0.0f);
  else if (init == "ones")
    t.fill(1.0f);
  else if (init == "glorot_uniform")
    uniform(std::sqrt(6.0 / (fi + fo)));
  else if (init == "glorot_normal")
    truncated(std::sqrt(2.0 / (fi + fo)));
  else if (init == "he_uniform")
    uniform(std::sqrt(6.0 / fi));
  else if (init == "he_normal")
    truncated(std::sqrt(2.0 / fi));
  else if (init == "lecun_uniform")
    uniform(std::sqrt(3.0 / fi));
  else if (init == "lecun_normal")
    truncated(std::sqrt(1.0 / fi));
  else
    throw ValueError("initializer '" + init +
                     "' is not supported, expected one of glorot_uniform, glorot_normal, "
                     "he_uniform, he_normal, lecun_uniform, lecun_normal, zeros, ones");
}

}  // namespace cnn::nn
