// The CUDA backend's element-wise and data-movement ops, its copies and its
// optimizer steps: one thread per value, grid-stride loops.
#include <algorithm>
#include <cfloat>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/rng.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_runtime.h"
#include "ops/shapes.h"

namespace cnn::cuda {

namespace {

__global__ void fill_kernel(float* p, int64_t n, float v) { CNN_GRID_LOOP(i, n) p[i] = v; }
__global__ void axpy_kernel(float* out, const float* in, int64_t n, float scale) {
  CNN_GRID_LOOP(i, n) out[i] += scale * in[i];
}
// Column sums of a (rows, cols) matrix: blocks of 32 columns by 8 row
// lanes, added in shared memory, one atomic per column and block.
__global__ void column_sums_kernel(float* out, const float* m, int64_t rows, int64_t cols) {
  __shared__ float part[8][32];
  const int64_t c = blockIdx.x * int64_t{32} + threadIdx.x;
  float s = 0.0f;
  if (c < cols)
    for (int64_t r = blockIdx.y * int64_t{8} + threadIdx.y; r < rows; r += int64_t{8} * gridDim.y)
      s += m[r * cols + c];
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y != 0 || c >= cols) return;
  for (int k = 1; k < 8; ++k) s += part[k][threadIdx.x];
  atomicAdd(out + c, s);
}

// x, or 0 where x is subnormal: the moments are kept as the CPU steps keep
// them (optim/cpu_steps.cpp), so both backends train alike.
__device__ inline float flush_subnormal(float x) { return fabsf(x) < FLT_MIN ? 0.0f : x; }

__global__ void sgd_kernel(float* w, const float* g, int64_t n, float lr) {
  CNN_GRID_LOOP(i, n) w[i] -= lr * g[i];
}
__global__ void sgd_momentum_kernel(float* w, const float* g, float* m, int64_t n, float lr, float mom,
                                    bool nesterov) {
  CNN_GRID_LOOP(i, n) {
    const float mi = flush_subnormal(mom * m[i] - lr * g[i]);
    m[i] = mi;
    w[i] += nesterov ? mom * mi - lr * g[i] : mi;
  }
}
__global__ void adam_kernel(float* w, const float* g, float* m, float* v, int64_t n, float alpha, float a1,
                            float a2, float eps) {
  CNN_GRID_LOOP(i, n) {
    const float gi = g[i];
    const float mi = flush_subnormal(m[i] + (gi - m[i]) * a1);
    const float vi = flush_subnormal(v[i] + (gi * gi - v[i]) * a2);
    m[i] = mi;
    v[i] = vi;
    w[i] -= alpha * mi / (sqrtf(vi) + eps);
  }
}

}  // namespace

void upload(float* dst, const float* host, size_t n) {
  check(cudaMemcpy(dst, host, n * sizeof(float), cudaMemcpyHostToDevice), "copy to the GPU");
}
void download(float* host, const float* src, size_t n) {
  check(cudaMemcpy(host, src, n * sizeof(float), cudaMemcpyDeviceToHost), "copy from the GPU");
}
void copy(float* dst, const float* src, size_t n) {
  check(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, 0), "copy on the GPU");
}
void fill(float* p, size_t n, float v) {
  if (n == 0) return;
  fill_kernel<<<blocks_for(n), kThreads>>>(p, static_cast<int64_t>(n), v);
  check_launch("fill");
}
void accumulate_scaled(float* out, const float* in, int64_t n, float scale) {
  if (n == 0) return;
  axpy_kernel<<<blocks_for(n), kThreads>>>(out, in, n, scale);
  check_launch("accumulate");
}
void accumulate(float* out, const float* in, int64_t n) { accumulate_scaled(out, in, n, 1.0f); }

void add_column_sums(float* out, const float* m, int64_t rows, int64_t cols) {
  if (rows == 0 || cols == 0) return;
  const int64_t gx = (cols + 31) / 32;
  const int64_t gy = std::clamp<int64_t>(rows / (8 * 32), 1, std::max<int64_t>(1, 4096 / gx));
  column_sums_kernel<<<dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy)), dim3(32, 8)>>>(out, m,
                                                                                                  rows, cols);
  check_launch("column sums");
}

