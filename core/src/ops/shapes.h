// Private: an op call's shapes checked and its geometry (conv2d, pooling),
// shared by every backend so all of them refuse the same inputs with the
// same messages.
#pragma once

#include <vector>

#include "cnn/kernels/im2col.h"
#include "cnn/ops.h"

namespace cnn::ops {

struct ConvShape {
  kernels::ConvGeometry g;
  int64_t N, O;
  int64_t P, KKC;  // output pixels per image, im2col row length
  bool pointwise;  // 1x1, stride 1, unpadded: the NHWC input is already the im2col matrix
};

// x (N, H, W, C), w (KH, KW, C, O), b (O) or undefined; throws ShapeError.
ConvShape conv_shape(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2DOptions& opt);

struct PoolPlan {
  int64_t N, H, W, C, OH, OW, PH, PW, SH, SW, PT, PL;
};

// x (N, H, W, C) pooled by `opt`; `op` names the caller in errors.
PoolPlan plan_pool(const char* op, const Tensor& x, const Pool2DOptions& opt);

// concat: the output shape, and the input blocks it interleaves: `outer`
// blocks (the dims before axis) of each input's dim(axis) * inner values.
struct ConcatPlan {
  Shape shape;
  int axis;
  int64_t outer, inner;
};
ConcatPlan plan_concat(const std::vector<Tensor>& xs, int axis);

// dense: x (..., in) @ w (in, out) + b; M is every leading axis.
struct DensePlan {
  Shape shape;
  int64_t M, in, out;
};
DensePlan plan_dense(const Tensor& x, const Tensor& w, const Tensor& b);

// batch_norm: C channels (the last axis) by M values each.
struct BatchNormPlan {
  int64_t M, C;
};
BatchNormPlan plan_batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                              const Tensor& moving_mean, const Tensor& moving_var, bool training);

// zero_padding2d: the input (N, H, W, C) and the padded output's shape.
struct PadPlan {
  int64_t N, H, W, C, OH, OW;
};
PadPlan plan_zero_padding(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right);

// batch_norm_affine: gamma, beta and the moving variance shaped like the moving mean.
void check_batch_norm_affine(const Tensor& gamma, const Tensor& beta, const Tensor& moving_mean,
                             const Tensor& moving_var);

// Losses: (N, K) predictions, (N,) or (N, 1) class indices, equal shapes.
void check_2d_predictions(const char* op, const Tensor& pred);
void check_sparse_labels(const char* op, const Tensor& pred, const Tensor& labels);
// Equal shapes, or one of them the other with a trailing axis of 1: Keras
// squeezes or expands the targets to the predictions' rank (class_mode
// 'binary' gives (N,) for a Dense(1) output), and the values line up as they are.
bool same_up_to_trailing_one(const Shape& a, const Shape& b);
void check_same_targets(const char* op, const Tensor& pred, const Tensor& targets);
// The accuracy metrics' inputs.
void check_sparse_accuracy(const Tensor& pred, const Tensor& labels);
void check_categorical_accuracy(const Tensor& pred, const Tensor& targets);
void check_binary_accuracy(const Tensor& pred, const Tensor& targets);

}  // namespace cnn::ops
