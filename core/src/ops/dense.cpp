// dense: y (M, out) = x (M, in) @ w (in, out) + b, where M is every leading axis.
//   backward: dx (M, in) += dy @ w^T;  dw (in, out) += x^T @ dy;  db += sum_rows(dy)
#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/kernels/gemm.h"
#include "cnn/ops.h"
#include "ops/cpu_ops.h"
#include "ops/shapes.h"

namespace cnn::ops::cpu {

Tensor dense(const Tensor& x, const Tensor& w, const Tensor& b) {
  const DensePlan plan = plan_dense(x, w, b);
  const int64_t M = plan.M, in = plan.in, out = plan.out;
  Tensor y = Tensor::empty(plan.shape);  // the GEMM (beta 0) writes it all
  // The bias rides on the GEMM's epilogue, added to each block of y as it is finished.
  kernels::Epilogue bias;
  bias.shift = b.defined() ? b.data() : nullptr;
  kernels::gemm(false, false, M, out, in, 1.0f, x.data(), in, w.data(), out, 0.0f, y.data(), out,
                b.defined() ? &bias : nullptr);

  record(y, "dense", {x, w, b}, [x, w, b, M, in, out](const Tensor&, const float* dy) {
    if (x.requires_grad()) {
      bool fresh = false;
      float* dx = x.grad_data_for_write(&fresh);
      kernels::gemm(false, true, M, in, out, 1.0f, dy, out, w.data(), out, fresh ? 0.0f : 1.0f, dx, in);
    }
    if (w.requires_grad())
      kernels::gemm(true, false, in, out, M, 1.0f, x.data(), in, dy, out, 1.0f, w.grad_data(), out);
    if (b.defined() && b.requires_grad()) {
      float* db = b.grad_data();
      for (int64_t r = 0; r < M; ++r)
        for (int64_t c = 0; c < out; ++c) db[c] += dy[r * out + c];
    }
  });
  return y;
}

}  // namespace cnn::ops::cpu
