// Element-wise activations and softmax. Backward uses the saved output where
// the derivative is a function of it (sigmoid, tanh, softmax, relu).
#include <algorithm>
#include <cmath>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "ops/cpu_ops.h"

namespace cnn::ops::cpu {

Tensor relu(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  const float* xs = x.data();
  float* ys = y.data();
  parallel_elementwise(y.numel(), [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) ys[i] = std::max(xs[i], 0.0f);
  });
  record(y, "relu", {x}, [x](const Tensor& out, const float* dy) {
    bool fresh = false;
    float* dx = x.grad_data_for_write(&fresh);
    const float* ys = out.data();
    parallel_elementwise(out.numel(), [=](int64_t b, int64_t e) {
      if (fresh)
        for (int64_t i = b; i < e; ++i) dx[i] = ys[i] > 0.0f ? dy[i] : 0.0f;
      else
        for (int64_t i = b; i < e; ++i) dx[i] += ys[i] > 0.0f ? dy[i] : 0.0f;
    });
  });
  return y;
}

// Element loops read through raw pointers: Tensor::operator[] checks the
// device on every call (and in wasm every call that can throw goes through JS).
Tensor sigmoid(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  const float* xs = x.data();
  float* ys = y.data();
  for (int64_t i = 0, n = y.numel(); i < n; ++i) {
    // Two branches so exp never overflows for large |x|.
    const float v = xs[i];
    ys[i] = v >= 0.0f ? 1.0f / (1.0f + std::exp(-v)) : std::exp(v) / (1.0f + std::exp(v));
  }
  record(y, "sigmoid", {x}, [x](const Tensor& out, const float* dy) {
    float* dx = x.grad_data();
    const float* ys = out.data();
    for (int64_t i = 0, n = out.numel(); i < n; ++i) dx[i] += dy[i] * ys[i] * (1.0f - ys[i]);
  });
  return y;
}

Tensor tanh(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  const float* xs = x.data();
  float* ys = y.data();
  for (int64_t i = 0, n = y.numel(); i < n; ++i) ys[i] = std::tanh(xs[i]);
  record(y, "tanh", {x}, [x](const Tensor& out, const float* dy) {
    float* dx = x.grad_data();
    const float* ys = out.data();
    for (int64_t i = 0, n = out.numel(); i < n; ++i) dx[i] += dy[i] * (1.0f - ys[i] * ys[i]);
  });
  return y;
}

Tensor softmax(const Tensor& x) {
  if (x.ndim() < 1) shape_fail("softmax", "input is a scalar, expected (..., classes)");
  const int64_t K = x.dim(-1), rows = K ? x.numel() / K : 0;
  Tensor y = Tensor::empty(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x.data() + r * K;
    float* o = y.data() + r * K;
    float m = in[0];
    for (int64_t k = 1; k < K; ++k) m = in[k] > m ? in[k] : m;
    float s = 0.0f;
    for (int64_t k = 0; k < K; ++k) s += (o[k] = std::exp(in[k] - m));
    for (int64_t k = 0; k < K; ++k) o[k] /= s;
  }
  // dx = y * (dy - sum(dy * y)) per row.
  record(y, "softmax", {x}, [x, K, rows](const Tensor& out, const float* dy) {
    float* dx = x.grad_data();
    for (int64_t r = 0; r < rows; ++r) {
      const float* yr = out.data() + r * K;
      const float* g = dy + r * K;
      float dot = 0.0f;
      for (int64_t k = 0; k < K; ++k) dot += g[k] * yr[k];
      for (int64_t k = 0; k < K; ++k) dx[r * K + k] += yr[k] * (g[k] - dot);
    }
  });
  return y;
}

}  // namespace cnn::ops::cpu
