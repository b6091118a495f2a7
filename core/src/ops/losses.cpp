// Keras's losses, reduced with sum_over_batch_size (the mean of the
// per-sample losses). From probabilities they follow Keras 2's backend:
//   categorical:  q = p / sum(p), clipped to [eps, 1 - eps], -sum(t * log q)
//   sparse:       q = clip(p) / sum(clip(p)), -log q[label]
//   binary:       p clipped, -(t log(p + eps) + (1 - t) log(1 - p + eps)), mean over classes
// From logits (the fused path when the last layer is softmax/sigmoid) they use
// log-sum-exp forms that cannot overflow; the gradient is (softmax - t) / N.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"
#include "ops/cpu_ops.h"
#include "ops/shapes.h"

namespace cnn::ops::cpu {

namespace {

// Per-row categorical cross-entropy on probabilities; writes dL/dp row.
double cce_row_probs(const float* p, const float* t, int64_t K, float scale, float* dp) {
  double sum = 0.0;
  for (int64_t k = 0; k < K; ++k) sum += p[k];
  if (sum <= 0.0) sum = kEpsilon;
  double loss = 0.0, gq_dot_q = 0.0;
  std::vector<double> gq(K);
  for (int64_t k = 0; k < K; ++k) {
    double q = p[k] / sum;
    bool clipped = q < kEpsilon || q > 1.0 - kEpsilon;
    double qc = std::min(std::max(q, static_cast<double>(kEpsilon)), 1.0 - kEpsilon);
    loss -= t[k] * std::log(qc);
    gq[k] = clipped ? 0.0 : -t[k] / qc;
    gq_dot_q += gq[k] * q;
  }
  if (dp)  // dq_j/dp_i = (delta_ij - q_j) / sum
    for (int64_t k = 0; k < K; ++k) dp[k] += static_cast<float>(scale * (gq[k] - gq_dot_q) / sum);
  return loss;
}

// Per-row cross-entropy on logits; writes dL/dz = scale * (softmax(z) - t).
double cce_row_logits(const float* z, const float* t, int64_t K, float scale, float* dz) {
  float m = z[0];
  for (int64_t k = 1; k < K; ++k) m = std::max(m, z[k]);
  double s = 0.0, tsum = 0.0, tz = 0.0;
  for (int64_t k = 0; k < K; ++k) {
    s += std::exp(static_cast<double>(z[k]) - m);
    tsum += t[k];
    tz += t[k] * (static_cast<double>(z[k]) - m);
  }
  const double lse = std::log(s);
  if (dz)
    for (int64_t k = 0; k < K; ++k)
      dz[k] += static_cast<float>(scale * (tsum * std::exp(z[k] - m - lse) - t[k]));
  return tsum * lse - tz;
}

Tensor scalar(double v) {
  Tensor out(Shape{});
  out[0] = static_cast<float>(v);
  return out;
}

// Cross-entropy over rows of (N, K) against dense targets, shared by the
// sparse and categorical losses (sparse expands labels to one-hot rows).
Tensor row_cross_entropy(const char* op, const Tensor& pred, const Tensor& targets, bool from_logits,
                         bool clip_before_normalise) {
  const int64_t N = pred.dim(0), K = pred.dim(1);
  if (N == 0) shape_fail(op, "empty batch");
  const float scale = 1.0f / static_cast<float>(N);
  double total = 0.0;
  std::vector<float> clipped;
  for (int64_t n = 0; n < N; ++n) {
    const float* p = pred.data() + n * K;
    const float* t = targets.data() + n * K;
    if (from_logits) {
      total += cce_row_logits(p, t, K, scale, nullptr);
    } else if (clip_before_normalise) {
      clipped.assign(p, p + K);
      for (float& v : clipped) v = std::min(std::max(v, kEpsilon), 1.0f - kEpsilon);
      total += cce_row_probs(clipped.data(), t, K, scale, nullptr);
    } else {
      total += cce_row_probs(p, t, K, scale, nullptr);
    }
  }
  Tensor loss = scalar(total / N);
  record(loss, op, {pred},
         [pred, targets, from_logits, clip_before_normalise, N, K, scale](const Tensor&, const float* dl) {
           float* dp = pred.grad_data();
           std::vector<float> row(K), clipped;
           for (int64_t n = 0; n < N; ++n) {
             const float* p = pred.data() + n * K;
             const float* t = targets.data() + n * K;
             std::fill(row.begin(), row.end(), 0.0f);
             if (from_logits) {
               cce_row_logits(p, t, K, scale * dl[0], row.data());
             } else if (clip_before_normalise) {
               clipped.assign(p, p + K);
               for (float& v : clipped) v = std::min(std::max(v, kEpsilon), 1.0f - kEpsilon);
               cce_row_probs(clipped.data(), t, K, scale * dl[0], row.data());
               for (int64_t k = 0; k < K; ++k)
                 if (p[k] < kEpsilon || p[k] > 1.0f - kEpsilon) row[k] = 0.0f;
             } else {
               cce_row_probs(p, t, K, scale * dl[0], row.data());
             }
             accumulate(dp + n * K, row.data(), K);
           }
         });
  return loss;
}

}  // namespace

Tensor sparse_categorical_crossentropy(const Tensor& pred, const Tensor& labels, bool from_logits) {
  const char* op = "sparse_categorical_crossentropy";
  check_sparse_labels(op, pred, labels);
  const int64_t N = pred.dim(0), K = pred.dim(1);
  Tensor onehot({N, K});
  for (int64_t n = 0; n < N; ++n) {
    const float l = labels[n];
    if (!(l >= 0.0f && l < static_cast<float>(K)) || l != std::floor(l))
      throw ValueError(str_cat(op, ": label ", l, " at index ", n,
                               " is out of range, expected an integer class index in [0, ", K, ")"));
    onehot[n * K + static_cast<int64_t>(l)] = 1.0f;
  }
  return row_cross_entropy(op, pred, onehot, from_logits, /*clip_before_normalise=*/true);
}

Tensor categorical_crossentropy(const Tensor& pred, const Tensor& targets, bool from_logits) {
  const char* op = "categorical_crossentropy";
  check_2d_predictions(op, pred);
  check_same_targets(op, pred, targets);
  return row_cross_entropy(op, pred, targets, from_logits, /*clip_before_normalise=*/false);
}

Tensor binary_crossentropy(const Tensor& pred, const Tensor& targets, bool from_logits) {
  const char* op = "binary_crossentropy";
  check_same_targets(op, pred, targets);
  const int64_t n = pred.numel();
  if (n == 0) shape_fail(op, "empty batch");
  double total = 0.0;
  const float *ps = pred.data(), *ts = targets.data();
  for (int64_t i = 0; i < n; ++i) {
    const double z = ps[i], t = ts[i];
    if (from_logits) {
      total += std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::abs(z)));
    } else {
      const double p = std::min(std::max(z, static_cast<double>(kEpsilon)), 1.0 - kEpsilon);
      total -= t * std::log(p + kEpsilon) + (1.0 - t) * std::log(1.0 - p + kEpsilon);
    }
  }
  Tensor loss = scalar(total / n);
  record(loss, op, {pred}, [pred, targets, from_logits, n](const Tensor&, const float* dl) {
    float* dp = pred.grad_data();
    const double scale = dl[0] / static_cast<double>(n);
    const float *ps = pred.data(), *ts = targets.data();
    for (int64_t i = 0; i < n; ++i) {
      const double z = ps[i], t = ts[i];
      if (from_logits) {
        const double s = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
        dp[i] += static_cast<float>(scale * (s - t));
      } else if (z >= kEpsilon && z <= 1.0 - kEpsilon) {
        dp[i] += static_cast<float>(scale * (-t / (z + kEpsilon) + (1.0 - t) / (1.0 - z + kEpsilon)));
      }
    }
  });
  return loss;
}

Tensor mean_squared_error(const Tensor& pred, const Tensor& targets) {
  const char* op = "mean_squared_error";
  check_same_targets(op, pred, targets);
  const int64_t n = pred.numel();
  if (n == 0) shape_fail(op, "empty batch");
  double total = 0.0;
  const float *ps = pred.data(), *ts = targets.data();
  for (int64_t i = 0; i < n; ++i) {
    const double d = ps[i] - ts[i];
    total += d * d;
  }
  Tensor loss = scalar(total / n);
  record(loss, op, {pred}, [pred, targets, n](const Tensor&, const float* dl) {
    float* dp = pred.grad_data();
    const float scale = 2.0f * dl[0] / static_cast<float>(n);
    const float *ps = pred.data(), *ts = targets.data();
    for (int64_t i = 0; i < n; ++i) dp[i] += scale * (ps[i] - ts[i]);
  });
  return loss;
}

}  // namespace cnn::ops::cpu
