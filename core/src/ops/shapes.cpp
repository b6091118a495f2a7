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

ConcatPlan plan_concat(const std::vector<Tensor>& xs, int axis) {
  if (xs.empty()) throw ValueError("concat: no inputs");
  const int rank = xs[0].ndim();
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank)
    throw ShapeError(str_cat("concat: axis out of range for inputs of rank ", rank));
  Shape ys = xs[0].shape();
  ys[axis] = 0;
  for (const Tensor& t : xs) {
    Shape s = t.shape(), expect = xs[0].shape();
    if (t.ndim() == rank) s[axis] = expect[axis] = 0;
    if (s != expect)
      shape_fail("concat", "input shapes " + shape_str(xs[0].shape()) + " and " + shape_str(t.shape()) +
                               " differ outside axis " + std::to_string(axis));
    ys[axis] += t.dim(axis);
  }
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= ys[i];
  for (int i = axis + 1; i < rank; ++i) inner *= ys[i];
  return {ys, axis, outer, inner};
}

DensePlan plan_dense(const Tensor& x, const Tensor& w, const Tensor& b) {
  if (w.ndim() != 2) shape_fail("dense", "kernel has shape " + shape_str(w.shape()) + ", expected (in, out)");
  const int64_t in = w.dim(0), out = w.dim(1);
  if (x.ndim() < 2 || x.dim(-1) != in)
    shape_fail("dense", str_cat("input has shape ", shape_str(x.shape()), ", expected (batch, ", in,
                                ") to match the kernel ", shape_str(w.shape())));
  if (b.defined() && b.shape() != Shape{out})
    shape_fail("dense", "bias has shape " + shape_str(b.shape()) + ", expected " + shape_str({out}));
  Shape ys = x.shape();
  ys.back() = out;
  return {ys, shape_numel(Shape(x.shape().begin(), x.shape().end() - 1)), in, out};
}

BatchNormPlan plan_batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                              const Tensor& moving_mean, const Tensor& moving_var, bool training) {
  if (x.ndim() < 2)
    shape_fail("batch_norm",
               "input has shape " + shape_str(x.shape()) + ", expected at least (batch, channels)");
  const int64_t C = x.dim(-1), M = x.numel() / (C ? C : 1);
  for (const Tensor* t : {&gamma, &beta, &moving_mean, &moving_var})
    if (t->defined() && t->shape() != Shape{C})
      shape_fail("batch_norm", "parameter has shape " + shape_str(t->shape()) + ", expected " +
                                   shape_str({C}) + " for input " + shape_str(x.shape()));
  if (training && M < 1)
    shape_fail("batch_norm",
               "training needs at least one value per channel, got input " + shape_str(x.shape()));
  return {M, C};
}

PadPlan plan_zero_padding(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  if (x.ndim() != 4)
    shape_fail("zero_padding2d", "input has shape " + shape_str(x.shape()) +
                                     ", expected rank 4 (batch, height, width, channels)");
  if (top < 0 || bottom < 0 || left < 0 || right < 0)
    throw ValueError("zero_padding2d: padding must be >= 0");
  const int64_t H = x.dim(1), W = x.dim(2);
  return {x.dim(0), H, W, x.dim(3), H + top + bottom, W + left + right};
}

void check_batch_norm_affine(const Tensor& gamma, const Tensor& beta, const Tensor& moving_mean,
                             const Tensor& moving_var) {
  for (const Tensor* t : {&gamma, &beta, &moving_var})
    if (t->defined() && t->shape() != moving_mean.shape())
      shape_fail("batch_norm_affine", "parameter has shape " + shape_str(t->shape()) + ", expected " +
                                          shape_str(moving_mean.shape()) + " like the moving mean");
}

void check_2d_predictions(const char* op, const Tensor& pred) {
  if (pred.ndim() != 2)
    shape_fail(op, "predictions have shape " + shape_str(pred.shape()) + ", expected (batch, classes)");
}

void check_sparse_labels(const char* op, const Tensor& pred, const Tensor& labels) {
  check_2d_predictions(op, pred);
  const int64_t N = pred.dim(0);
  if (labels.numel() != N || (labels.ndim() == 2 && labels.dim(1) != 1) || labels.ndim() > 2)
    shape_fail(op, "labels have shape " + shape_str(labels.shape()) + ", expected (" + std::to_string(N) +
                       ",) class indices for predictions " + shape_str(pred.shape()));
}

bool same_up_to_trailing_one(const Shape& a, const Shape& b) {
  if (a == b) return true;
  const Shape& longer = a.size() > b.size() ? a : b;
  const Shape& shorter = a.size() > b.size() ? b : a;
  return longer.size() == shorter.size() + 1 && longer.back() == 1 &&
         std::equal(shorter.begin(), shorter.end(), longer.begin());
}

void check_same_targets(const char* op, const Tensor& pred, const Tensor& t) {
  if (!same_up_to_trailing_one(pred.shape(), t.shape()))
    shape_fail(op, "targets have shape " + shape_str(t.shape()) + ", expected " + shape_str(pred.shape()) +
                       " like the predictions");
}

void check_sparse_accuracy(const Tensor& pred, const Tensor& labels) {
  if (pred.ndim() != 2 || labels.numel() != pred.dim(0))
    shape_fail("accuracy", "predictions " + shape_str(pred.shape()) + " and labels " +
                               shape_str(labels.shape()) + " do not match, expected (N, K) and (N,)");
}

void check_categorical_accuracy(const Tensor& pred, const Tensor& targets) {
  if (pred.ndim() != 2 || pred.shape() != targets.shape())
    shape_fail("accuracy", "predictions " + shape_str(pred.shape()) + " and targets " +
                               shape_str(targets.shape()) + " do not match, expected equal (N, K)");
}

void check_binary_accuracy(const Tensor& pred, const Tensor& targets) {
  if (!same_up_to_trailing_one(pred.shape(), targets.shape()))
    shape_fail("accuracy", "predictions " + shape_str(pred.shape()) + " and targets " +
                               shape_str(targets.shape()) + " do not match");
}

}  // namespace cnn::ops
