// Accuracy metrics as Keras computes them: argmax match for (sparse)
// categorical, a threshold for binary. Ties in argmax go to the first index.
#include "cnn/error.h"
#include "cnn/ops.h"
#include "ops/cpu_ops.h"
#include "ops/shapes.h"

namespace cnn::ops::cpu {

namespace {
int64_t argmax_row(const float* p, int64_t K) {
  int64_t best = 0;
  for (int64_t k = 1; k < K; ++k)
    if (p[k] > p[best]) best = k;
  return best;
}
}  // namespace

double sparse_categorical_accuracy(const Tensor& pred, const Tensor& labels) {
  check_sparse_accuracy(pred, labels);
  const int64_t N = pred.dim(0), K = pred.dim(1);
  if (N == 0) return 0.0;
  int64_t hits = 0;
  for (int64_t n = 0; n < N; ++n)
    hits += argmax_row(pred.data() + n * K, K) == static_cast<int64_t>(labels[n]);
  return static_cast<double>(hits) / N;
}

double categorical_accuracy(const Tensor& pred, const Tensor& targets) {
  check_categorical_accuracy(pred, targets);
  const int64_t N = pred.dim(0), K = pred.dim(1);
  if (N == 0) return 0.0;
  int64_t hits = 0;
  for (int64_t n = 0; n < N; ++n)
    hits += argmax_row(pred.data() + n * K, K) == argmax_row(targets.data() + n * K, K);
  return static_cast<double>(hits) / N;
}

double binary_accuracy(const Tensor& pred, const Tensor& targets, float threshold) {
  check_binary_accuracy(pred, targets);
  const int64_t n = pred.numel();
  if (n == 0) return 0.0;
  int64_t hits = 0;
  const float *ps = pred.data(), *ts = targets.data();
  for (int64_t i = 0; i < n; ++i) hits += (ps[i] > threshold) == (ts[i] > 0.5f);
  return static_cast<double>(hits) / n;
}

}  // namespace cnn::ops::cpu
