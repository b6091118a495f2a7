// The CUDA backend's pooling and batch normalisation. Pooling keeps, per
// output, the input index of its maximum (max) or spreads the gradient over
// its window (average), with TensorFlow's 'same' rules as on the CPU.
// Batch norm sums per channel in double (a block of rows per thread block,
// added atomically), then normalises in one pass.
#include <algorithm>
#include <cfloat>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_runtime.h"
#include "ops/shapes.h"

namespace cnn::ops::cuda_impl {

namespace {

// The clipped window of output o along one axis: [lo, hi).
__device__ void window(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t limit, int64_t& lo,
                       int64_t& hi) {
  lo = o * stride - pad;
  hi = lo + k;
  if (lo < 0) lo = 0;
  if (hi > limit) hi = limit;
}

// One thread per output value; the first maximum wins; -1 marks a window
// with no real pixel (its output is -inf).
__global__ void max_pool_kernel(PoolPlan p, const float* x, float* y, int32_t* argmax) {
  CNN_GRID_LOOP(i, p.N * p.OH * p.OW * p.C) {
    const auto [n, oh, ow, c] = cuda::unflatten_nhwc(i, p.OH, p.OW, p.C);
    int64_t h0, h1, w0, w1;
    window(oh, p.SH, p.PT, p.PH, p.H, h0, h1);
    window(ow, p.SW, p.PL, p.PW, p.W, w0, w1);
    float best = -INFINITY;
    int64_t at = -1;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) {
        const int64_t j = ((n * p.H + h) * p.W + w) * p.C + c;
        if (at < 0 || x[j] > best) best = x[j], at = j;
      }
    y[i] = best;
    if (argmax) argmax[i] = static_cast<int32_t>(at);
  }
}
__global__ void scatter_add_kernel(const int32_t* index, const float* dy, float* dx, int64_t n) {
  CNN_GRID_LOOP(i, n) if (index[i] >= 0) atomicAdd(dx + index[i], dy[i]);
}

__global__ void avg_pool_kernel(PoolPlan p, const float* x, float* y) {
  CNN_GRID_LOOP(i, p.N * p.OH * p.OW * p.C) {
    const auto [n, oh, ow, c] = cuda::unflatten_nhwc(i, p.OH, p.OW, p.C);
    int64_t h0, h1, w0, w1;
    window(oh, p.SH, p.PT, p.PH, p.H, h0, h1);
    window(ow, p.SW, p.PL, p.PW, p.W, w0, w1);
    float s = 0.0f;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) s += x[((n * p.H + h) * p.W + w) * p.C + c];
    y[i] = s * (1.0f / static_cast<float>((h1 - h0) * (w1 - w0)));
  }
}
// One thread per input value: the outputs whose windows hold it.
__global__ void avg_pool_backward_kernel(PoolPlan p, const float* dy, float* dx) {
  CNN_GRID_LOOP(i, p.N * p.H * p.W * p.C) {
    const auto [n, h, w, c] = cuda::unflatten_nhwc(i, p.H, p.W, p.C);
    // Outputs o with o*S - pad <= h < o*S - pad + k.
    const int64_t oh_lo = max(int64_t{0}, (h + p.PT - p.PH + p.SH) / p.SH),
                  oh_hi = min(p.OH - 1, (h + p.PT) / p.SH);
    const int64_t ow_lo = max(int64_t{0}, (w + p.PL - p.PW + p.SW) / p.SW),
                  ow_hi = min(p.OW - 1, (w + p.PL) / p.SW);
    float s = 0.0f;
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
      int64_t h0, h1;
      window(oh, p.SH, p.PT, p.PH, p.H, h0, h1);
      if (h < h0 || h >= h1) continue;
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
        int64_t w0, w1;
        window(ow, p.SW, p.PL, p.PW, p.W, w0, w1);
        if (w < w0 || w >= w1) continue;
        s += dy[((n * p.OH + oh) * p.OW + ow) * p.C + c] / static_cast<float>((h1 - h0) * (w1 - w0));
      }
    }
    dx[i] += s;
  }
}

// Global pooling: one thread per (image, channel) walks the image.
__global__ void global_pool_kernel(const float* x, float* y, int32_t* argmax, int64_t N, int64_t HW,
                                   int64_t C, bool max_pool) {
  CNN_GRID_LOOP(i, N * C) {
    const int64_t n = i / C, c = i % C;
    const float* src = x + n * HW * C + c;
    if (max_pool) {
      int64_t best = 0;
      for (int64_t k = 1; k < HW; ++k)
        if (src[k * C] > src[best * C]) best = k;
      y[i] = src[best * C];
      argmax[i] = static_cast<int32_t>((n * HW + best) * C + c);
    } else {
      float s = 0.0f;
      for (int64_t k = 0; k < HW; ++k) s += src[k * C];
      y[i] = s * (1.0f / static_cast<float>(HW));
    }
  }
}
__global__ void global_avg_backward_kernel(const float* dy, float* dx, int64_t N, int64_t HW, int64_t C) {
  CNN_GRID_LOOP(i, N * HW * C) dx[i] += dy[(i / (HW * C)) * C + i % C] * (1.0f / static_cast<float>(HW));
}

