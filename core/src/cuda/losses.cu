// The CUDA backend's losses and accuracy metrics, with the CPU's arithmetic
// (double per row, Keras's clipping): one thread per row of (N, K)
// predictions writes its row's loss, and one block adds the rows in order.
// The scalar gradient dL is read on the device in backward.
#include <cmath>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_runtime.h"
#include "ops/shapes.h"

namespace cnn::ops::cuda_impl {

namespace {

constexpr double kEps = kEpsilon;

// Categorical cross-entropy of one row on probabilities; with dp, adds
// scale * dL/dp (dq_j/dp_i = (delta_ij - q_j) / sum, clipped q -> 0).
__device__ double cce_row_probs(const float* p, const float* t, int64_t K, bool clip_first, double scale,
                                float* dp) {
  double sum = 0.0;
  for (int64_t k = 0; k < K; ++k) sum += clip_first ? fmin(fmax(double(p[k]), kEps), 1.0 - kEps) : p[k];
  if (sum <= 0.0) sum = kEps;
  double loss = 0.0, gq_dot_q = 0.0;
  for (int64_t k = 0; k < K; ++k) {
    const double pk = clip_first ? fmin(fmax(double(p[k]), kEps), 1.0 - kEps) : p[k];
    const double q = pk / sum, qc = fmin(fmax(q, kEps), 1.0 - kEps);
    loss -= t[k] * log(qc);
    const double gq = (q < kEps || q > 1.0 - kEps) ? 0.0 : -t[k] / qc;
    gq_dot_q += gq * q;
  }
  if (dp)
    for (int64_t k = 0; k < K; ++k) {
      const double pk = clip_first ? fmin(fmax(double(p[k]), kEps), 1.0 - kEps) : p[k];
      const double q = pk / sum, qc = fmin(fmax(q, kEps), 1.0 - kEps);
      const double gq = (q < kEps || q > 1.0 - kEps) ? 0.0 : -t[k] / qc;
      // Sparse labels clip p before normalising, and a clipped p gets no gradient.
      const bool dead = clip_first && (p[k] < float(kEps) || p[k] > 1.0f - float(kEps));
      if (!dead) dp[k] += static_cast<float>(scale * (gq - gq_dot_q) / sum);
    }
  return loss;
}

__device__ double cce_row_logits(const float* z, const float* t, int64_t K, double scale, float* dz) {
  float m = z[0];
  for (int64_t k = 1; k < K; ++k) m = z[k] > m ? z[k] : m;
  double s = 0.0, tsum = 0.0, tz = 0.0;
  for (int64_t k = 0; k < K; ++k) {
    s += exp(double(z[k]) - m);
    tsum += t[k];
    tz += t[k] * (double(z[k]) - m);
  }
  const double lse = log(s);
  if (dz)
    for (int64_t k = 0; k < K; ++k)
      dz[k] += static_cast<float>(scale * (tsum * exp(double(z[k]) - m - lse) - t[k]));
  return tsum * lse - tz;
}

__global__ void cce_kernel(const float* pred, const float* targets, int64_t N, int64_t K, bool from_logits,
                           bool clip_first, double* row_loss, const float* dl, float* dpred) {
  CNN_GRID_LOOP(n, N) {
    const float* p = pred + n * K;
    const float* t = targets + n * K;
    const double scale = dl ? double(dl[0]) / N : 0.0;
    float* d = dpred ? dpred + n * K : nullptr;
    const double l =
        from_logits ? cce_row_logits(p, t, K, scale, d) : cce_row_probs(p, t, K, clip_first, scale, d);
    if (row_loss) row_loss[n] = l;
  }
}

enum class Elementwise { BinaryLogits, BinaryProbs, Squared };

__global__ void elementwise_loss_kernel(const float* pred, const float* targets, int64_t n, Elementwise kind,
                                        double* loss, const float* dl, float* dpred) {
  CNN_GRID_LOOP(i, n) {
    const double z = pred[i], t = targets[i];
    if (dpred) {
      const double scale = double(dl[0]) / n;
      if (kind == Elementwise::BinaryLogits) {
        const double s = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        dpred[i] += static_cast<float>(scale * (s - t));
      } else if (kind == Elementwise::BinaryProbs) {
        if (z >= kEps && z <= 1.0 - kEps)
          dpred[i] += static_cast<float>(scale * (-t / (z + kEps) + (1.0 - t) / (1.0 - z + kEps)));
      } else {
        dpred[i] += 2.0f * dl[0] / static_cast<float>(n) * (pred[i] - targets[i]);
      }
    } else if (kind == Elementwise::BinaryLogits) {
      loss[i] = fmax(z, 0.0) - z * t + log1p(exp(-fabs(z)));
    } else if (kind == Elementwise::BinaryProbs) {
      const double p = fmin(fmax(z, kEps), 1.0 - kEps);
      loss[i] = -(t * log(p + kEps) + (1.0 - t) * log(1.0 - p + kEps));
    } else {
      loss[i] = (z - t) * (z - t);
    }
  }
}

// out[0] = sum(values) / n: one block, fixed order within each thread, so
// the same inputs give the same loss.
__global__ void mean_kernel(const double* values, int64_t n, float* out) {
  __shared__ double part[256];
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += values[i];
  part[threadIdx.x] = s;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = static_cast<float>(part[0] / n);
}

Tensor mean_of(const Tensor& values, int64_t n) {
  Tensor loss = Tensor::empty(Shape{}, Device::CUDA);
  mean_kernel<<<1, 256>>>(reinterpret_cast<const double*>(ptr(values)), n, ptr(loss));
  check_launch("loss");
  return loss;
}

Tensor row_cross_entropy(const char* op, const Tensor& pred, const Tensor& targets, bool from_logits,
                         bool clip_first) {
  const int64_t N = pred.dim(0), K = pred.dim(1);
  if (N == 0) shape_fail(op, "empty batch");
  const Tensor rows = cuda::scratch(2 * N);  // N doubles
  cce_kernel<<<blocks_for(N), kThreads>>>(ptr(pred), ptr(targets), N, K, from_logits, clip_first,
                                          reinterpret_cast<double*>(ptr(rows)), nullptr, nullptr);
  check_launch(op);
  Tensor loss = mean_of(rows, N);
  record(loss, op, {pred},
         [pred, targets, from_logits, clip_first, N, K, op](const Tensor&, const float* dl) {
           cce_kernel<<<blocks_for(N), kThreads>>>(ptr(pred), ptr(targets), N, K, from_logits, clip_first,
                                                   nullptr, dl, pred.device_grad());
           check_launch(op);
         });
  return loss;
}

Tensor elementwise_loss(const char* op, const Tensor& pred, const Tensor& targets, Elementwise kind) {
  check_same_targets(op, pred, targets);
  const int64_t n = pred.numel();
  if (n == 0) shape_fail(op, "empty batch");
  const Tensor values = cuda::scratch(2 * n);
  elementwise_loss_kernel<<<blocks_for(n), kThreads>>>(
      ptr(pred), ptr(targets), n, kind, reinterpret_cast<double*>(ptr(values)), nullptr, nullptr);
  check_launch(op);
  Tensor loss = mean_of(values, n);
  record(loss, op, {pred}, [pred, targets, n, kind, op](const Tensor&, const float* dl) {
    elementwise_loss_kernel<<<blocks_for(n), kThreads>>>(ptr(pred), ptr(targets), n, kind, nullptr, dl,
                                                         pred.device_grad());
    check_launch(op);
  });
  return loss;
}

// Hits of argmax(pred) == argmax(targets) (or == labels, or thresholds).
__global__ void argmax_hits_kernel(const float* pred, const float* targets, const float* labels, int64_t N,
                                   int64_t K, unsigned long long* hits) {
  CNN_GRID_LOOP(n, N) {
    const float* p = pred + n * K;
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (p[k] > p[best]) best = k;
    int64_t want;
    if (labels) {
      want = static_cast<int64_t>(labels[n]);
    } else {
      const float* t = targets + n * K;
      want = 0;
      for (int64_t k = 1; k < K; ++k)
        if (t[k] > t[want]) want = k;
    }
    if (best == want) atomicAdd(hits, 1ull);
  }
}
__global__ void threshold_hits_kernel(const float* pred, const float* targets, int64_t n, float threshold,
                                      unsigned long long* hits) {
  CNN_GRID_LOOP(i, n) if ((pred[i] > threshold) == (targets[i] > 0.5f)) atomicAdd(hits, 1ull);
}

double fraction(const Tensor& counter, int64_t n) {
  unsigned long long hits = 0;
  cuda::check(cudaMemcpy(&hits, ptr(counter), sizeof hits, cudaMemcpyDeviceToHost), "accuracy");
  return static_cast<double>(hits) / n;
}

}  // namespace

Tensor sparse_categorical_crossentropy(const Tensor& pred, const Tensor& labels, bool from_logits) {
  const char* op = "sparse_categorical_crossentropy";
  check_sparse_labels(op, pred, labels);
  const int64_t N = pred.dim(0), K = pred.dim(1);
  // Labels are checked on the host (N values) so a bad one is named as on the CPU.
  const std::vector<float> l = labels.to_vector();
  std::vector<float> onehot(static_cast<size_t>(N * K), 0.0f);
  for (int64_t n = 0; n < N; ++n) {
    if (!(l[n] >= 0.0f && l[n] < static_cast<float>(K)) || l[n] != std::floor(l[n]))
      throw ValueError(str_cat(op, ": label ", l[n], " at index ", n,
                               " is out of range, expected an integer class index in [0, ", K, ")"));
    onehot[n * K + static_cast<int64_t>(l[n])] = 1.0f;
  }
  return row_cross_entropy(op, pred, Tensor({N, K}, onehot).to(Device::CUDA), from_logits,
                           /*clip_first=*/true);
}

Tensor categorical_crossentropy(const Tensor& pred, const Tensor& targets, bool from_logits) {
  const char* op = "categorical_crossentropy";
  check_2d_predictions(op, pred);
  check_same_targets(op, pred, targets);
  return row_cross_entropy(op, pred, targets, from_logits, /*clip_first=*/false);
}

Tensor binary_crossentropy(const Tensor& pred, const Tensor& targets, bool from_logits) {
  return elementwise_loss("binary_crossentropy", pred, targets,
                          from_logits ? Elementwise::BinaryLogits : Elementwise::BinaryProbs);
}

Tensor mean_squared_error(const Tensor& pred, const Tensor& targets) {
  return elementwise_loss("mean_squared_error", pred, targets, Elementwise::Squared);
}

double sparse_categorical_accuracy(const Tensor& pred, const Tensor& labels) {
  check_sparse_accuracy(pred, labels);
  const int64_t N = pred.dim(0), K = pred.dim(1);
  if (N == 0) return 0.0;
  const Tensor counter = Tensor::zeros({2}, Device::CUDA);
  argmax_hits_kernel<<<blocks_for(N), kThreads>>>(ptr(pred), nullptr, ptr(labels), N, K,
                                                  reinterpret_cast<unsigned long long*>(ptr(counter)));
  check_launch("accuracy");
  return fraction(counter, N);
}

double categorical_accuracy(const Tensor& pred, const Tensor& targets) {
  check_categorical_accuracy(pred, targets);
  const int64_t N = pred.dim(0), K = pred.dim(1);
  if (N == 0) return 0.0;
  const Tensor counter = Tensor::zeros({2}, Device::CUDA);
  argmax_hits_kernel<<<blocks_for(N), kThreads>>>(ptr(pred), ptr(targets), nullptr, N, K,
                                                  reinterpret_cast<unsigned long long*>(ptr(counter)));
  check_launch("accuracy");
  return fraction(counter, N);
}

double binary_accuracy(const Tensor& pred, const Tensor& targets, float threshold) {
  check_binary_accuracy(pred, targets);
  const int64_t n = pred.numel();
  if (n == 0) return 0.0;
  const Tensor counter = Tensor::zeros({2}, Device::CUDA);
  threshold_hits_kernel<<<blocks_for(n), kThreads>>>(ptr(pred), ptr(targets), n, threshold,
                                                     reinterpret_cast<unsigned long long*>(ptr(counter)));
  check_launch("accuracy");
  return fraction(counter, n);
}

}  // namespace cnn::ops::cuda_impl