void sgd_step(float* w, const float* g, int64_t n, float lr) {
  sgd_kernel<<<blocks_for(n), kThreads>>>(w, g, n, lr);
  check_launch("sgd");
}
void sgd_momentum_step(float* w, const float* g, float* m, int64_t n, float lr, float momentum,
                       bool nesterov) {
  sgd_momentum_kernel<<<blocks_for(n), kThreads>>>(w, g, m, n, lr, momentum, nesterov);
  check_launch("sgd momentum");
}
void adam_step(float* w, const float* g, float* m, float* v, int64_t n, float alpha, float a1, float a2,
               float eps) {
  adam_kernel<<<blocks_for(n), kThreads>>>(w, g, m, v, n, alpha, a1, a2, eps);
  check_launch("adam");
}

}  // namespace cnn::cuda

namespace cnn::ops::cuda_impl {

namespace {

enum class Act { Relu, Sigmoid, Tanh };

__global__ void act_forward_kernel(const float* x, float* y, int64_t n, Act act) {
  CNN_GRID_LOOP(i, n) {
    const float v = x[i];
    y[i] = act == Act::Relu      ? (v < 0.0f ? 0.0f : v)  // NaN stays NaN, as std::max(v, 0) on the CPU
           : act == Act::Sigmoid ? (v >= 0.0f ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v)))
                                 : tanhf(v);
  }
}
// dx += dy * f'(x), written in terms of the saved output y.
__global__ void act_backward_kernel(const float* y, const float* dy, float* dx, int64_t n, Act act) {
  CNN_GRID_LOOP(i, n) {
    const float v = y[i];
    dx[i] += act == Act::Relu      ? (v > 0.0f ? dy[i] : 0.0f)
             : act == Act::Sigmoid ? dy[i] * v * (1.0f - v)
                                   : dy[i] * (1.0f - v * v);
  }
}

Tensor activation_op(const char* name, const Tensor& x, Act act) {
  Tensor y = Tensor::empty(x.shape(), Device::CUDA);
  const int64_t n = x.numel();
  if (n) {
    act_forward_kernel<<<blocks_for(n), kThreads>>>(ptr(x), ptr(y), n, act);
    check_launch(name);
  }
  record(y, name, {x}, [x, act, name](const Tensor& out, const float* dy) {
    const int64_t n = out.numel();
    if (!n) return;
    act_backward_kernel<<<blocks_for(n), kThreads>>>(ptr(out), dy, x.device_grad(), n, act);
    check_launch(name);
  });
  return y;
}

// One thread per row: rows are short (class counts), and many.
__global__ void softmax_kernel(const float* x, float* y, int64_t rows, int64_t K) {
  CNN_GRID_LOOP(r, rows) {
    const float* in = x + r * K;
    float* o = y + r * K;
    float m = in[0];
    for (int64_t k = 1; k < K; ++k) m = in[k] > m ? in[k] : m;
    float s = 0.0f;
    for (int64_t k = 0; k < K; ++k) s += (o[k] = expf(in[k] - m));
    for (int64_t k = 0; k < K; ++k) o[k] /= s;
  }
}
__global__ void softmax_backward_kernel(const float* y, const float* dy, float* dx, int64_t rows, int64_t K) {
  CNN_GRID_LOOP(r, rows) {
    const float* yr = y + r * K;
    const float* g = dy + r * K;
    float dot = 0.0f;
    for (int64_t k = 0; k < K; ++k) dot += g[k] * yr[k];
    for (int64_t k = 0; k < K; ++k) dx[r * K + k] += yr[k] * (g[k] - dot);
  }
}

__global__ void add_kernel(const float* a, const float* b, float* y, int64_t n) {
  CNN_GRID_LOOP(i, n) y[i] = a[i] + b[i];
}
__global__ void scale_shift_kernel(const float* x, float* y, int64_t n, float scale, float offset) {
  CNN_GRID_LOOP(i, n) y[i] = x[i] * scale + offset;
}
__global__ void multiply_kernel(const float* x, const float* m, float* y, int64_t n) {
  CNN_GRID_LOOP(i, n) y[i] = x[i] * m[i];
}
__global__ void multiply_add_kernel(const float* dy, const float* m, float* dx, int64_t n) {
  CNN_GRID_LOOP(i, n) dx[i] += dy[i] * m[i];
}
// sum(x * g) in double, one partial per block, added atomically.
__global__ void dot_kernel(const float* x, const float* g, int64_t n, double* out) {
  __shared__ double part[256];
  double s = 0.0;
  CNN_GRID_LOOP(i, n) s += static_cast<double>(x[i]) * g[i];
  part[threadIdx.x] = s;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(out, part[0]);
}
__global__ void double_to_float_kernel(const double* in, float* out) { out[0] = static_cast<float>(in[0]); }
// dx += dl[0] * g, with the scalar read on the device.
__global__ void scaled_by_scalar_kernel(const float* g, const float* dl, float* dx, int64_t n) {
  const float s = dl[0];
  CNN_GRID_LOOP(i, n) dx[i] += s * g[i];
}

