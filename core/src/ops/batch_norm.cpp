// Batch normalisation over every axis but the last (channels_last).
// Training, with xhat = (x - mean) * inv_std over M = values per channel:
//   y = gamma * xhat + beta
//   dx = inv_std / M * (M * g - sum(g) - xhat * sum(g * xhat)),  g = dy * gamma
//   dgamma = sum(dy * xhat), dbeta = sum(dy)
// Inference uses the moving statistics, so dx = dy * gamma * inv_std.
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "ops/cpu_ops.h"
#include "ops/shapes.h"

namespace cnn::ops::cpu {
namespace {

// Rows per chunk of the per-channel passes: about 16K values.
int64_t rows_per_chunk(int64_t C) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, C));
}

// fn(row_begin, row_end) over [0, M) rows of C channels, on the pool.
void for_rows(int64_t M, int64_t C, const std::function<void(int64_t, int64_t)>& fn) {
  parallel_for(M, rows_per_chunk(C), fn);
}

// Per-channel sums of term(i, c) over the M rows: fixed chunks, each summed
// on one thread, then added in chunk order (deterministic).
template <typename Term>
std::vector<double> channel_sums(int64_t M, int64_t C, const Term& term) {
  const int64_t rows = rows_per_chunk(C), chunks = (M + rows - 1) / rows;
  std::vector<double> partial(static_cast<size_t>(chunks * C), 0.0);
  parallel_for(chunks, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      double* p = partial.data() + k * C;
      for (int64_t i = k * rows, e = std::min(M, i + rows); i < e; ++i)
        for (int64_t c = 0; c < C; ++c) p[c] += term(i, c);
    }
  });
  std::vector<double> total(static_cast<size_t>(C), 0.0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t c = 0; c < C; ++c) total[c] += partial[k * C + c];
  return total;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& moving_mean,
                  Tensor& moving_var, const BatchNormOptions& opt) {
  const BatchNormPlan plan = plan_batch_norm(x, gamma, beta, moving_mean, moving_var, opt.training);
  const int64_t C = plan.C, M = plan.M;

  const float* xs = x.data();
  std::vector<float> mean(C), inv_std(C);
  if (opt.training) {
    // Two passes (mean, then squared deviations) in double, in fixed row
    // chunks summed in order: the same result for any thread count.
    std::vector<double> s = channel_sums(M, C, [&](int64_t i, int64_t c) { return double(xs[i * C + c]); });
    for (int64_t c = 0; c < C; ++c) mean[c] = static_cast<float>(s[c] / M);
    std::vector<double> ss = channel_sums(M, C, [&](int64_t i, int64_t c) {
      const double d = xs[i * C + c] - mean[c];
      return d * d;
    });
    const float mom = opt.momentum;
    for (int64_t c = 0; c < C; ++c) {
      double var = ss[c] / M;
      inv_std[c] = static_cast<float>(1.0 / std::sqrt(var + opt.epsilon));
      double moving = opt.unbiased_moving_var && M > 1 ? ss[c] / (M - 1) : var;
      moving_mean[c] = moving_mean[c] * mom + mean[c] * (1.0f - mom);
      moving_var[c] = moving_var[c] * mom + static_cast<float>(moving) * (1.0f - mom);
    }
  } else {
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = moving_mean[c];
      inv_std[c] = 1.0f / std::sqrt(moving_var[c] + opt.epsilon);
    }
  }

  // y = x * scale + shift per channel: one multiply-add per value.
  std::vector<float> scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = inv_std[c] * (gamma.defined() ? gamma[c] : 1.0f);
    shift[c] = (beta.defined() ? beta[c] : 0.0f) - mean[c] * scale[c];
  }
  Tensor y = Tensor::empty(x.shape());
  float* ys = y.data();
  for_rows(M, C, [&](int64_t i0, int64_t i1) {
    const float *sc = scale.data(), *sh = shift.data();
    for (int64_t i = i0; i < i1; ++i) {
      const float* xr = xs + i * C;
      float* yr = ys + i * C;
      for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * sc[c] + sh[c];
    }
  });

  record(y, "batch_norm", {x, gamma, beta},
         [x, gamma, beta, mean, inv_std, M, C, training = opt.training](const Tensor&, const float* dy) {
           const float* xs = x.data();
           const float *mu = mean.data(), *is = inv_std.data();
           const std::vector<double> sum_dy =
               channel_sums(M, C, [&](int64_t i, int64_t c) { return double(dy[i * C + c]); });
           const std::vector<double> sum_dyx = channel_sums(M, C, [&](int64_t i, int64_t c) {
             return double(dy[i * C + c]) * ((xs[i * C + c] - mu[c]) * is[c]);
           });
           if (gamma.defined() && gamma.requires_grad())
             for (int64_t c = 0; c < C; ++c) gamma.grad_data()[c] += static_cast<float>(sum_dyx[c]);
           if (beta.defined() && beta.requires_grad())
             for (int64_t c = 0; c < C; ++c) beta.grad_data()[c] += static_cast<float>(sum_dy[c]);
           if (!x.requires_grad()) return;
           bool fresh = false;
           float* dx = x.grad_data_for_write(&fresh);
           // dx = a * dy + b * xhat + k per channel, with the sums folded in.
           std::vector<float> a(C), b(C), k(C);
           for (int64_t c = 0; c < C; ++c) {
             const double gm = gamma.defined() ? gamma[c] : 1.0;
             a[c] = static_cast<float>(gm * is[c]);
             b[c] = training ? static_cast<float>(-is[c] * sum_dyx[c] * gm / M) : 0.0f;
             k[c] = training ? static_cast<float>(-is[c] * sum_dy[c] * gm / M) : 0.0f;
           }
           for_rows(M, C, [&](int64_t i0, int64_t i1) {
             const float *pa = a.data(), *pb = b.data(), *pk = k.data();
             for (int64_t i = i0; i < i1; ++i) {
               const float* xr = xs + i * C;
               const float* g = dy + i * C;
               float* d = dx + i * C;
               if (fresh)
                 for (int64_t c = 0; c < C; ++c)
                   d[c] = pa[c] * g[c] + pb[c] * ((xr[c] - mu[c]) * is[c]) + pk[c];
               else
                 for (int64_t c = 0; c < C; ++c)
                   d[c] += pa[c] * g[c] + pb[c] * ((xr[c] - mu[c]) * is[c]) + pk[c];
             }
           });
         });
  return y;
}

BatchNormAffine batch_norm_affine(const Tensor& gamma, const Tensor& beta, const Tensor& moving_mean,
                                  const Tensor& moving_var, float epsilon) {
  const int64_t C = moving_mean.numel();
  check_batch_norm_affine(gamma, beta, moving_mean, moving_var);
  BatchNormAffine a{Tensor::empty({C}), Tensor::empty({C})};
  // The same float arithmetic as batch_norm's inference path.
  for (int64_t c = 0; c < C; ++c) {
    const float inv_std = 1.0f / std::sqrt(moving_var[c] + epsilon);
    a.scale[c] = inv_std * (gamma.defined() ? gamma[c] : 1.0f);
    a.shift[c] = (beta.defined() ? beta[c] : 0.0f) - moving_mean[c] * a.scale[c];
  }
  return a;
}

}  // namespace cnn::ops::cpu