// Per-channel sums over M rows of C: sum(x) into s1, and with mean given,
// sum((x - mean)^2) into s2 instead; with dy given, sum(dy) into s1 and
// sum(dy * xhat) into s2. A block is 32 channels (one warp reads 32
// neighbouring values) by 8 row lanes; each lane walks every (8 * gridDim.y)th
// row, the lanes are added in shared memory, and one atomic per channel and
// block adds the block's sums.
constexpr int kSumChannels = 32, kSumRows = 8;

__global__ void channel_sums_kernel(const float* x, const float* dy, const float* mean, const float* inv_std,
                                    int64_t M, int64_t C, double* s1, double* s2) {
  __shared__ double part[2][kSumRows][kSumChannels];
  const int64_t c = blockIdx.x * int64_t{kSumChannels} + threadIdx.x;
  double a = 0.0, b = 0.0;
  if (c < C) {
    const float mu = mean ? mean[c] : 0.0f, is = inv_std ? inv_std[c] : 1.0f;
    for (int64_t r = blockIdx.y * int64_t{kSumRows} + threadIdx.y; r < M;
         r += int64_t{kSumRows} * gridDim.y) {
      const float v = x[r * C + c];
      if (dy) {
        const float g = dy[r * C + c];
        a += g;
        b += static_cast<double>(g) * ((v - mu) * is);
      } else if (mean) {
        const double d = static_cast<double>(v) - mu;
        b += d * d;
      } else {
        a += v;
      }
    }
  }
  part[0][threadIdx.y][threadIdx.x] = a;
  part[1][threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  if (threadIdx.y != 0 || c >= C) return;
  for (int k = 1; k < kSumRows; ++k) {
    a += part[0][k][threadIdx.x];
    b += part[1][k][threadIdx.x];
  }
  if (s1) atomicAdd(s1 + c, a);
  if (s2) atomicAdd(s2 + c, b);
}

void channel_sums(const float* x, const float* dy, const float* mean, const float* inv_std, int64_t M,
                  int64_t C, double* s1, double* s2) {
  const int64_t gx = (C + kSumChannels - 1) / kSumChannels;
  // About 32 rows per lane, and no more blocks than keep the GPU busy.
  const int64_t gy = std::clamp<int64_t>(M / (kSumRows * 32), 1, std::max<int64_t>(1, 4096 / gx));
  channel_sums_kernel<<<dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy)),
                        dim3(kSumChannels, kSumRows)>>>(x, dy, mean, inv_std, M, C, s1, s2);
  check_launch("batch_norm sums");
}

__global__ void bn_mean_kernel(const double* sum, int64_t M, int64_t C, float* mean) {
  CNN_GRID_LOOP(c, C) mean[c] = static_cast<float>(sum[c] / M);
}
// Training statistics from the sums; moving statistics updated in place.
__global__ void bn_stats_kernel(const double* sum, const double* sq, int64_t M, int64_t C, float eps,
                                float mom, bool unbiased, float* mean, float* inv_std, float* moving_mean,
                                float* moving_var) {
  CNN_GRID_LOOP(c, C) {
    const float mu = static_cast<float>(sum[c] / M);
    const double var = sq[c] / M;
    mean[c] = mu;
    inv_std[c] = static_cast<float>(1.0 / sqrt(var + eps));
    const double moving = unbiased && M > 1 ? sq[c] / (M - 1) : var;
    moving_mean[c] = moving_mean[c] * mom + mu * (1.0f - mom);
    moving_var[c] = moving_var[c] * mom + static_cast<float>(moving) * (1.0f - mom);
  }
}
__global__ void bn_moving_kernel(const float* moving_mean, const float* moving_var, int64_t C, float eps,
                                 float* mean, float* inv_std) {
  CNN_GRID_LOOP(c, C) {
    mean[c] = moving_mean[c];
    inv_std[c] = 1.0f / sqrtf(moving_var[c] + eps);
  }
}
// scale = inv_std * gamma, shift = beta - mean * scale.
__global__ void bn_affine_kernel(const float* mean, const float* inv_std, const float* gamma,
                                 const float* beta, int64_t C, float* scale, float* shift) {
  CNN_GRID_LOOP(c, C) {
    scale[c] = inv_std[c] * (gamma ? gamma[c] : 1.0f);
    shift[c] = (beta ? beta[c] : 0.0f) - mean[c] * scale[c];
  }
}
__global__ void bn_apply_kernel(const float* x, const float* scale, const float* shift, float* y, int64_t n,
                                int64_t C) {
  CNN_GRID_LOOP(i, n) y[i] = x[i] * scale[i % C] + shift[i % C];
}
// dgamma/dbeta from the sums, then dx = a * dy + b * xhat + k per channel.
__global__ void bn_param_grads_kernel(const double* sum_dy, const double* sum_dyx, int64_t C, float* dgamma,
                                      float* dbeta) {
  CNN_GRID_LOOP(c, C) {
    if (dgamma) dgamma[c] += static_cast<float>(sum_dyx[c]);
    if (dbeta) dbeta[c] += static_cast<float>(sum_dy[c]);
  }
}
__global__ void bn_dx_kernel(const float* x, const float* dy, const float* mean, const float* inv_std,
                             const float* gamma, const double* sum_dy, const double* sum_dyx, int64_t M,
                             int64_t C, bool training, float* dx) {
  CNN_GRID_LOOP(i, M * C) {
    const int64_t c = i % C;
    const double gm = gamma ? gamma[c] : 1.0;
    const float is = inv_std[c];
    const float a = static_cast<float>(gm * is);
    const float b = training ? static_cast<float>(-is * sum_dyx[c] * gm / M) : 0.0f;
    const float k = training ? static_cast<float>(-is * sum_dy[c] * gm / M) : 0.0f;
    dx[i] += a * dy[i] + b * ((x[i] - mean[c]) * is) + k;
  }
}