// Copies `rows` blocks of `cols` values between two strided layouts
// (zero padding's image rows, concat's chunks); add accumulates instead.
__global__ void block_copy_kernel(float* dst, int64_t dst_stride, const float* src, int64_t src_stride,
                                  int64_t rows, int64_t cols, bool add) {
  CNN_GRID_LOOP(i, rows * cols) {
    const int64_t r = i / cols, c = i % cols;
    const float v = src[r * src_stride + c];
    if (add)
      dst[r * dst_stride + c] += v;
    else
      dst[r * dst_stride + c] = v;
  }
}
// Zero padding forward: every output value, zero outside the image.
__global__ void pad_kernel(const float* x, float* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH,
                           int64_t OW, int64_t top, int64_t left) {
  CNN_GRID_LOOP(i, N * OH * OW * C) {
    const auto [n, oh, ow, c] = cuda::unflatten_nhwc(i, OH, OW, C);
    const int64_t h = oh - top, w = ow - left;
    y[i] = (h >= 0 && h < H && w >= 0 && w < W) ? x[((n * H + h) * W + w) * C + c] : 0.0f;
  }
}
__global__ void unpad_add_kernel(const float* dy, float* dx, int64_t N, int64_t H, int64_t W, int64_t C,
                                 int64_t OH, int64_t OW, int64_t top, int64_t left) {
  CNN_GRID_LOOP(i, N * H * W * C) {
    const auto [n, h, w, c] = cuda::unflatten_nhwc(i, H, W, C);
    dx[i] += dy[((n * OH + h + top) * OW + w + left) * C + c];
  }
}

}  // namespace

Tensor relu(const Tensor& x) { return activation_op("relu", x, Act::Relu); }
Tensor sigmoid(const Tensor& x) { return activation_op("sigmoid", x, Act::Sigmoid); }
Tensor tanh(const Tensor& x) { return activation_op("tanh", x, Act::Tanh); }

Tensor softmax(const Tensor& x) {
  if (x.ndim() < 1) shape_fail("softmax", "input is a scalar, expected (..., classes)");
  const int64_t K = x.dim(-1), rows = K ? x.numel() / K : 0;
  Tensor y = Tensor::empty(x.shape(), Device::CUDA);
  if (rows) {
    softmax_kernel<<<blocks_for(rows), kThreads>>>(ptr(x), ptr(y), rows, K);
    check_launch("softmax");
  }
  record(y, "softmax", {x}, [x, K, rows](const Tensor& out, const float* dy) {
    if (!rows) return;
    softmax_backward_kernel<<<blocks_for(rows), kThreads>>>(ptr(out), dy, x.device_grad(), rows, K);
    check_launch("softmax backward");
  });
  return y;
}

