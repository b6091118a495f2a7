// CPU ops that move values without arithmetic on them (zero padding,
// concat) and the two element-wise combinations (add, scale).
#include <algorithm>
#include <cstring>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "ops/cpu_ops.h"
#include "ops/shapes.h"

namespace cnn::ops::cpu {

Tensor zero_padding2d(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  const PadPlan p = plan_zero_padding(x, top, bottom, left, right);
  const int64_t N = p.N, H = p.H, W = p.W, C = p.C, OH = p.OH, OW = p.OW;
  // Each output row is written once (border zeros, then the image row), rows
  // split across threads.
  Tensor y = Tensor::empty({N, OH, OW, C});
  const float* xs = x.data();
  float* ys = y.data();
  parallel_for(N * OH, std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, OW * C)),
               [=](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const int64_t n = r / OH, oh = r % OH, h = oh - top;
                   float* out = ys + r * OW * C;
                   if (h < 0 || h >= H) {
                     std::fill(out, out + OW * C, 0.0f);
                     continue;
                   }
                   std::fill(out, out + left * C, 0.0f);
                   std::memcpy(out + left * C, xs + (n * H + h) * W * C,
                               static_cast<size_t>(W * C) * sizeof(float));
                   std::fill(out + (left + W) * C, out + OW * C, 0.0f);
                 }
               });
  record(y, "zero_padding2d", {x}, [x, N, H, W, C, OH, OW, top, left](const Tensor&, const float* dy) {
    float* dx = x.grad_data();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        accumulate(dx + (n * H + h) * W * C, dy + ((n * OH + h + top) * OW + left) * C, W * C);
  });
  return y;
}

Tensor add(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    shape_fail("add", "inputs have shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                          ", expected equal shapes");
  Tensor y = Tensor::empty(a.shape());
  const float *pa = a.data(), *pb = b.data();
  float* py = y.data();
  parallel_elementwise(y.numel(), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) py[i] = pa[i] + pb[i];
  });
  record(y, "add", {a, b}, [a, b](const Tensor& out, const float* dy) {
    if (a.requires_grad()) accumulate(a.grad_data(), dy, out.numel());
    if (b.requires_grad()) accumulate(b.grad_data(), dy, out.numel());
  });
  return y;
}

Tensor sum_product(const Tensor& x, const Tensor& g) {
  if (x.shape() != g.shape())
    shape_fail("sum_product", "inputs have shapes " + shape_str(x.shape()) + " and " + shape_str(g.shape()) +
                                  ", expected equal shapes");
  double s = 0.0;
  for (int64_t i = 0, n = x.numel(); i < n; ++i) s += static_cast<double>(x[i]) * g[i];
  Tensor y(Shape{});
  y[0] = static_cast<float>(s);
  record(y, "sum_product", {x}, [x, g](const Tensor&, const float* dy) {
    float* dx = x.grad_data();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) dx[i] += dy[0] * g[i];
  });
  return y;
}

Tensor scale_shift(const Tensor& x, float scale, float offset) {
  Tensor y(x.shape());
  for (int64_t i = 0, n = y.numel(); i < n; ++i) y[i] = x[i] * scale + offset;
  record(y, "scale_shift", {x}, [x, scale](const Tensor& out, const float* dy) {
    float* dx = x.grad_data();
    for (int64_t i = 0, n = out.numel(); i < n; ++i) dx[i] += dy[i] * scale;
  });
  return y;
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  const ConcatPlan plan = plan_concat(xs, axis);
  const Shape& ys = plan.shape;
  axis = plan.axis;
  // outer: product of dims before axis; each input contributes a chunk per outer.
  const int64_t outer = plan.outer, inner = plan.inner;
  Tensor y(ys);
  const int64_t out_chunk = ys[axis] * inner;
  int64_t at = 0;
  std::vector<int64_t> offsets;
  for (const Tensor& t : xs) {
    const int64_t chunk = t.dim(axis) * inner;
    offsets.push_back(at);
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(y.data() + o * out_chunk + at, t.data() + o * chunk,
                  static_cast<size_t>(chunk) * sizeof(float));
    at += chunk;
  }
  record(y, "concat", xs, [xs, offsets, outer, inner, out_chunk, axis](const Tensor&, const float* dy) {
    for (size_t k = 0; k < xs.size(); ++k) {
      if (!xs[k].requires_grad()) continue;
      const int64_t chunk = xs[k].dim(axis) * inner;
      float* dx = xs[k].grad_data();
      for (int64_t o = 0; o < outer; ++o) accumulate(dx + o * chunk, dy + o * out_chunk + offsets[k], chunk);
    }
  });
  return y;
}

}  // namespace cnn::ops::cpu