int32_t* as_index(const Tensor& t) { return reinterpret_cast<int32_t*>(ptr(t)); }
double* as_double(const Tensor& t) { return reinterpret_cast<double*>(ptr(t)); }

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2DOptions& opt) {
  const PoolPlan p = plan_pool("max_pool2d", x, opt);
  Tensor y = Tensor::empty({p.N, p.OH, p.OW, p.C}, Device::CUDA);
  const int64_t n = y.numel();
  const Tensor argmax = any_requires_grad({x}) ? cuda::scratch(n) : Tensor();  // int32 per output
  if (n) {
    max_pool_kernel<<<blocks_for(n), kThreads>>>(p, ptr(x), ptr(y),
                                                 argmax.defined() ? as_index(argmax) : nullptr);
    check_launch("max_pool2d");
  }
  record(y, "max_pool2d", {x}, [x, argmax, n](const Tensor&, const float* dy) {
    if (!n) return;
    scatter_add_kernel<<<blocks_for(n), kThreads>>>(as_index(argmax), dy, x.device_grad(), n);
    check_launch("max_pool2d backward");
  });
  return y;
}

Tensor avg_pool2d(const Tensor& x, const Pool2DOptions& opt) {
  const PoolPlan p = plan_pool("avg_pool2d", x, opt);
  Tensor y = Tensor::empty({p.N, p.OH, p.OW, p.C}, Device::CUDA);
  if (y.numel()) {
    avg_pool_kernel<<<blocks_for(y.numel()), kThreads>>>(p, ptr(x), ptr(y));
    check_launch("avg_pool2d");
  }
  record(y, "avg_pool2d", {x}, [x, p](const Tensor&, const float* dy) {
    if (!x.numel()) return;
    avg_pool_backward_kernel<<<blocks_for(x.numel()), kThreads>>>(p, dy, x.device_grad());
    check_launch("avg_pool2d backward");
  });
  return y;
}

namespace {
Tensor global_pool(const char* op, const Tensor& x, bool max_pool) {
  if (x.ndim() != 4)
    shape_fail(
        op, "input has shape " + shape_str(x.shape()) + ", expected rank 4 (batch, height, width, channels)");
  const int64_t N = x.dim(0), HW = x.dim(1) * x.dim(2), C = x.dim(3);
  if (HW == 0) shape_fail(op, "input " + shape_str(x.shape()) + " has no pixels");
  Tensor y = Tensor::empty({N, C}, Device::CUDA);
  const Tensor argmax = max_pool ? cuda::scratch(N * C) : Tensor();
  if (N * C > 0) {
    global_pool_kernel<<<blocks_for(N * C), kThreads>>>(ptr(x), ptr(y), max_pool ? as_index(argmax) : nullptr,
                                                        N, HW, C, max_pool);
    check_launch(op);
  }
  record(y, op, {x}, [x, argmax, N, HW, C, max_pool, op](const Tensor&, const float* dy) {
    if (N * C == 0) return;
    if (max_pool)
      scatter_add_kernel<<<blocks_for(N * C), kThreads>>>(as_index(argmax), dy, x.device_grad(), N * C);
    else
      global_avg_backward_kernel<<<blocks_for(N * HW * C), kThreads>>>(dy, x.device_grad(), N, HW, C);
    check_launch(op);
  });
  return y;
}
}  // namespace

