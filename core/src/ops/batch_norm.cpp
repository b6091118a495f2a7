// Batch normalisation over every axis but the last (channels_last).
// Training, with xhat = (x - mean) * inv_std over M = values per channel:
//   y = gamma * xhat + beta
//   dx = inv_std / M * (M * g - sum(g) - xhat * sum(g * xhat)),  g = dy * gamma
//   dgamma = sum(dy * xhat), dbeta = sum(dy)
// Inference uses the moving statistics, so dx = dy * gamma * inv_std.
#include <cmath>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"

namespace cnn::ops {

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& moving_mean,
                  Tensor& moving_var, const BatchNormOptions& opt) {
  if (x.ndim() < 2)
    shape_fail("batch_norm",
               "input has shape " + shape_str(x.shape()) + ", expected at least (batch, channels)");
  const int64_t C = x.dim(-1), M = x.numel() / (C ? C : 1);
  for (const Tensor* t :
       {&gamma, &beta, static_cast<const Tensor*>(&moving_mean), static_cast<const Tensor*>(&moving_var)})
    if (t->defined() && t->shape() != Shape{C})
      shape_fail("batch_norm", "parameter has shape " + shape_str(t->shape()) + ", expected " +
                                   shape_str({C}) + " for input " + shape_str(x.shape()));
  if (opt.training && M < 1)
    shape_fail("batch_norm",
               "training needs at least one value per channel, got input " + shape_str(x.shape()));

  std::vector<float> mean(C), inv_std(C);
  if (opt.training) {
    std::vector<double> s(C, 0.0), ss(C, 0.0);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t c = 0; c < C; ++c) s[c] += x[i * C + c];
    for (int64_t c = 0; c < C; ++c) mean[c] = static_cast<float>(s[c] / M);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t c = 0; c < C; ++c) {
        double d = x[i * C + c] - mean[c];
        ss[c] += d * d;
      }
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

  Tensor y(x.shape());
  for (int64_t i = 0; i < M; ++i)
    for (int64_t c = 0; c < C; ++c) {
      float v = (x[i * C + c] - mean[c]) * inv_std[c];
      if (gamma.defined()) v *= gamma[c];
      if (beta.defined()) v += beta[c];
      y[i * C + c] = v;
    }

  record(y, "batch_norm", {x, gamma, beta},
         [x, gamma, beta, mean, inv_std, M, C, training = opt.training](const Tensor&, const float* dy) {
           std::vector<double> sum_g(C, 0.0), sum_gx(C, 0.0), sum_dy(C, 0.0), sum_dyx(C, 0.0);
           for (int64_t i = 0; i < M; ++i)
             for (int64_t c = 0; c < C; ++c) {
               const float xhat = (x[i * C + c] - mean[c]) * inv_std[c];
               const float d = dy[i * C + c];
               sum_dy[c] += d;
               sum_dyx[c] += d * xhat;
             }
           if (gamma.defined() && gamma.requires_grad())
             for (int64_t c = 0; c < C; ++c) gamma.grad_data()[c] += static_cast<float>(sum_dyx[c]);
           if (beta.defined() && beta.requires_grad())
             for (int64_t c = 0; c < C; ++c) beta.grad_data()[c] += static_cast<float>(sum_dy[c]);
           if (!x.requires_grad()) return;
           float* dx = x.grad_data();
           for (int64_t c = 0; c < C; ++c) {
             const double gm = gamma.defined() ? gamma[c] : 1.0;
             sum_g[c] = sum_dy[c] * gm;
             sum_gx[c] = sum_dyx[c] * gm;
           }
           for (int64_t i = 0; i < M; ++i)
             for (int64_t c = 0; c < C; ++c) {
               const float gm = gamma.defined() ? gamma[c] : 1.0f;
               const float g = dy[i * C + c] * gm;
               if (!training) {
                 dx[i * C + c] += g * inv_std[c];
                 continue;
               }
               const float xhat = (x[i * C + c] - mean[c]) * inv_std[c];
               dx[i * C + c] += static_cast<float>(inv_std[c] * (g - sum_g[c] / M - xhat * sum_gx[c] / M));
             }
         });
  return y;
}

}  // namespace cnn::ops
