// conv2d as im2col + GEMM per image; a 1x1 stride-1 unpadded conv is one GEMM
// over the whole batch (NHWC rows are already the "columns").
//   forward:  y_n (OH*OW, O)      = col_n (OH*OW, KKC) @ w (KKC, O) + b
//   backward: dw  (KKC, O)       += col_n^T @ dy_n
//             dcol (OH*OW, KKC)   = dy_n @ w^T, then col2im into dx_n
//             db  (O)            += column sums of dy
// col is recomputed in backward instead of kept: memory over a little time.
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/kernels/gemm.h"
#include "cnn/kernels/im2col.h"
#include "cnn/ops.h"

namespace cnn::ops {

namespace {

void add_bias_rows(float* y, const float* b, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] += b[c];
}

void sum_rows_into(float* db, const float* dy, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) db[c] += dy[r * cols + c];
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt) {
  if (x.ndim() != 4)
    shape_fail("conv2d", "input has shape " + shape_str(x.shape()) +
                             ", expected rank 4 (batch, height, width, channels)");
  if (w.ndim() != 4)
    shape_fail("conv2d", "kernel has shape " + shape_str(w.shape()) +
                             ", expected rank 4 (kernel_h, kernel_w, in_channels, filters)");
  const int64_t N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
  const int64_t KH = w.dim(0), KW = w.dim(1), O = w.dim(3);
  if (w.dim(2) != C)
    shape_fail("conv2d", str_cat("kernel ", shape_str(w.shape()), " expects ", w.dim(2),
                                 " input channels but the input ", shape_str(x.shape()), " has ", C));
  if (b.defined() && b.shape() != Shape{O})
    shape_fail("conv2d", "bias has shape " + shape_str(b.shape()) + ", expected " + shape_str({O}));

  const AxisGeometry gh = axis_geometry("conv2d", "height", H, KH, opt.stride_h, opt.dilation_h, opt.padding,
                                        opt.pad_top, opt.pad_bottom);
  const AxisGeometry gw = axis_geometry("conv2d", "width", W, KW, opt.stride_w, opt.dilation_w, opt.padding,
                                        opt.pad_left, opt.pad_right);
  const kernels::ConvGeometry g{H,
                                W,
                                C,
                                KH,
                                KW,
                                gh.out,
                                gw.out,
                                opt.stride_h,
                                opt.stride_w,
                                opt.dilation_h,
                                opt.dilation_w,
                                gh.pad_before,
                                gw.pad_before};
  const int64_t P = g.OH * g.OW, KKC = KH * KW * C;
  const bool pointwise = KH == 1 && KW == 1 && opt.stride_h == 1 && opt.stride_w == 1 && gh.pad_before == 0 &&
                         gh.pad_after == 0 && gw.pad_before == 0 && gw.pad_after == 0;

  Tensor y({N, g.OH, g.OW, O});  // (N, OH, OW, O)
  if (pointwise) {
    kernels::gemm(false, false, N * P, O, C, 1.0f, x.data(), C, w.data(), O, 0.0f, y.data(), O);
  } else {
    std::vector<float> col(static_cast<size_t>(P * KKC));  // (OH*OW, KH*KW*C)
    for (int64_t n = 0; n < N; ++n) {
      kernels::im2col(g, x.data() + n * H * W * C, col.data());
      kernels::gemm(false, false, P, O, KKC, 1.0f, col.data(), KKC, w.data(), O, 0.0f, y.data() + n * P * O,
                    O);
    }
  }
  if (b.defined()) add_bias_rows(y.data(), b.data(), N * P, O);

  record(y, "conv2d", {x, w, b}, [x, w, b, g, N, P, KKC, O, pointwise](const Tensor&, const float* dy) {
    const int64_t C = g.C, HWC = g.H * g.W * g.C;
    if (b.defined() && b.requires_grad()) sum_rows_into(b.grad_data(), dy, N * P, O);
    const bool need_dx = x.requires_grad(), need_dw = w.requires_grad();
    if (pointwise) {
      if (need_dw) kernels::gemm(true, false, C, O, N * P, 1.0f, x.data(), C, dy, O, 1.0f, w.grad_data(), O);
      if (need_dx) kernels::gemm(false, true, N * P, C, O, 1.0f, dy, O, w.data(), O, 1.0f, x.grad_data(), C);
      return;
    }
    std::vector<float> col(static_cast<size_t>(P * KKC));
    float* dw = need_dw ? w.grad_data() : nullptr;
    float* dx = need_dx ? x.grad_data() : nullptr;
    for (int64_t n = 0; n < N; ++n) {
      const float* dy_n = dy + n * P * O;
      if (need_dw) {
        kernels::im2col(g, x.data() + n * HWC, col.data());
        kernels::gemm(true, false, KKC, O, P, 1.0f, col.data(), KKC, dy_n, O, 1.0f, dw, O);
      }
      if (need_dx) {
        kernels::gemm(false, true, P, KKC, O, 1.0f, dy_n, O, w.data(), O, 0.0f, col.data(), KKC);
        kernels::col2im_add(g, col.data(), dx + n * HWC);
      }
    }
  });
  return y;
}

}  // namespace cnn::ops