Tensor global_avg_pool2d(const Tensor& x) { return global_pool("global_avg_pool2d", x, false); }
Tensor global_max_pool2d(const Tensor& x) { return global_pool("global_max_pool2d", x, true); }

BatchNormAffine batch_norm_affine(const Tensor& gamma, const Tensor& beta, const Tensor& moving_mean,
                                  const Tensor& moving_var, float epsilon) {
  const int64_t C = moving_mean.numel();
  check_batch_norm_affine(gamma, beta, moving_mean, moving_var);
  const Tensor mean = cuda::scratch(C), inv_std = cuda::scratch(C);
  BatchNormAffine a{Tensor::empty({C}, Device::CUDA), Tensor::empty({C}, Device::CUDA)};
  if (C) {
    bn_moving_kernel<<<blocks_for(C), kThreads>>>(ptr(moving_mean), ptr(moving_var), C, epsilon, ptr(mean),
                                                  ptr(inv_std));
    bn_affine_kernel<<<blocks_for(C), kThreads>>>(ptr(mean), ptr(inv_std), ptr(gamma), ptr(beta), C,
                                                  ptr(a.scale), ptr(a.shift));
    check_launch("batch_norm_affine");
  }
  return a;
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& moving_mean,
                  Tensor& moving_var, const BatchNormOptions& opt) {
  const BatchNormPlan plan = plan_batch_norm(x, gamma, beta, moving_mean, moving_var, opt.training);
  const int64_t C = plan.C, M = plan.M;

  const Tensor mean = cuda::scratch(C), inv_std = cuda::scratch(C);
  if (opt.training && C) {
    const Tensor sums = Tensor::zeros({4 * C}, Device::CUDA);  // two double vectors
    double* sum = as_double(sums);
    double* sq = sum + C;
    channel_sums(ptr(x), nullptr, nullptr, nullptr, M, C, sum, nullptr);
    // The mean first (float, as the CPU's), then squared deviations from it.
    bn_mean_kernel<<<blocks_for(C), kThreads>>>(sum, M, C, ptr(mean));
    channel_sums(ptr(x), nullptr, ptr(mean), nullptr, M, C, nullptr, sq);
    bn_stats_kernel<<<blocks_for(C), kThreads>>>(sum, sq, M, C, opt.epsilon, opt.momentum,
                                                 opt.unbiased_moving_var, ptr(mean), ptr(inv_std),
                                                 ptr(moving_mean), ptr(moving_var));
    check_launch("batch_norm statistics");
  } else if (C) {
    bn_moving_kernel<<<blocks_for(C), kThreads>>>(ptr(moving_mean), ptr(moving_var), C, opt.epsilon,
                                                  ptr(mean), ptr(inv_std));
    check_launch("batch_norm");
  }
  const Tensor scale = cuda::scratch(C), shift = cuda::scratch(C);
  Tensor y = Tensor::empty(x.shape(), Device::CUDA);
  if (C && M) {
    bn_affine_kernel<<<blocks_for(C), kThreads>>>(ptr(mean), ptr(inv_std), ptr(gamma), ptr(beta), C,
                                                  ptr(scale), ptr(shift));
    bn_apply_kernel<<<blocks_for(M * C), kThreads>>>(ptr(x), ptr(scale), ptr(shift), ptr(y), M * C, C);
    check_launch("batch_norm");
  }
  record(y, "batch_norm", {x, gamma, beta},
         [x, gamma, beta, mean, inv_std, M, C, training = opt.training](const Tensor&, const float* dy) {
           if (M * C == 0) return;
           const Tensor sums = Tensor::zeros({4 * C}, Device::CUDA);
           double* sum_dy = as_double(sums);
           double* sum_dyx = sum_dy + C;
           channel_sums(ptr(x), dy, ptr(mean), ptr(inv_std), M, C, sum_dy, sum_dyx);
           const bool dg = gamma.defined() && gamma.requires_grad(),
                      db = beta.defined() && beta.requires_grad();
           if (dg || db) {
             bn_param_grads_kernel<<<blocks_for(C), kThreads>>>(
                 sum_dy, sum_dyx, C, dg ? gamma.device_grad() : nullptr, db ? beta.device_grad() : nullptr);
             check_launch("batch_norm backward");
           }
           if (!x.requires_grad()) return;
           bn_dx_kernel<<<blocks_for(M * C), kThreads>>>(ptr(x), dy, ptr(mean), ptr(inv_std), ptr(gamma),
                                                         sum_dy, sum_dyx, M, C, training, x.device_grad());
           check_launch("batch_norm backward");
         });
  return y;
}

}  // namespace cnn::ops::cuda_impl
