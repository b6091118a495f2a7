// The CUDA backend's conv2d and dense: im2col + cuBLAS GEMM (1x1 stride-1
// convs straight to GEMM), the same lowering as the CPU backend's:
//   forward:  y (N*P, O)    = col (N*P, KKC) @ w (KKC, O) + b
//   backward: dw (KKC, O)  += col^T @ dy;  dcol = dy @ w^T, gathered into dx
// col2im gathers (one thread per input value) instead of scattering, so it
// needs no atomics and adds in a fixed order.
#include <algorithm>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_runtime.h"
#include "ops/shapes.h"

namespace cnn::ops::cuda_impl {

namespace {

// col (gn*P, KKC) of images [0, gn) of x; column (kh * KW + kw) * C + c.
__global__ void im2col_kernel(kernels::ConvGeometry g, const float* x, float* col, int64_t gn) {
  const int64_t KKC = g.KH * g.KW * g.C, P = g.OH * g.OW;
  CNN_GRID_LOOP(i, gn * P * KKC) {
    const int64_t k = i % KKC, row = i / KKC;
    const int64_t c = k % g.C, kw = (k / g.C) % g.KW, kh = k / (g.C * g.KW);
    const int64_t p = row % P, n = row / P;
    const int64_t ih = (p / g.OW) * g.SH + kh * g.DH - g.PT, iw = (p % g.OW) * g.SW + kw * g.DW - g.PL;
    col[i] = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? x[((n * g.H + ih) * g.W + iw) * g.C + c] : 0.0f;
  }
}

// dx (gn, H, W, C) += the col entries each input value fed.
__global__ void col2im_kernel(kernels::ConvGeometry g, const float* col, float* dx, int64_t gn) {
  const int64_t KKC = g.KH * g.KW * g.C;
  CNN_GRID_LOOP(i, gn * g.H * g.W * g.C) {
    const auto [n, h, w, c] = cuda::unflatten_nhwc(i, g.H, g.W, g.C);
    float s = 0.0f;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t th = h + g.PT - kh * g.DH;
      if (th < 0 || th % g.SH) continue;
      const int64_t oh = th / g.SH;
      if (oh >= g.OH) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t tw = w + g.PL - kw * g.DW;
        if (tw < 0 || tw % g.SW) continue;
        const int64_t ow = tw / g.SW;
        if (ow >= g.OW) continue;
        s += col[((n * g.OH + oh) * g.OW + ow) * KKC + (kh * g.KW + kw) * g.C + c];
      }
    }
    dx[i] += s;
  }
}

// y = act(y + b) per (row, column) of a (rows, O) matrix.
__global__ void bias_relu_kernel(float* y, const float* b, int64_t n, int64_t O, bool relu) {
  CNN_GRID_LOOP(i, n) {
    float v = y[i] + (b ? b[i % O] : 0.0f);
    y[i] = relu && v < 0.0f ? 0.0f : v;  // NaN stays NaN, as on the CPU
  }
}

