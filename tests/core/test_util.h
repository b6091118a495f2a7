// Shared test helpers: fixture loading, finite differences, comparisons.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cnn/tensor.h"

namespace cnn::test {

// A PyTorch-made fixture (tests/fixtures/torch/<case>.json).
struct Fixture {
  nlohmann::json params;
  std::map<std::string, Tensor> tensors;
  const Tensor& at(const std::string& name) const;
};
Fixture load_fixture(const std::string& case_name);
Fixture load_fixture_file(const std::string& path);  // any file in that format
std::string fixture_path(const std::string& relative);
std::string read_text(const std::string& path);

// max |a - b| / max(max|b|, scale_floor): relative to the reference's scale,
// so a near-zero entry cannot blow the figure up while large errors still
// show. A larger floor suits a tensor that may be only rounding noise around
// zero, where noise divided by noise means nothing.
double rel_error(const Tensor& a, const Tensor& b, double scale_floor = 1e-12);
double rel_error(const float* a, const float* b, int64_t n, double scale_floor = 1e-12);

// Back-propagates L = sum(y * gy) through y's graph (a VJP with gy).
void backward_with(const Tensor& y, const Tensor& gy);

Tensor random_tensor(const Shape& shape, uint64_t seed, float scale = 1.0f);

// The message of the E that f throws, or "" when it throws none.
template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

// Central finite-difference check of d(sum(f(inputs) * gy))/d(input k) for
// every input that requires grad. Returns the worst relative error.
double gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                 double eps = 1e-2, uint64_t seed = 7);

}  // namespace cnn::test