Tensor add(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    shape_fail("add", "inputs have shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                          ", expected equal shapes");
  Tensor y = Tensor::empty(a.shape(), Device::CUDA);
  const int64_t n = y.numel();
  if (n) {
    add_kernel<<<blocks_for(n), kThreads>>>(ptr(a), ptr(b), ptr(y), n);
    check_launch("add");
  }
  record(y, "add", {a, b}, [a, b](const Tensor& out, const float* dy) {
    if (a.requires_grad()) cuda::accumulate(a.device_grad(), dy, out.numel());
    if (b.requires_grad()) cuda::accumulate(b.device_grad(), dy, out.numel());
  });
  return y;
}

Tensor scale_shift(const Tensor& x, float scale, float offset) {
  Tensor y = Tensor::empty(x.shape(), Device::CUDA);
  const int64_t n = y.numel();
  if (n) {
    scale_shift_kernel<<<blocks_for(n), kThreads>>>(ptr(x), ptr(y), n, scale, offset);
    check_launch("scale_shift");
  }
  record(y, "scale_shift", {x}, [x, scale](const Tensor& out, const float* dy) {
    cuda::accumulate_scaled(x.device_grad(), dy, out.numel(), scale);
  });
  return y;
}

Tensor sum_product(const Tensor& x, const Tensor& g) {
  if (x.shape() != g.shape())
    shape_fail("sum_product", "inputs have shapes " + shape_str(x.shape()) + " and " + shape_str(g.shape()) +
                                  ", expected equal shapes");
  Tensor acc = Tensor::zeros({2}, Device::CUDA);  // one double
  auto* sum = reinterpret_cast<double*>(ptr(acc));
  const int64_t n = x.numel();
  if (n) {
    dot_kernel<<<blocks_for(n) < 1024 ? blocks_for(n) : 1024, 256>>>(ptr(x), ptr(g), n, sum);
    check_launch("sum_product");
  }
  Tensor y = Tensor::empty(Shape{}, Device::CUDA);
  double_to_float_kernel<<<1, 1>>>(sum, ptr(y));
  check_launch("sum_product");
  record(y, "sum_product", {x}, [x, g](const Tensor&, const float* dl) {
    const int64_t n = x.numel();
    if (!n) return;
    scaled_by_scalar_kernel<<<blocks_for(n), kThreads>>>(ptr(g), dl, x.device_grad(), n);
    check_launch("sum_product backward");
  });
  return y;
}

Tensor zero_padding2d(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  const PadPlan p = plan_zero_padding(x, top, bottom, left, right);
  const int64_t N = p.N, H = p.H, W = p.W, C = p.C, OH = p.OH, OW = p.OW;
  Tensor y = Tensor::empty({N, OH, OW, C}, Device::CUDA);
  if (y.numel()) {
    pad_kernel<<<blocks_for(y.numel()), kThreads>>>(ptr(x), ptr(y), N, H, W, C, OH, OW, top, left);
    check_launch("zero_padding2d");
  }
  record(y, "zero_padding2d", {x}, [x, N, H, W, C, OH, OW, top, left](const Tensor&, const float* dy) {
    if (!x.numel()) return;
    unpad_add_kernel<<<blocks_for(x.numel()), kThreads>>>(dy, x.device_grad(), N, H, W, C, OH, OW, top, left);
    check_launch("zero_padding2d backward");
  });
  return y;
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  const ConcatPlan plan = plan_concat(xs, axis);
  const Shape& ys = plan.shape;
  axis = plan.axis;
  const int64_t outer = plan.outer, inner = plan.inner;
  Tensor y = Tensor::empty(ys, Device::CUDA);
  const int64_t out_chunk = ys[axis] * inner;
  std::vector<int64_t> offsets;
  int64_t at = 0;
  for (const Tensor& t : xs) {
    const int64_t chunk = t.dim(axis) * inner;
    offsets.push_back(at);
    if (outer * chunk > 0) {
      block_copy_kernel<<<blocks_for(outer * chunk), kThreads>>>(ptr(y) + at, out_chunk, ptr(t), chunk, outer,
                                                                 chunk, false);
      check_launch("concat");
    }
    at += chunk;
  }
  record(y, "concat", xs, [xs, offsets, outer, inner, out_chunk, axis](const Tensor&, const float* dy) {
    for (size_t k = 0; k < xs.size(); ++k) {
      const int64_t chunk = xs[k].dim(axis) * inner;
      if (!xs[k].requires_grad() || outer * chunk == 0) continue;
      block_copy_kernel<<<blocks_for(outer * chunk), kThreads>>>(xs[k].device_grad(), chunk, dy + offsets[k],
                                                                 out_chunk, outer, chunk, true);
      check_launch("concat backward");
    }
  });
  return y;
}

Tensor dropout(const Tensor& x, float rate, bool training, Rng& rng) {
  if (!(rate >= 0.0f && rate < 1.0f))
    throw ValueError(str_cat("dropout: rate ", rate, " is out of range, expected 0 <= rate < 1"));
  if (!training || rate == 0.0f) return x;
  // The mask comes from the engine's Rng on the host, as on the CPU, so a
  // seeded run drops the same values on either device.
  const float keep_scale = 1.0f / (1.0f - rate);
  std::vector<float> host(static_cast<size_t>(x.numel()));
  for (float& m : host) m = rng.uniform() >= rate ? keep_scale : 0.0f;
  const Tensor mask = Tensor(x.shape(), host).to(Device::CUDA);
  Tensor y = Tensor::empty(x.shape(), Device::CUDA);
  const int64_t n = x.numel();
  if (n) {
    multiply_kernel<<<blocks_for(n), kThreads>>>(ptr(x), ptr(mask), ptr(y), n);
    check_launch("dropout");
  }
  record(y, "dropout", {x}, [x, mask](const Tensor& out, const float* dy) {
    const int64_t n = out.numel();
    if (!n) return;
    multiply_add_kernel<<<blocks_for(n), kThreads>>>(dy, ptr(mask), x.device_grad(), n);
    check_launch("dropout backward");
  });
  return y;
}

}  // namespace cnn::ops::cuda_impl