__global__ void relu_mask_kernel(const float* y, const float* dy, float* out, int64_t n) {
  CNN_GRID_LOOP(i, n) out[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

// The inference epilogue: y = act(acc * s + (b * s + t) + residual).
__global__ void epilogue_kernel(float* y, const float* b, const float* scale, const float* shift,
                                const float* residual, int64_t n, int64_t O, bool relu) {
  CNN_GRID_LOOP(i, n) {
    const int64_t o = i % O;
    const float s = scale ? scale[o] : 1.0f;
    const float t = (b ? b[o] : 0.0f) * s + (shift ? shift[o] : 0.0f);
    float v = y[i] * s + t;
    if (residual) v += residual[i];
    y[i] = relu && v < 0.0f ? 0.0f : v;
  }
}

// Images per im2col group: the buffer stays under 256 MiB (at least one image).
int64_t group_size(int64_t N, int64_t P, int64_t KKC) {
  constexpr int64_t kBudgetFloats = int64_t{1} << 26;
  return std::clamp<int64_t>(kBudgetFloats / std::max<int64_t>(1, P * KKC), 1, N);
}

void im2col(const kernels::ConvGeometry& g, const float* x, float* col, int64_t gn) {
  const int64_t n = gn * g.OH * g.OW * g.KH * g.KW * g.C;
  if (!n) return;
  im2col_kernel<<<blocks_for(n), kThreads>>>(g, x, col, gn);
  check_launch("im2col");
}

// The convolution alone, (N, OH, OW, O) without bias.
Tensor conv_forward(const Tensor& x, const Tensor& w, const ConvShape& cs) {
  const kernels::ConvGeometry& g = cs.g;
  const int64_t N = cs.N, P = cs.P, KKC = cs.KKC, O = cs.O, HWC = g.H * g.W * g.C;
  Tensor y = Tensor::empty({N, g.OH, g.OW, O}, Device::CUDA);
  if (cs.pointwise) {
    cuda::gemm(false, false, N * P, O, g.C, 1.0f, ptr(x), g.C, ptr(w), O, 0.0f, ptr(y), O);
    return y;
  }
  const int64_t G = group_size(N, P, KKC);
  const Tensor col = cuda::scratch(G * P * KKC);
  for (int64_t n0 = 0; n0 < N; n0 += G) {
    const int64_t gn = std::min(G, N - n0);
    im2col(g, ptr(x) + n0 * HWC, ptr(col), gn);
    cuda::gemm(false, false, gn * P, O, KKC, 1.0f, ptr(col), KKC, ptr(w), O, 0.0f, ptr(y) + n0 * P * O, O);
  }
  return y;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt) {
  const ConvShape cs = conv_shape(x, w, b, opt);
  Tensor y = conv_forward(x, w, cs);
  const int64_t rows = cs.N * cs.P, O = cs.O;
  if ((b.defined() || opt.relu) && rows * O > 0) {
    bias_relu_kernel<<<blocks_for(rows * O), kThreads>>>(ptr(y), ptr(b), rows * O, O, opt.relu);
    check_launch("conv2d bias");
  }
  const bool relu = opt.relu;
  record(y, "conv2d", {x, w, b}, [x, w, b, cs, relu](const Tensor& out, const float* dy_in) {
    const kernels::ConvGeometry& g = cs.g;
    const int64_t N = cs.N, P = cs.P, KKC = cs.KKC, O = cs.O, C = g.C, HWC = g.H * g.W * g.C;
    const int64_t n_out = N * P * O;
    const float* dy = dy_in;
    Tensor masked;
    if (relu && n_out) {
      masked = cuda::scratch(n_out);
      relu_mask_kernel<<<blocks_for(n_out), kThreads>>>(ptr(out), dy_in, ptr(masked), n_out);
      check_launch("conv2d relu backward");
      dy = ptr(masked);
    }
    if (b.defined() && b.requires_grad()) cuda::add_column_sums(b.device_grad(), dy, N * P, O);
    const bool need_dx = x.requires_grad(), need_dw = w.requires_grad();
    if (cs.pointwise) {
      if (need_dw) cuda::gemm(true, false, C, O, N * P, 1.0f, ptr(x), C, dy, O, 1.0f, w.device_grad(), O);
      if (need_dx) cuda::gemm(false, true, N * P, C, O, 1.0f, dy, O, ptr(w), O, 1.0f, x.device_grad(), C);
      return;
    }
    const int64_t G = group_size(N, P, KKC);
    const Tensor col = cuda::scratch(G * P * KKC);
    for (int64_t n0 = 0; n0 < N; n0 += G) {
      const int64_t gn = std::min(G, N - n0);
      const float* dy_g = dy + n0 * P * O;
      if (need_dw) {
        im2col(g, ptr(x) + n0 * HWC, ptr(col), gn);
        cuda::gemm(true, false, KKC, O, gn * P, 1.0f, ptr(col), KKC, dy_g, O, 1.0f, w.device_grad(), O);
      }
      if (need_dx) {
        cuda::gemm(false, true, gn * P, KKC, O, 1.0f, dy_g, O, ptr(w), O, 0.0f, ptr(col), KKC);
        const int64_t n_in = gn * HWC;
        col2im_kernel<<<blocks_for(n_in), kThreads>>>(g, ptr(col), x.device_grad() + n0 * HWC, gn);
        check_launch("col2im");
      }
    }
  });
  return y;
}

Tensor conv2d_inference(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt,
                        const ConvEpilogue& ep) {
  const ConvShape cs = conv_shape(x, w, b, opt);
  Tensor y = conv_forward(x, w, cs);
  const int64_t O = cs.O, n = cs.N * cs.P * O;
  for (const Tensor* t : {&ep.scale, &ep.shift})
    if (t->defined() && t->shape() != Shape{O})
      shape_fail("conv2d_inference", "scale/shift has shape " + shape_str(t->shape()) +
                                         str_cat(", expected one value per filter (", O, ",)"));
  if (ep.residual.defined() && ep.residual.shape() != y.shape())
    shape_fail("conv2d_inference",
               "residual has shape " + shape_str(ep.residual.shape()) + ", expected " + shape_str(y.shape()));
  if (n) {
    epilogue_kernel<<<blocks_for(n), kThreads>>>(ptr(y), ptr(b), ptr(ep.scale), ptr(ep.shift),
                                                 ptr(ep.residual), n, O, ep.relu);
    check_launch("conv2d_inference epilogue");
  }
  return y;
}

Tensor dense(const Tensor& x, const Tensor& w, const Tensor& b) {
  const DensePlan plan = plan_dense(x, w, b);
  const int64_t M = plan.M, in = plan.in, out = plan.out;
  Tensor y = Tensor::empty(plan.shape, Device::CUDA);
  cuda::gemm(false, false, M, out, in, 1.0f, ptr(x), in, ptr(w), out, 0.0f, ptr(y), out);
  if (b.defined() && M * out > 0) {
    bias_relu_kernel<<<blocks_for(M * out), kThreads>>>(ptr(y), ptr(b), M * out, out, false);
    check_launch("dense bias");
  }
  record(y, "dense", {x, w, b}, [x, w, b, M, in, out](const Tensor&, const float* dy) {
    if (x.requires_grad())
      cuda::gemm(false, true, M, in, out, 1.0f, dy, out, ptr(w), out, 1.0f, x.device_grad(), in);
    if (w.requires_grad())
      cuda::gemm(true, false, in, out, M, 1.0f, ptr(x), in, dy, out, 1.0f, w.device_grad(), out);
    if (b.defined() && b.requires_grad()) cuda::add_column_sums(b.device_grad(), dy, M, out);
  });
  return y;
}

}  // namespace cnn::ops::cuda_impl
