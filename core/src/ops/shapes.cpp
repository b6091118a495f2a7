#include "ops/shapes.h"

#include "cnn/error.h"

namespace cnn::ops {

ConvShape conv_shape(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt) {
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

  return {g, N, O, P, KKC, pointwise};
}

PoolPlan plan_pool(const char* op, const Tensor& x, const Pool2DOptions& opt) {
  if (x.ndim() != 4)
    shape_fail(
        op, "input has shape " + shape_str(x.shape()) + ", expected rank 4 (batch, height, width, channels)");
  if (opt.padding == Padding::Explicit) throw ValueError(str_cat(op, ": padding must be 'valid' or 'same'"));
  const int64_t sh = opt.stride_h > 0 ? opt.stride_h : opt.pool_h;
  const int64_t sw = opt.stride_w > 0 ? opt.stride_w : opt.pool_w;
  AxisGeometry gh = axis_geometry(op, "height", x.dim(1), opt.pool_h, sh, 1, opt.padding);
  AxisGeometry gw = axis_geometry(op, "width", x.dim(2), opt.pool_w, sw, 1, opt.padding);
  return {x.dim(0),   x.dim(1),   x.dim(2), x.dim(3), gh.out,        gw.out,
          opt.pool_h, opt.pool_w, sh,       sw,       gh.pad_before, gw.pad_before};
}

}  // namespace cnn::ops
