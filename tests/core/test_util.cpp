#include "test_util.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cnn/autograd.h"
#include "cnn/rng.h"

namespace cnn::test {

std::string fixture_path(const std::string& relative) {
  return std::string(CNN_FIXTURES_DIR) + "/" + relative;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {
std::vector<uint8_t> base64_decode(const std::string& s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = value(c);
    if (v < 0) continue;  // '=' padding, whitespace
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  return out;
}
}  // namespace

const Tensor& Fixture::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw std::runtime_error("fixture has no tensor '" + name + "'");
  return it->second;
}

Fixture load_fixture(const std::string& case_name) {
  return load_fixture_file(fixture_path("torch/" + case_name + ".json"));
}

Fixture load_fixture_file(const std::string& path) {
  auto j = nlohmann::json::parse(read_text(path));
  Fixture f;
  f.params = j.value("params", nlohmann::json::object());
  for (auto& [name, t] : j["tensors"].items()) {
    Shape shape = t["shape"].get<Shape>();
    std::vector<uint8_t> bytes = base64_decode(t["b64"].get<std::string>());
    Tensor tensor(shape);
    if (static_cast<int64_t>(bytes.size()) != tensor.numel() * 4)
      throw std::runtime_error("fixture tensor '" + name + "' has the wrong byte count");
    std::memcpy(tensor.data(), bytes.data(), bytes.size());  // little-endian float32, as x86/wasm
    f.tensors[name] = tensor;
  }
  return f;
}

double rel_error(const float* a, const float* b, int64_t n, double scale_floor) {
  double scale = scale_floor, worst = 0.0;
  for (int64_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  for (int64_t i = 0; i < n; ++i) {
    double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  return worst / scale;
}

double rel_error(const Tensor& a, const Tensor& b, double scale_floor) {
  if (a.shape() != b.shape())
    throw std::runtime_error("rel_error: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()));
  return rel_error(a.data(), b.data(), a.numel(), scale_floor);
}

Tensor random_tensor(const Shape& shape, uint64_t seed, float scale) {
  Tensor t(shape);
  Rng rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.normal() * scale;
  return t;
}

void backward_with(const Tensor& y, const Tensor& gy) {
  Tensor loss(Shape{});
  double s = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * gy[i];
  loss[0] = static_cast<float>(s);
  record(loss, "dot", {y}, [y, gy](const Tensor&, const float* dl) {
    float* dy = y.grad_data();
    for (int64_t i = 0; i < y.numel(); ++i) dy[i] += dl[0] * gy[i];
  });
  loss.backward();
}

double gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                 double eps, uint64_t seed) {
  // Analytic: L = sum(y * gy).
  Tensor y0;
  {
    NoGradGuard ng;
    y0 = f(inputs);
  }
  Tensor gy = random_tensor(y0.shape(), seed);
  for (Tensor& t : inputs) t.zero_grad();
  backward_with(f(inputs), gy);
  auto objective = [&]() {
    NoGradGuard ng;
    Tensor out = f(inputs);
    double s = 0.0;
    for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(out[i]) * gy[i];
    return s;
  };
  double worst = 0.0;
  for (Tensor& t : inputs) {
    if (!t.requires_grad()) continue;
    std::vector<float> numeric(static_cast<size_t>(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) {
      const float orig = t[i];
      t[i] = static_cast<float>(orig + eps);
      const double up = objective();
      t[i] = static_cast<float>(orig - eps);
      const double down = objective();
      t[i] = orig;
      numeric[static_cast<size_t>(i)] = static_cast<float>((up - down) / (2 * eps));
    }
    worst = std::max(worst, rel_error(t.grad().data(), numeric.data(), t.numel()));
  }
  return worst;
}

}  // namespace cnn::test
