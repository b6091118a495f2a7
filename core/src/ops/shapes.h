// Private: an op call's shapes checked and its geometry (conv2d, pooling),
// shared by every backend so all of them refuse the same inputs with the
// same messages.
#pragma once

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

}  // namespace cnn::ops
